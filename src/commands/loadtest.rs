//! `vidserve loadtest URL`: the built-in load test from the command line.

use std::io::Write;
use std::sync::Arc;

use crate::cli::LoadtestArgs;

/// `vidserve loadtest URL`: bounded, loopback only.
pub fn loadtest(args: &LoadtestArgs) -> anyhow::Result<()> {
    let addr = crate::loadtest::loopback_target(&args.url)?;
    if args.scenario.writes() && !args.allow_writes {
        anyhow::bail!(
            "the {:?} scenario adds real views to the library it targets; pass --allow-writes to run it \
             (against a test library)",
            args.scenario
        );
    }
    let who = match &args.token {
        Some(t) => {
            let value = hyper::header::HeaderValue::from_str(&format!("Bearer {}", t.trim()))
                .map_err(|_| anyhow::anyhow!("the token has characters a header cannot carry"))?;
            Some((hyper::header::AUTHORIZATION, value))
        }
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let duration = std::time::Duration::from_secs(args.duration.max(1));
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let report = rt.block_on(async {
        // A live progress line on a terminal.
        let progress = std::io::IsTerminal::is_terminal(&std::io::stdout()).then(|| {
            let done = done.clone();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let n = done.load(std::sync::atomic::Ordering::Relaxed);
                    let s = started.elapsed().as_secs_f64();
                    let _ = write!(std::io::stdout(), "\r{s:.0} s: {n} requests, {:.0} req/s   ", n as f64 / s);
                    let _ = std::io::stdout().flush();
                }
            })
        });
        let report = crate::loadtest::run(addr, args.scenario, args.connections, duration, done.clone(), who).await;
        if let Some(p) = progress {
            p.abort();
            let _ = write!(std::io::stdout(), "\r");
        }
        report
    })?;
    let _ = writeln!(std::io::stdout(), "{report}");
    Ok(())
}
