//! The deployment recipes in `packaging/`, checked where this machine
//! cannot run them (no container engine): the compose file and the
//! Kubernetes manifests parse and hold what they must (health checks,
//! readiness on /readyz, the proxy trusted, secrets from files), every
//! setting they pass is one vidserve reads, HAProxy accepts its
//! configuration, and the secrets script makes what they read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::skip;

fn packaging(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging").join(rel)
}

/// Every document of a YAML file, as JSON (PyYAML's safe loader).
fn yaml(rel: &str) -> Option<Vec<Value>> {
    let script = "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new("python3").args(["-c", script]).arg(packaging(rel)).output();
    match out {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).expect("PyYAML prints JSON")),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") => {
            skip("no PyYAML (apt-get install python3-yaml, or .ci/run)");
            None
        }
        Ok(o) => panic!("{rel} does not parse: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            skip(&format!("no python3 ({e})"));
            None
        }
    }
}

/// The environment variables vidserve reads, from its own help.
fn settings() -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    for args in [&["serve", "--help"][..], &["migrate", "--help"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_vidserve")).args(args).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        for part in help.split("[env: ").skip(1) {
            all.insert(part.split(['=', ']']).next().unwrap().to_string());
        }
    }
    all
}

fn env_names(env: &Value) -> Vec<String> {
    match env {
        Value::Object(m) => m.keys().cloned().collect(),
        Value::Array(a) => a.iter().filter_map(|e| e["name"].as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_compose_file_runs_two_replicas_on_one_database_behind_a_checking_proxy() {
    let Some(docs) = yaml("compose.yaml") else { return };
    let c = &docs[0];
    let services = c["services"].as_object().unwrap();
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["postgres", "garage", "vidserve-a", "vidserve-b", "proxy"]));
    assert!(c["services"]["postgres"]["healthcheck"]["test"].to_string().contains("pg_isready"));
    let known = settings();
    let proxy_ip = c["services"]["proxy"]["networks"]["back"]["ipv4_address"].as_str().unwrap();
    for name in ["vidserve-a", "vidserve-b"] {
        let s = &c["services"][name];
        let env = &s["environment"];
        for k in env_names(env) {
            assert!(known.contains(&k), "{name} sets {k}, which vidserve does not read");
        }
        let url = env["VIDSERVE_DATABASE_URL"].as_str().unwrap();
        assert!(url.starts_with("postgres://vidserve@postgres:5432/"), "{url}");
        let user = url.trim_start_matches("postgres://").split('@').next().unwrap();
        assert!(!user.contains(':') && !url.contains("password"), "no password in the URL: {url}");
        assert_eq!(env["VIDSERVE_DATABASE_PASSWORD_FILE"], "/run/secrets/db_password");
        assert_eq!(env["VIDSERVE_TRUSTED_PROXY"], proxy_ip, "the proxy's fixed address is the trusted one");
        assert!(env["VIDSERVE_DIR"].as_str().unwrap().starts_with("s3://"));
        assert_eq!(s["volumes"], serde_json::json!(["derived:/data"]), "derived files in one shared volume");
        assert_eq!(s["depends_on"]["postgres"]["condition"], "service_healthy");
        assert_eq!(s["build"]["dockerfile"], "packaging/Containerfile");
    }
    for (secret, file) in c["secrets"].as_object().unwrap() {
        let file = file["file"].as_str().unwrap();
        assert!(file.starts_with("secrets/"), "{secret}: {file}");
    }
    let garage = c["services"]["garage"]["command"].to_string();
    assert!(garage.contains("--single-node") && garage.contains("--default-bucket"), "{garage}");
}

#[test]
fn haproxy_accepts_its_configuration_and_checks_readiness() {
    let cfg = std::fs::read_to_string(packaging("haproxy.cfg")).unwrap();
    for line in ["option httpchk GET /readyz", "http-check expect status 200", "option forwardfor", "option redispatch"]
    {
        assert!(cfg.contains(line), "haproxy.cfg lacks {line:?}");
    }
    assert!(cfg.contains("server a vidserve-a:8080 check") && cfg.contains("server b vidserve-b:8080 check"));
    let Ok(out) = Command::new("haproxy").arg("-c").arg("-f").arg(packaging("haproxy.cfg")).output() else {
        skip("no haproxy (apt-get install haproxy, or .ci/run)");
        return;
    };
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_kubernetes_manifests_probe_readyz_and_keep_a_replica_through_disruptions() {
    let Some(docs) = yaml("kubernetes/vidserve.yaml") else { return };
    let kinds: BTreeSet<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    let want = ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "PodDisruptionBudget"];
    for kind in want.iter().chain(&["Secret", "Service"]) {
        assert!(kinds.contains(kind), "no {kind}");
    }
    let of = |kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap();
    let pod = &of("Deployment")["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    let known = settings();
    let mut set: Vec<String> = env_names(&of("ConfigMap")["data"]);
    set.extend(env_names(&c["env"]));
    for k in &set {
        assert!(known.contains(k), "the manifests set {k}, which vidserve does not read");
    }
    assert!(set.contains(&"VIDSERVE_DATABASE_PASSWORD_FILE".to_string()), "the password comes from a file");
    assert!(!of("ConfigMap")["data"].to_string().contains("CHANGE-ME"), "no secret in the ConfigMap");
    assert_eq!(of("PodDisruptionBudget")["spec"]["minAvailable"], 1);
    assert_eq!(of("HorizontalPodAutoscaler")["spec"]["minReplicas"], 2);
    assert_eq!(of("Deployment")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], 0);
    // The trusted proxy is a network: the ingress pods' addresses change.
    let trusted = of("ConfigMap")["data"]["VIDSERVE_TRUSTED_PROXY"].as_str().unwrap();
    assert!(trusted.parse::<vidserve::cli::Network>().is_ok(), "{trusted}");
}

#[test]
fn the_image_holds_only_the_static_binary_and_the_secrets_script_makes_what_compose_reads() {
    let recipe = std::fs::read_to_string(packaging("Containerfile")).unwrap();
    assert!(recipe.lines().any(|l| l.trim() == "FROM scratch"), "{recipe}");
    assert!(recipe.contains("COPY target/x86_64-unknown-linux-gnu/dist/vidserve /vidserve"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(packaging("secrets/make"), dir.path().join("make")).unwrap();
    let out = Command::new("sh").arg(dir.path().join("make")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let garage = read("garage.env");
    let key = garage.lines().find_map(|l| l.strip_prefix("GARAGE_DEFAULT_ACCESS_KEY=")).unwrap();
    assert!(key.len() == 26 && key.starts_with("GK") && key[2..].chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(read("s3_credentials").contains(&format!("aws_access_key_id = {key}")));
    assert_eq!(read("db_password").len(), 48);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.path().join("db_password")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o077, 0, "secrets readable by their owner only");
    // A second run keeps them.
    let again = Command::new("sh").arg(dir.path().join("make")).output().unwrap();
    assert!(again.status.success() && read("db_password").len() == 48);
    let listed = std::fs::read_to_string(packaging("secrets/.gitignore")).unwrap();
    for f in ["db_password", "s3_credentials", "garage.env"] {
        assert!(listed.lines().any(|l| l == f), "{f} is never committed");
    }
}
