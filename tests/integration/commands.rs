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

/// Commands that only read work while the server runs (reading what it
/// has committed) and without `--dir` (the folders of the last scan);
/// commands that write say why they cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_commands_work_beside_a_running_server_and_without_dir() {
    use crate::support::{Options, TestServer};
    let fx = Fixture::new();
    fx.mp4("clip.mp4", 1000, 41);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let id = srv.id_of("clip.mp4").await;
    let res = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))).json(&serde_json::json!({ "rating": 4 }));
    assert_eq!(res.send().await.unwrap().status(), 200);
    let data_dir = data.path().to_str().unwrap();
    let run = |args: &[&str]| {
        let out = vidserve().args(args).args(["--data", data_dir]).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Export, without --dir, while the server runs: the rating just made is there.
    let (code, out, err) = run(&["export"]);
    assert_eq!(code, Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["ratings"]["clip.mp4"], 4, "{out}");
    let (code, out, err) = run(&["doctor"]);
    assert!(code.is_some_and(|c| c <= 1), "{out}{err}");
    assert!(out.contains("vidserve is serving this data dir") && out.contains("1 video"), "{out}");
    let (code, out, _) = run(&["user", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no accounts"), "{out}");
    // Writing is refused, saying why.
    let out = vidserve().args(["user", "add", "zoe", "--no-password", "--data", data_dir]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use by another vidserve"));
    srv.stop().await;
    // Stopped: import without --dir uses the folders of the last scan.
    let file = data.path().join("ratings.json");
    std::fs::write(&file, r#"{"clip.mp4": 2}"#).unwrap();
    let (code, out, err) = run(&["import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("matched 1 name"), "{out}");
    // A data dir that never scanned asks for --dir.
    let empty = tempfile::tempdir().unwrap();
    let out = vidserve().args(["export", "--data", empty.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dir"));
}
