//! The shipped systemd unit: it verifies, its exposure score stays low, and
//! the real binary runs under the unit's own system-call filter (built here
//! from `SystemCallFilter=` and `SystemCallErrorNumber=`, groups expanded by
//! `systemd-analyze syscall-filter`) — serving pages, ranges and making a
//! thumbnail with ffmpeg. Needs systemd-analyze: required in CI (`CI` set),
//! a loud skip elsewhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};

use crate::support::{eventually, ffmpeg, Fixture};

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/vidserve.service");

fn systemd_analyze() -> bool {
    if Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    crate::support::skip("no systemd-analyze on this machine (apt-get install systemd)");
    false
}

/// The system calls of a `@group`, nested groups expanded.
fn expand(group: &str, out: &mut BTreeSet<String>) {
    let listing = Command::new("systemd-analyze").args(["syscall-filter", group]).output().unwrap();
    assert!(listing.status.success(), "unknown group {group}");
    for line in String::from_utf8_lossy(&listing.stdout).lines().skip(1) {
        let name = line.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        if name.starts_with('@') {
            expand(name, out);
        } else {
            out.insert(name.to_string());
        }
    }
}

/// What systemd builds from the unit: the allowed system calls and the
/// action for any other (EPERM with `SystemCallErrorNumber=EPERM`, else
/// the process is killed). Only the allow-list form is handled (the unit
/// starts with one; a deny-list start fails the test).
fn unit_filter(unit: &str) -> (BTreeSet<String>, SeccompAction) {
    let mut allowed = BTreeSet::new();
    let mut first = true;
    let mut action = SeccompAction::KillProcess;
    for line in unit.lines() {
        if let Some(v) = line.strip_prefix("SystemCallErrorNumber=") {
            assert_eq!(v.trim(), "EPERM", "only EPERM is modelled");
            action = SeccompAction::Errno(libc::EPERM as u32);
        }
        let Some(v) = line.strip_prefix("SystemCallFilter=") else { continue };
        let (deny, list) = match v.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, v),
        };
        assert!(!(first && deny), "the unit's filter must start as an allow list");
        first = false;
        let mut names = BTreeSet::new();
        for item in list.split_whitespace() {
            if item.starts_with('@') {
                expand(item, &mut names);
            } else {
                names.insert(item.to_string());
            }
        }
        if deny {
            allowed.retain(|n| !names.contains(n));
        } else {
            allowed.extend(names);
        }
    }
    // Always allowed by systemd (systemd.exec(5)): exec, exit, signals
    // returns, getrlimit, time and sleeping.
    for n in [
        "execve",
        "exit",
        "exit_group",
        "getrlimit",
        "rt_sigreturn",
        "sigreturn",
        "clock_gettime",
        "clock_getres",
        "gettimeofday",
        "time",
        "nanosleep",
        "clock_nanosleep",
    ] {
        allowed.insert(n.to_string());
    }
    (allowed, action)
}

/// System call numbers of this machine (x86-64), from the kernel headers.
fn syscall_numbers() -> HashMap<String, i64> {
    let header = std::fs::read_to_string("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
        .expect("kernel headers (linux-libc-dev) give the system call numbers");
    header
        .lines()
        .filter_map(|l| l.strip_prefix("#define __NR_"))
        .filter_map(|l| {
            let (name, nr) = l.split_once(' ')?;
            Some((name.to_string(), nr.trim().parse().ok()?))
        })
        .collect()
}

fn bpf(allowed: &BTreeSet<String>, mismatch: SeccompAction) -> BpfProgram {
    let numbers = syscall_numbers();
    let rules: BTreeMap<i64, Vec<seccompiler::SeccompRule>> =
        allowed.iter().filter_map(|n| numbers.get(n)).map(|&nr| (nr, vec![])).collect();
    assert!(rules.len() > 200, "the filter allows a service's usual calls ({})", rules.len());
    let filter = SeccompFilter::new(rules, mismatch, SeccompAction::Allow, TargetArch::x86_64).unwrap();
    filter.try_into().unwrap()
}

#[test]
fn the_unit_verifies_and_scores_low() {
    if !systemd_analyze() {
        return;
    }
    let unit = std::fs::read_to_string(UNIT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vidserve.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/vidserve", env!("CARGO_BIN_EXE_vidserve"))).unwrap();
    let verify = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    let said = String::from_utf8_lossy(&verify.stderr).to_string() + &String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    let security = Command::new("systemd-analyze").args(["security", "--offline=true"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&security.stdout);
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for vidserve.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in {text}"));
    assert!(score < 2.0, "exposure {score}");
    for wanted in ["LimitNOFILE=", "IPAddressDeny=any", "IPAddressAllow=localhost", "SystemCallErrorNumber=EPERM"] {
        assert!(unit.contains(wanted), "the unit sets {wanted}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_runs_under_the_units_syscall_filter() {
    if !systemd_analyze() || !cfg!(target_arch = "x86_64") {
        if cfg!(target_arch = "x86_64") {
            return; // said by systemd_analyze
        }
        crate::support::skip("the seccomp check runs on x86-64 only");
        return;
    }
    let (allowed, mismatch) = unit_filter(&std::fs::read_to_string(UNIT).unwrap());
    assert!(allowed.contains("sched_setscheduler") && !allowed.contains("setrlimit"), "as the unit says");
    let program = bpf(&allowed, mismatch);

    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("clip.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=10", "-c:v", "libvpx"],
    );
    let data = tempfile::tempdir().unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let ffmpeg_bin =
        std::env::split_paths(&path).map(|d| d.join("ffmpeg")).find(|p| p.is_file()).expect("ffmpeg on PATH");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vidserve"));
    cmd.args(["--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
        .args(["--bind", "127.0.0.1:0", "--log", "warn"])
        .arg("--ffmpeg")
        .arg(&ffmpeg_bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only the filter is installed (prctl and
    // seccomp calls on a program built before the fork).
    unsafe {
        cmd.pre_exec(move || seccompiler::apply_filter(&program).map_err(std::io::Error::other));
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.trim().strip_prefix("Local:").map(|u| u.trim().to_string()));
        std::thread::spawn(move || lines.for_each(drop));
        url
    })
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no banner; the server died: {:?}", child.try_wait()));
    let client = crate::support::client_builder().build().unwrap();
    let list = || async {
        let res = client.get(format!("{url}api/v1/videos")).send().await.ok()?;
        res.json::<serde_json::Value>().await.ok()
    };
    eventually(Duration::from_secs(30), "the gallery lists the clip", || async {
        list().await.is_some_and(|v| v["total"] == 1)
    })
    .await;
    let videos = list().await.unwrap();
    let id = videos["videos"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    let range = client.get(format!("{url}video/{id}")).header("range", "bytes=0-99").send().await.unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.bytes().await.unwrap().len(), 100);
    eventually(Duration::from_secs(60), "ffmpeg makes the thumbnail under the filter", || async {
        client.get(format!("{url}thumb/{id}/320")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    assert!(child.try_wait().unwrap().is_none(), "still running");
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0), "a clean stop under the filter");
}
