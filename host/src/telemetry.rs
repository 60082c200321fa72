//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`). Secrets never reach
//! the log: they exist only as [`crate::vault::Secret`], whose `Debug` is redacted, and the
//! egress path scrubs them from everything it reports.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; safe to call more than once (later calls do nothing).
pub fn init() {
    init_with(None);
}

/// Installs the subscriber with `extra` directives (`target=level,…`) added to `RUST_LOG`'s.
pub fn init_with(extra: Option<&str>) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in extra.into_iter().flat_map(|e| e.split(',')) {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
