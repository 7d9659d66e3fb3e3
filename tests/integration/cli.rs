//! The real binary: start-up banner, graceful SIGTERM, one-sentence errors.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{eventually, Fixture};

fn vidserve() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vidserve"));
    c.env_remove("CACHE_TTL").env_remove("RUST_LOG");
    c
}

/// Runs to completion and checks that it failed with one clear line.
fn fails_clearly(out: Output, wanted: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {stderr}");
    assert!(stderr.contains(wanted), "{wanted:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
    let error_lines = stderr.lines().filter(|l| l.starts_with("vidserve: ")).count();
    assert_eq!(error_lines, 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_then_stops_cleanly_on_sigterm() {
    let fx = Fixture::new();
    fx.mp4("clip.mp4", 1000, 500);
    fx.mp4("big.mp4", 30_000_000, 1350);
    let data = tempfile::tempdir().unwrap();
    let mut child = vidserve()
        .args(["--dir"])
        .arg(fx.path())
        .arg("--data")
        .arg(data.path())
        .args(["--bind", "127.0.0.1:0", "--log", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = local_url(&mut child).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = crate::support::client_builder().build().unwrap();
    // Ready once the first scan ran.
    eventually(Duration::from_secs(30), "the server ready (/readyz)", || async {
        client.get(format!("{url}readyz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let body = client.get(format!("{url}video/clip.mp4")).send().await.unwrap().bytes().await.unwrap();
    let clip_len = std::fs::metadata(fx.path().join("clip.mp4")).unwrap().len();
    assert_eq!(body.len() as u64, clip_len);

    // A stream still running at shutdown (its response never read, so it
    // stalls), on one of the connection threads: it gets the drain, then
    // is cut.
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut open = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut open, b"GET /video/big.mp4 HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    // Under way: the server counts bytes of it (beyond the clip's).
    eventually(Duration::from_secs(10), "the stream of big.mp4 under way", || async {
        let Ok(res) = client.get(format!("{url}metrics")).send().await else { return false };
        let text = res.text().await.unwrap_or_default();
        let streamed = text.lines().find_map(|l| l.strip_prefix("vidserve_bytes_streamed_total "));
        streamed.and_then(|v| v.trim().parse::<f64>().ok()).is_some_and(|n| n > clip_len as f64)
    })
    .await;

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let started = std::time::Instant::now();
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0), "graceful exit");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(4), "the stream in flight had its drain: {took:?}");
    assert!(took < Duration::from_secs(20), "the drain is bounded: {took:?}");
    drop(open);
}

#[test]
fn bad_input_exits_with_one_clear_sentence() {
    let fx = Fixture::new();
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| vidserve().args(args).arg("--data").arg(data.path()).output().unwrap();

    fails_clearly(run(&["--dir", "/no/such/dir/anywhere"]), "does not exist");
    // No default folder: one started in / must not publish the disk.
    fails_clearly(vidserve().env_remove("VIDSERVE_DIR").output().unwrap(), "no video directory given");
    fails_clearly(vidserve().env_remove("VIDSERVE_DIR").output().unwrap(), "--dir . for this folder");
    let file = fx.write("file.mp4", b"x");
    fails_clearly(run(&["--dir", file.to_str().unwrap()]), "is not a directory");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    fails_clearly(run(&["--dir", fx.path().to_str().unwrap(), "--bind", &bind]), "already in use");

    let not_dir = fx.path().join("file.mp4").join("data");
    let out = vidserve().args(["--dir", fx.path().to_str().unwrap(), "--data", not_dir.to_str().unwrap()]).output();
    fails_clearly(out.unwrap(), "cannot be created or written");

    let bad_ttl = vidserve().env("CACHE_TTL", "soon").args(["--dir", fx.path().to_str().unwrap()]).output();
    fails_clearly(bad_ttl.unwrap(), "CACHE_TTL must be a whole number");

    let out = vidserve().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn corrupt_database_names_the_file() {
    let fx = Fixture::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("vidserve.redb"), vidserve::library::probe::synth::noise(50_000, 1)).unwrap();
    let out = vidserve()
        .args(["scan", "--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .output()
        .unwrap();
    fails_clearly(out, "vidserve.redb is damaged");
    // The damaged file is left for the user to inspect.
    assert_eq!(std::fs::metadata(data.path().join("vidserve.redb")).unwrap().len(), 50_000);
}

#[test]
fn scan_subcommand_summarises() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 510);
    fx.mp4("b/c.mp4", 1000, 511);
    fx.write("broken.webm", b"nope");
    let data = tempfile::tempdir().unwrap();
    let scan = |data: &Path| {
        vidserve().args(["scan", "--dir", fx.path().to_str().unwrap(), "--data", data.to_str().unwrap()]).output()
    };
    let out = scan(data.path()).unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("2 videos (1 broken, 0 duplicate paths) from 3 files"), "{text}");
    assert!(text.contains("3 hashed, 3 probed"), "{text}");
    assert!(text.contains("broken: ") && text.contains("broken.webm"), "{text}");
    let again = String::from_utf8_lossy(&scan(data.path()).unwrap().stdout).to_string();
    assert!(again.contains("0 hashed, 0 probed"), "{again}");
}

#[test]
fn doctor_completions_and_man_page() {
    let fx = Fixture::new();
    fx.mp4("fine.mp4", 1000, 900);
    fx.write("late.mp4", &vidserve::library::probe::synth::mp4_file(&[1u8; 3000], true));
    fx.write("broken.mkv", b"not a video");
    // Index first, media data cut off (an interrupted copy): broken, not a
    // video that freezes when played.
    let whole = vidserve::library::probe::synth::mp4_file(&[2u8; 3000], false);
    fx.write("cut.mp4", &whole[..whole.len() - 500]);
    let data = tempfile::tempdir().unwrap();
    let out = vidserve()
        .args(["doctor", "--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .args(["--ffmpeg", "/no/such/ffmpeg"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "problems found: exit 1\n{text}");
    assert!(text.contains("ffmpeg: not found"), "{text}");
    assert!(text.contains("ok   data dir:") && text.contains("ok   database:"), "{text}");
    // An index at the end is the server's to handle (it remuxes), not a fix.
    assert!(!text.contains("late.mp4") && text.contains("ok   1 video played through a remux"), "{text}");
    assert!(text.contains("FIX  broken:") && text.contains("broken.mkv"), "{text}");
    assert!(text.contains("cut.mp4: damaged MP4 file: cut short"), "{text}");
    assert!(text.contains("2 thing(s) to fix"), "{text}");

    let missing = vidserve().args(["doctor", "--dir", "/no/such/dir"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("FIX  the video directory /no/such/dir does not exist"));

    for shell in ["bash", "zsh", "fish"] {
        let out = vidserve().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("vidserve") && script.contains("dir") && script.contains("thumbnails"), "{shell}");
    }
    let healthy = Fixture::new();
    healthy.mp4("fine.mp4", 1000, 900);
    let out = vidserve()
        .args(["doctor", "--dir", healthy.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .args(["--ffmpeg", "/no/such/ffmpeg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));

    let man = vidserve().arg("man").output().unwrap();
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH vidserve") && page.contains("\\-\\-dir"), "{page}");
}

/// `--help` names the data dir it would use here, not a variable's name.
#[test]
fn help_shows_the_data_dir_it_would_use() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["user", "--help"], &["export", "--help"]] {
        let out = vidserve().args(args).env("HOME", home.path()).env_remove("XDG_DATA_HOME").output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let expected = format!("[default: {}]", home.path().join(".local/share/vidserve").display());
        assert!(text.contains(&expected) && !text.contains("$XDG_DATA_HOME"), "{args:?}: {text}");
    }
}

/// The doctor agrees with the server: a Matroska film with AC-3 sound plays
/// (remuxed, its sound remade by ffmpeg); without ffmpeg its sound would
/// not, and that is what the doctor says.
#[test]
fn doctor_agrees_with_the_server() {
    let fx = Fixture::new();
    crate::support::ffmpeg(
        &fx.path().join("film.mkv"),
        &["-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=10", "-f", "lavfi", "-i", "sine=d=1"]
            .into_iter()
            .chain(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "ac3"])
            .collect::<Vec<_>>(),
    );
    let data = tempfile::tempdir().unwrap();
    let doctor = |ffmpeg: Option<&str>| {
        let mut c = vidserve();
        c.args(["doctor", "--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()]);
        if let Some(f) = ffmpeg {
            c.args(["--ffmpeg", f]);
        }
        c.output().unwrap()
    };
    // ffmpeg from PATH.
    let with = doctor(None);
    let text = String::from_utf8_lossy(&with.stdout);
    assert_eq!(with.status.code(), Some(0), "{text}");
    assert!(text.contains("1 video played through a remux") && text.contains("all good"), "{text}");
    let without = doctor(Some("/no/such/ffmpeg"));
    let text = String::from_utf8_lossy(&without.stdout);
    assert_eq!(without.status.code(), Some(1), "{text}");
    assert!(text.contains("FIX  no sound in browsers:") && text.contains("film.mkv") && text.contains("ac3"), "{text}");
}

/// A folder the server may not read (a disk's `lost+found`) costs only
/// itself: the rest of its root is still watched, folders made later beside
/// it too, and no polling is needed. Runs the server as `nobody` (needs
/// root to switch, and `setpriv`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_folder_keeps_notifications_for_the_rest() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !setpriv.exists() {
        crate::support::skip("runs as root with setpriv, to serve as another user");
        return;
    }
    let fx = Fixture::new();
    fx.mp4("films/a.mp4", 1000, 1410);
    std::fs::create_dir(fx.path().join("lost+found")).unwrap();
    std::fs::set_permissions(fx.path().join("lost+found"), std::fs::Permissions::from_mode(0o700)).unwrap();
    let data = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(data.path(), Some(65534), Some(65534)).unwrap();
    for dir in [fx.path().to_path_buf(), fx.path().join("films")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(fx.path().join("films/a.mp4"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut child = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_vidserve"), "--dir"])
        .arg(fx.path())
        .arg("--data")
        .arg(data.path())
        .args(["--bind", "127.0.0.1:0", "--log", "warn", "--cache-ttl", "3600"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = local_url(&mut child).await;
    let client = crate::support::client_builder().build().unwrap();
    let total = || async {
        let v: serde_json::Value =
            client.get(format!("{url}api/v1/videos")).send().await.unwrap().json().await.unwrap();
        v["total"].as_u64().unwrap_or(0)
    };
    eventually(Duration::from_secs(30), "the first scan", || async { total().await == 1 }).await;
    // A folder made beside the unreadable one, a video in it (found by the
    // rescan its creation causes), then another: found only if the new
    // folder is watched (no polling here).
    let deeper = fx.path().join("new/deeper");
    std::fs::create_dir_all(&deeper).unwrap();
    for dir in [fx.path().join("new"), deeper.clone()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    video_in(&deeper.join("b.mp4"), 1411);
    eventually(Duration::from_secs(20), "the video in the new folder", || async { total().await == 2 }).await;
    video_in(&deeper.join("c.mp4"), 1412);
    eventually(Duration::from_secs(20), "a later video in the new folder", || async { total().await == 3 }).await;
    let _ = child.kill();
    let _ = child.wait();
}

/// A synthetic video at `path`, readable by all.
fn video_in(path: &std::path::Path, seed: u64) {
    use std::os::unix::fs::PermissionsExt;
    let synth = &vidserve::library::probe::synth::mp4_file(&vidserve::library::probe::synth::noise(1000, seed), false);
    std::fs::write(path, synth).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// The `Local:` URL a started server prints.
async fn local_url(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().unwrap();
    tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| l.trim().strip_prefix("Local:").map(|u| u.trim().to_string()))
    })
    .await
    .unwrap()
    .expect("a Local: URL line")
}

/// A Matroska film cut short (an interrupted copy) stays listed, with the
/// length that plays, and the doctor says it is cut short.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_matroska_film_shows_the_length_that_plays() {
    let fx = Fixture::new();
    let whole = fx.path().join("whole.mkv");
    crate::support::ffmpeg(
        &whole,
        &["-f", "lavfi", "-i", "testsrc=duration=8:size=64x48:rate=10", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
            .into_iter()
            .chain(["-g", "10", "-cluster_time_limit", "1000"])
            .collect::<Vec<_>>(),
    );
    let bytes = std::fs::read(&whole).unwrap();
    std::fs::remove_file(&whole).unwrap();
    fx.write("cut.mkv", &bytes[..bytes.len() / 2]);
    let data = tempfile::tempdir().unwrap();
    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let out = vidserve().args(["scan", "--dir", dir, "--data", data_dir]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1 video (0 broken"), "listed, not broken");
    let srv =
        crate::support::TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let ms = srv.videos().await[0]["duration_ms"].as_u64().expect("a length");
    srv.stop().await;
    assert!((1000..7000).contains(&ms), "the length that plays, not the 8 s the header says: {ms} ms");
    let out = vidserve().args(["doctor", "--data", data_dir, "--ffmpeg", "/no/such/ffmpeg"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("cut short: ") && text.contains("cut.mkv") && text.contains("it plays the first 0:0"),
        "{text}"
    );
}
