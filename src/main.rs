use std::process::ExitCode;

/// mimalloc gives freed pages back to the system as it goes: a long-running
/// server's memory follows what it holds, not the peak of its last scan.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vidserve::app::prefer_small_pages();
    vidserve::app::return_freed_pages_at_once();
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
