//! HTTPS: a certificate of one's own (read again when its files change) or
//! one from the server's own authority (`--tls auto`); HTTP/2 and HTTP/1.1
//! by ALPN; plain HTTP on the same port redirected. Clients: curl (OpenSSL,
//! nghttp2) and rustls.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls_pki_types::{CertificateDer, ServerName};
use serde_json::json;

use crate::support::{eventually, Fixture, Options, TestServer};

/// A certificate authority of the test's own.
fn test_authority() -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, "test authority");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A server certificate for localhost and 127.0.0.1 named `cn`, written
/// as `cert.pem` (with the authority after it) and `key.pem` in `dir`.
fn write_server_certificate(ca: &CertifiedIssuer<'static, KeyPair>, cn: &str, dir: &Path) -> (PathBuf, PathBuf) {
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    let (cert_file, key_file) = (dir.join("cert.pem"), dir.join("key.pem"));
    // Written beside and renamed in, as renewal tools do.
    std::fs::write(dir.join("cert.tmp"), format!("{}{}", cert.pem(), ca.pem())).unwrap();
    std::fs::write(dir.join("key.tmp"), key.serialize_pem()).unwrap();
    std::fs::rename(dir.join("key.tmp"), &key_file).unwrap();
    std::fs::rename(dir.join("cert.tmp"), &cert_file).unwrap();
    (cert_file, key_file)
}

/// Runs curl; returns its standard output (raw) and whether it succeeded.
async fn curl(args: Vec<String>) -> (Vec<u8>, bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("curl").args(["-sS", "--max-time", "20"]).args(&args).output().unwrap();
        (out.stdout, out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    })
    .await
    .unwrap()
}

fn has_curl() -> bool {
    std::process::Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The certificate a server shows to a rustls client trusting only `ca`
/// for `name` (fails if the client does not trust it).
async fn served_certificate(addr: SocketAddr, name: &str, ca: &[u8]) -> Result<Vec<u8>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from(name.to_string()).unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| e.to_string())?;
    Ok(tls.get_ref().1.peer_certificates().unwrap()[0].to_vec())
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem).unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_certificate_http2_and_http1_ranges_redirects_and_renewal() {
    if !has_curl() {
        return crate::support::skip("curl is not installed");
    }
    let fx = Fixture::new();
    let bytes = fx.mp4("film.mp4", 300_000, 7);
    let certs = tempfile::tempdir().unwrap();
    let ca = test_authority();
    let ca_file = certs.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let (cert, key) = write_server_certificate(&ca, "first", certs.path());
    let data = tempfile::tempdir().unwrap();
    assert!(crate::people::user(
        data.path(),
        &["add", "ann", "--role", "admin", "--password-stdin"],
        Some("long enough")
    )
    .status
    .success());
    let token = String::from_utf8(crate::people::user(data.path(), &["token", "ann"], None).stdout).unwrap();
    let opts = Options {
        tls: Some(vidserve::tls::Source::Files { cert: cert.clone(), key: key.clone() }),
        ..Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let port = srv.addr.port();
    let https = |path: &str| format!("https://localhost:{port}{path}");
    let ca_arg = ca_file.to_str().unwrap().to_string();
    let bearer = format!("Authorization: Bearer {}", token.trim());
    let ask = |extra: &[&str], path: &str| {
        let mut args: Vec<String> = vec!["--cacert".into(), ca_arg.clone(), "-H".into(), bearer.clone()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(https(path));
        curl(args)
    };

    // HTTP/2 and HTTP/1.1, as the client asks by ALPN; the API answers.
    let (out, ok, err) =
        ask(&["-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http2"], "/api/v1/videos").await;
    assert!(ok, "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "2 200");
    let (out, ok, err) = ask(&["-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http1.1"], "/healthz").await;
    assert!(ok, "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "1.1 200");
    let (list, _, _) = ask(&["--http2"], "/api/v1/videos").await;
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    let id = list["videos"][0]["id"].as_str().unwrap().to_string();
    // Exact ranges over both, and a whole file.
    for version in ["--http2", "--http1.1"] {
        for (range, from, to) in [("100-199", 100, 200), ("299990-", 299_990, bytes.len()), ("0-0", 0, 1)] {
            let (out, ok, err) = ask(&[version, "-r", range, "-D", "/dev/stderr"], &format!("/video/{id}")).await;
            assert!(ok, "{err}");
            assert!(err.contains(" 206"), "{version} {range}: {err}");
            assert_eq!(out, bytes[from..to], "{version} {range}");
        }
        let (out, ok, err) = ask(&[version], &format!("/video/{id}")).await;
        assert!(ok, "{err}");
        assert!(out == bytes, "{version}: the whole file");
    }
    // Over HTTP/2 the host comes as :authority: a foreign one is refused
    // as over HTTP/1.1, and a page's write must come from this origin.
    let (out, _, _) = curl(vec![
        "--cacert".into(),
        ca_arg.clone(),
        "--http2".into(),
        "-o".into(),
        "/dev/null".into(),
        "-w".into(),
        "%{http_code}".into(),
        "--connect-to".into(),
        format!("evil.example:{port}:127.0.0.1:{port}"),
        "-k".into(),
        format!("https://evil.example:{port}/healthz"),
    ])
    .await;
    assert_eq!(String::from_utf8_lossy(&out), "421");
    let origin = format!("Origin: https://localhost:{port}");
    let cross = ["-o", "/dev/null", "-w", "%{http_code}", "--http2", "-X", "PUT", "-H", "Sec-Fetch-Site: same-origin"];
    let (out, _, _) = ask(
        &[&cross[..], &["-H", &origin, "--json", "{\"rating\": 4}"]].concat(),
        &format!("/api/v1/videos/{id}/rating"),
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&out), "200", "same origin over HTTP/2");
    // (Without a body: curl 7.88 takes the stream's end right after an
    // early answer, RST_STREAM NO_ERROR, for an error.)
    let (out, _, err) =
        ask(&[&cross[..], &["-H", "Origin: https://evil.example"]].concat(), &format!("/api/v1/videos/{id}/rating"))
            .await;
    assert_eq!(String::from_utf8_lossy(&out), "403", "another origin over HTTP/2: {err}");
    // A link for other players names the scheme the client used.
    let (out, _, _) = ask(&["--http2"], &format!("/api/v1/videos/{id}/link")).await;
    let link: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(link["url"].as_str().unwrap().starts_with(&format!("https://localhost:{port}/video/")), "{link}");
    // Signing in over HTTPS: the session cookie is never sent over HTTP.
    let (_, ok, headers) =
        ask(&["-o", "/dev/null", "-D", "/dev/stderr", "-d", "username=ann&password=long%20enough&next=/"], "/login")
            .await;
    assert!(ok);
    let cookie = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie")).unwrap_or_default();
    assert!(cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{headers}");

    // Plain HTTP on the same port: redirected to the same place, on the
    // name asked for; health checks answered; foreign names refused.
    let plain = crate::support::client();
    let res = plain.get(format!("http://localhost:{port}/watch/{id}?t=5")).send().await.unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], format!("https://localhost:{port}/watch/{id}?t=5").as_str());
    let res = plain.post(format!("http://127.0.0.1:{port}/api/v1/videos/{id}/rating")).body("{}").send().await.unwrap();
    assert_eq!(res.status(), 308, "writes too (the method is kept)");
    assert_eq!(plain.get(format!("http://127.0.0.1:{port}/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(plain.get(format!("http://127.0.0.1:{port}/ca.crt")).send().await.unwrap().status(), 404);
    let res = plain.get(format!("http://127.0.0.1:{port}/")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(res.status(), 421, "no redirect to a name that is not ours");
    // A client that opens with garbage where a handshake should be is
    // dropped; the server goes on.
    let raw = srv.raw(b"\x16\x03\x01\x00\x05hello").await;
    assert!(raw.is_empty() || !raw.contains("HTTP/1.1 200"), "{raw}");

    // Renewed by another tool: the new certificate is in use within
    // seconds; a broken one is not taken, and the last good one stays.
    let first = served_certificate(srv.addr, "localhost", ca.der()).await.unwrap();
    write_server_certificate(&ca, "second", certs.path());
    let second_pem = std::fs::read(&cert).unwrap();
    let second = pem_to_der(&second_pem);
    assert_ne!(first, second);
    eventually(Duration::from_secs(30), "the renewed certificate is served", || async {
        served_certificate(srv.addr, "localhost", ca.der()).await.unwrap() == second
    })
    .await;
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n").unwrap();
    std::fs::write(&key, "garbage").unwrap();
    tokio::time::sleep(vidserve::tls::LOOK_EVERY * 2).await;
    assert_eq!(served_certificate(srv.addr, "localhost", ca.der()).await.unwrap(), second, "the last good one stays");
    let (out, ok, _) = ask(&["--http2"], "/healthz").await;
    assert!(ok && String::from_utf8_lossy(&out).contains("ok"));
    srv.stop().await;

    // Files that are no certificate or key stop the start, saying which.
    let (cert, key) = write_server_certificate(&ca, "third", certs.path());
    let text = certs.path().join("text.pem");
    std::fs::write(&text, "hello").unwrap();
    for (c, k, says) in [
        (certs.path().join("missing.pem"), key.clone(), "cannot read"),
        (text.clone(), key.clone(), "text.pem holds no certificate"),
        (cert.clone(), text.clone(), "text.pem holds no private key"),
    ] {
        let source = vidserve::tls::Source::Files { cert: c, key: k };
        let e = vidserve::tls::Tls::start(source, data.path(), None, &[]).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
    // A key that is not the certificate's.
    let other = certs.path().join("other-key.pem");
    std::fs::write(&other, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let source = vidserve::tls::Source::Files { cert, key: other };
    let e = vidserve::tls::Tls::start(source, data.path(), None, &[]).unwrap_err().to_string();
    assert!(e.contains("no usable pair"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_makes_one_authority_that_devices_install() {
    if !has_curl() {
        return crate::support::skip("curl is not installed");
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 10_000, 1);
    let data = tempfile::tempdir().unwrap();
    let opts = || Options {
        tls: Some(vidserve::tls::Source::Auto),
        host_names: vec!["media.example.com".into()],
        ..Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts()).await;
    let port = srv.addr.port();
    // The authority: kept in the data dir, its key private.
    let dir = data.path().join("tls");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("authority-key.pem")), 0o600);
    // Its certificate over plain HTTP (a device fetches it before it
    // trusts the server), without signing in.
    let res = crate::support::client().get(format!("http://127.0.0.1:{port}/ca.crt")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-x509-ca-cert");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("vidserve.crt"));
    let pem = res.bytes().await.unwrap().to_vec();
    assert_eq!(pem, std::fs::read(dir.join("authority.pem")).unwrap());
    let ca_file = data.path().join("downloaded.crt");
    std::fs::write(&ca_file, &pem).unwrap();
    // A client that trusts it (OpenSSL: chain, names, name constraints)
    // reaches the server by each of its names and addresses.
    for (name, url) in [
        ("localhost", format!("https://localhost:{port}/healthz")),
        ("127.0.0.1", format!("https://127.0.0.1:{port}/healthz")),
        ("media.example.com", format!("https://media.example.com:{port}/healthz")),
    ] {
        let (out, ok, err) = curl(vec![
            "--cacert".into(),
            ca_file.to_str().unwrap().into(),
            "--resolve".into(),
            format!("media.example.com:{port}:127.0.0.1"),
            url,
        ])
        .await;
        assert!(ok && String::from_utf8_lossy(&out).contains("ok"), "{name}: {err}");
    }
    // The admin page offers it: link, QR code, fingerprint, steps.
    let (page, ok, err) =
        curl(vec!["--cacert".into(), ca_file.to_str().unwrap().into(), format!("https://localhost:{port}/admin")])
            .await;
    assert!(ok, "{err}");
    let page = String::from_utf8_lossy(&page);
    for part in [
        "id=\"https\"",
        "href=\"/ca.crt\"",
        "Fingerprint (SHA-256)",
        "Android",
        "iPhone",
        "Windows",
        "macOS",
        "Linux",
        "media.example.com",
    ] {
        assert!(page.contains(part), "{part} on the admin page");
    }
    let der = pem_to_der(&pem);
    let first_leaf = served_certificate(srv.addr, "localhost", &der).await.unwrap();
    srv.stop().await;
    // Started again: the same authority, so devices keep trusting it.
    let srv = TestServer::start_with(&[fx.path()], opts()).await;
    let res =
        crate::support::client().get(format!("http://127.0.0.1:{}/ca.crt", srv.addr.port())).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().to_vec(), pem);
    let leaf = served_certificate(srv.addr, "localhost", &der).await.unwrap();
    assert!(served_certificate(srv.addr, "media.example.com", &der).await.is_ok());
    assert_ne!(leaf, first_leaf, "a fresh server certificate each start, from the same authority");
    srv.stop().await;
}

/// The authority installed in Chromium's trust store as a person would
/// (`certutil`, as the admin page's Linux steps say): the LAN name's pages
/// are then a secure context, installable as an app, and a video saved for
/// offline plays with the server gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_authority_installed_chromium_installs_and_saves_offline() {
    if crate::driver::skipped() {
        return;
    }
    if std::process::Command::new("certutil").arg("-H").output().is_err() {
        return crate::support::skip("certutil is needed to install the authority (apt-get install libnss3-tools)");
    }
    let fx = Fixture::new();
    crate::support::ffmpeg(
        &fx.path().join("trip.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=10:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let data = tempfile::tempdir().unwrap();
    let opts = Options {
        tls: Some(vidserve::tls::Source::Auto),
        host_names: vec!["vidserve.test".into()],
        ..Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let port = srv.addr.port();
    // Fetched as a phone would, over plain HTTP, and installed.
    let res = crate::support::client().get(format!("http://127.0.0.1:{port}/ca.crt")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let home = tempfile::tempdir().unwrap();
    let ca = home.path().join("vidserve.crt");
    std::fs::write(&ca, res.bytes().await.unwrap()).unwrap();
    let db = format!("sql:{}", home.path().join(".pki/nssdb").display());
    std::fs::create_dir_all(home.path().join(".pki/nssdb")).unwrap();
    for args in [vec!["-N", "-d", &db, "--empty-password"], vec!["-A", "-d", &db, "-t", "C,,", "-n", "vidserve", "-i"]]
    {
        let mut cmd = std::process::Command::new("certutil");
        cmd.args(&args);
        if args[0] == "-A" {
            cmd.arg(&ca);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "certutil {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let rules = "--host-resolver-rules=MAP vidserve.test 127.0.0.1";
    let driver = crate::driver::Driver::start_with(Some(home.path()), &[rules]).await;
    // The library by its LAN name, and the video from its card.
    driver.goto(&format!("https://vidserve.test:{port}/")).await;
    driver.click(".card a").await;
    let url = driver.js("return location.href").await.as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("https://vidserve.test:{port}/watch/")), "{url}");
    let state = driver.js("return [location.href, window.isSecureContext, !!document.getElementById('player')]").await;
    assert_eq!(state, json!([url, true, true]), "the page itself, trusted (no certificate warning)");
    driver.under_service_worker().await;
    driver.goto(&url).await;
    // Installable: Chromium finds nothing against it (manifest, icons,
    // service worker, a secure origin).
    let errors =
        driver.call("POST", "/goog/cdp/execute", json!({ "cmd": "Page.getInstallabilityErrors", "params": {} })).await;
    assert_eq!(errors["installabilityErrors"], json!([]), "{errors}");
    crate::keys::save_for_offline(&driver).await;
    srv.stop().await;
    crate::keys::plays_from_the_browser(&driver, &url).await;
    driver.call("DELETE", "", json!({})).await;
}
