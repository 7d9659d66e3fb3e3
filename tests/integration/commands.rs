//! The command line's edges: global options anywhere, exit codes, output
//! into closed pipes and non-terminals, whole error chains.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::support::Fixture;

fn vidserve() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vidserve"));
    c.env_remove("CACHE_TTL").env_remove("RUST_LOG").env_remove("NO_COLOR");
    c
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let fx = Fixture::new();
    fx.mp4("clip.mp4", 1000, 40);
    let data = tempfile::tempdir().unwrap();
    let (dir, data) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    for args in [
        vec!["--dir", dir, "--data", data, "scan"],
        vec!["scan", "--dir", dir, "--data", data],
        vec!["--data", data, "scan", "--dir", dir],
        vec!["--log", "warn", "--dir", dir, "export", "--data", data],
    ] {
        let out = vidserve().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    // An option only the server takes is refused with a subcommand, not ignored.
    let out = vidserve().args(["--port", "9", "scan", "--dir", dir, "--data", data]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port is an option of the server"));
}

#[test]
fn a_closed_pipe_is_a_normal_end() {
    for args in [&["man"][..], &["completions", "bash"][..]] {
        let mut child = vidserve().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take()); // like `| head -0`: the reader is gone
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn logs_have_no_colours_off_a_terminal() {
    let fx = Fixture::new();
    let data = tempfile::tempdir().unwrap();
    // `scan` logs nothing at info; `thumbnails` logs that there is no ffmpeg.
    let out = vidserve()
        .args(["thumbnails", "--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .args(["--ffmpeg", "/no/such/ffmpeg"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO") || stderr.contains("WARN"), "a log line was written: {stderr}");
    assert!(!stderr.contains('\x1b'), "no escape codes in a pipe: {stderr:?}");
}

#[test]
fn errors_print_their_whole_chain() {
    let fx = Fixture::new();
    let data = tempfile::tempdir().unwrap();
    let out = vidserve()
        .args(["export", "--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .args(["-o", "/no/such/dir/export.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The context and its cause, on one line.
    assert!(stderr.contains("cannot write /no/such/dir/export.json: No such file or directory"), "{stderr}");
}
