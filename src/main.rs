use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vidserve::cli::Cli::parse();
    vidserve::logging::init(&cli.log);
    match vidserve::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vidserve: {err}");
            ExitCode::from(2)
        }
    }
}
