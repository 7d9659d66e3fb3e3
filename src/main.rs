use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = vidserve::cli::Cli::parse();
    vidserve::logging::init(&cli.log);
    match vidserve::run(cli) {
        Ok(vidserve::Outcome::Done) => ExitCode::SUCCESS,
        Ok(vidserve::Outcome::Problems) => ExitCode::from(1),
        Err(err) => {
            eprintln!("vidserve: {err:#}");
            ExitCode::from(2)
        }
    }
}
