//! A real headless Chromium, driven over WebDriver (chromedriver), for the
//! browser tests (`browser`, `keys`, `a11y`). Set VIDSERVE_SKIP_BROWSER=1
//! to skip those on a machine without Chromium.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::eventually;

/// Whether browser tests are skipped here (VIDSERVE_SKIP_BROWSER), said
/// aloud.
pub fn skipped() -> bool {
    let skip = std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some();
    if skip {
        crate::support::skip("VIDSERVE_SKIP_BROWSER is set");
    }
    skip
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    /// chromedriver, leading its own process group: Chromium and its
    /// helpers are in it too, and go with it.
    process: Child,
    /// Chromium's profile, removed with the driver.
    _profile: tempfile::TempDir,
    base: String,
    client: reqwest::Client,
}

impl Driver {
    pub async fn start() -> Driver {
        Driver::start_with(None, &[]).await
    }

    /// Chromium with `home` as its user's home (where it finds the
    /// certificates its user trusts, `.pki/nssdb`) and `args` besides.
    pub async fn start_with(home: Option<&std::path::Path>, args: &[&str]) -> Driver {
        // chromedriver picks a free port itself (no window for another
        // process to take it) and says which. On a loaded machine it has
        // been seen to exit before saying so: it is started again.
        let mut tries = 0;
        let (process, port) = loop {
            tries += 1;
            let mut command = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()));
            if let Some(home) = home {
                command.env("HOME", home);
            }
            let mut process = command
                .arg("--port=0")
                .process_group(0)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver is needed (apt-get install chromium chromium-driver)");
            let stdout = process.stdout.take().unwrap();
            let port = tokio::task::spawn_blocking(move || {
                use std::io::BufRead;
                let mut lines = std::io::BufReader::new(stdout).lines();
                let port = lines.by_ref().map_while(Result::ok).find_map(|l| {
                    l.split("started successfully on port ")
                        .nth(1)
                        .and_then(|p| p.trim_end_matches('.').parse::<u16>().ok())
                });
                // Keep draining so chromedriver never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                port
            })
            .await
            .unwrap();
            match port {
                Some(port) => break (process, port),
                None if tries < 3 => end(&mut process),
                None => panic!("chromedriver did not say its port in {tries} tries ({:?})", process.wait()),
            }
        };
        let client = crate::support::client_builder().build().unwrap();
        let root = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a temporary profile");
        let user_data = format!("--user-data-dir={}", profile.path().display());
        let mut chromium_args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required",
            "--mute-audio",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .to_vec();
        chromium_args.push(user_data);
        chromium_args.extend(args.iter().map(|a| a.to_string()));
        let mut driver = Driver { process, _profile: profile, base: root.clone(), client };
        eventually(Duration::from_secs(20), "chromedriver up", || async {
            driver.client.get(format!("{root}/status")).send().await.is_ok()
        })
        .await;
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": chromium_args
            }
        }}});
        let session = driver.call("POST", "/session", caps).await;
        let id = session["sessionId"].as_str().expect("a session").to_string();
        driver.base = format!("{root}/session/{id}");
        driver
    }

    pub async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url).json(&body),
        };
        let res: Value = req.send().await.expect("webdriver call").json().await.expect("webdriver json");
        if res["value"].get("error").is_some() {
            panic!("webdriver {method} {path}: {}", res["value"]);
        }
        res.get("value").cloned().unwrap_or(res)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/click"), json!({})).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// Moves the mouse to `(dx, dy)` from the centre of the element `css`.
    pub async fn hover(&self, css: &str, dx: i64, dy: i64) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let origin = json!({ ELEMENT: el[ELEMENT].clone() });
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
            "actions": [{ "type": "pointerMove", "duration": 0, "origin": origin, "x": dx, "y": dy }]
        }] });
        self.call("POST", "/actions", actions).await;
    }

    /// The element `css` as the page paints it (RGBA pixels).
    pub async fn picture_of(&self, css: &str) -> image::RgbaImage {
        use base64::Engine;
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let id = el[ELEMENT].as_str().unwrap().to_string();
        let png = self.call("GET", &format!("/element/{id}/screenshot"), json!({})).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        image::load_from_memory(&bytes).expect("a PNG").to_rgba8()
    }

    pub async fn js(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": script, "args": [] })).await
    }

    /// Presses and lets go of each key of `keys` in turn, on what has focus
    /// (WebDriver's codes for special keys: `\u{E004}` Tab, `\u{E007}`
    /// Enter, `\u{E00C}` Escape, `\u{E014}` right, `\u{E015}` down).
    pub async fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                [
                    json!({ "type": "keyDown", "value": c.to_string() }),
                    json!({ "type": "keyUp", "value": c.to_string() }),
                ]
            })
            .collect();
        self.call("POST", "/actions", json!({ "actions": [{ "type": "key", "id": "kb", "actions": actions }] })).await;
    }

    /// Waits until the service worker looks after the current page.
    pub async fn under_service_worker(&self) {
        eventually(Duration::from_secs(15), "the service worker looks after the page", || async {
            self.js("return !!navigator.serviceWorker.controller").await == true
        })
        .await;
    }

    /// Runs `script`, which calls `arguments[0]` with its result.
    pub async fn js_async(&self, script: &str) -> Value {
        self.call("POST", "/execute/async", json!({ "script": script, "args": [] })).await
    }
}

/// Ends chromedriver and everything in its process group (Chromium's
/// processes, which a kill of chromedriver alone leaves running).
fn end(process: &mut Child) {
    // SAFETY: a signal to the process group chromedriver leads (its pid).
    unsafe { libc::kill(-(process.id() as i32), libc::SIGKILL) };
    let _ = process.wait();
}

impl Drop for Driver {
    fn drop(&mut self) {
        end(&mut self.process);
    }
}
