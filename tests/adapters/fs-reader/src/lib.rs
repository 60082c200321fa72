//! Tries to read a host file through `wasi:filesystem`. Its import of `wasi:filesystem` must make
//! the host refuse the whole component at load time.

use jack_pms_sdk::prelude::*;

struct FsReader;

impl Adapter for FsReader {
    const VENDOR: &'static str = "fsreader";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = &[Operation::GetReservation];

    fn get_reservation(path: String) -> Result<Option<Reservation>, PmsError> {
        let text = std::fs::read_to_string(&path).map_err(|e| internal(e.to_string()))?;
        Err(internal(text))
    }
}

export_adapter!(FsReader);
