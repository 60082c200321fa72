//! The `jack-pms` binary: parse the command line, start logging, run the command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = jack_pms_host::cli::Cli::parse();
    jack_pms_host::telemetry::init_with(cli.extra_log_directives());
    match jack_pms_host::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
