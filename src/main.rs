use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = vidserve::cli::parse();
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
