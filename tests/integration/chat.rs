//! The chat against an OpenAI-compatible stub in this file: it streams
//! text, asks for a tool, fails (echoing the key, as a careless server
//! might), hangs, or answers without streaming; over http and https.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use vidserve::config::chat::{ChatConfig, Endpoint};

use crate::support::{eventually, Fixture, Options, TestServer};

const KEY: &str = "sk-test-0123456789-secret";

/// What the stub was sent: the Authorization header and the JSON body.
type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A response body fed from a channel (the stub's streamed answers).
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

fn chunk(delta: Value, finish: Option<&str>) -> Bytes {
    let c = json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
    Bytes::from(format!("data: {c}\n\n"))
}

/// The stub's answer to one request, by the last user message.
async fn answer(req: Request<hyper::body::Incoming>, seen: Seen) -> Result<Response<ChannelBody>, Infallible> {
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(String::from);
    let body: Value = serde_json::from_slice(&req.into_body().collect().await.unwrap().to_bytes()).unwrap_or_default();
    seen.lock().unwrap().push((auth.clone(), body.clone()));
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let question =
        messages.iter().rev().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or("");
    let tool_result = messages.iter().find(|m| m["role"] == "tool").and_then(|m| m["content"].as_str());
    let (tx, rx) = mpsc::channel(16);
    let mut res = Response::new(ChannelBody(rx));
    res.headers_mut().insert("content-type", "text/event-stream".parse().unwrap());
    let frames: Vec<Bytes> = if question.contains("fail") {
        *res.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        res.headers_mut().insert("content-type", "application/json".parse().unwrap());
        let echo = format!("model exploded; you sent {}", auth.unwrap_or_default());
        vec![Bytes::from(json!({ "error": { "message": echo } }).to_string())]
    } else if question.contains("hang") {
        // Never a byte: the body stays open for as long as the test runs
        // (what it tests, the 5 s limit and a page leaving, happens first).
        tokio::spawn(async move {
            let _open = tx;
            std::future::pending::<()>().await
        });
        return Ok(res);
    } else if question.contains("empty") {
        vec![chunk(json!({ "role": "assistant" }), Some("stop")), Bytes::from_static(b"data: [DONE]\n\n")]
    } else if question.contains("plain") {
        res.headers_mut().insert("content-type", "application/json".parse().unwrap());
        vec![Bytes::from(
            json!({ "choices": [{ "message": { "role": "assistant", "content": "A plain answer." } }] }).to_string(),
        )]
    } else if question.contains("cats") && tool_result.is_none() {
        vec![
            chunk(
                json!({ "role": "assistant", "tool_calls": [{ "index": 0, "id": "call_1", "type": "function", "function": { "name": "search_videos", "arguments": "" } }] }),
                None,
            ),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"query\":" } }] }), None),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "\"cats\"}" } }] }), None),
            chunk(json!({}), Some("tool_calls")),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ]
    } else if let Some(result) = tool_result {
        let found: Value = serde_json::from_str(result).unwrap_or_default();
        let id = found["videos"][0]["id"].as_str().unwrap_or("none").to_string();
        vec![
            chunk(json!({ "content": "Try " }), None),
            chunk(json!({ "content": format!("[Cats at play](/watch/{id}).") }), None),
            chunk(json!({}), Some("stop")),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ]
    } else {
        vec![
            chunk(json!({ "role": "assistant", "content": "" }), None),
            chunk(json!({ "content": "Hel" }), None),
            chunk(json!({ "content": "lo <b>there</b>" }), None),
            chunk(json!({}), Some("stop")),
            Bytes::from_static(b"data: [DONE]\n\n"),
        ]
    };
    tokio::spawn(async move {
        for f in frames {
            if tx.send(f).await.is_err() {
                return;
            }
        }
    });
    Ok(res)
}

/// Starts the stub on 127.0.0.1, over TLS when given a server config.
pub async fn stub(tls: Option<Arc<rustls::ServerConfig>>) -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (seen, tls) = (s.clone(), tls.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| answer(req, seen.clone()));
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(config) => {
                        let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await else { return };
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                    }
                }
            });
        }
    });
    (addr, seen)
}

pub fn config(url: &str, extra_ca: Vec<Vec<u8>>) -> ChatConfig {
    ChatConfig {
        endpoint: Endpoint::parse(url).unwrap(),
        model: "test-model".into(),
        key: Some(vidserve::config::chat::Secret::new(KEY)),
        max_tokens: 77,
        extra_ca,
        timeout: Duration::from_secs(5),
    }
}

/// Asks `question`; the whole event stream, and when its first text came.
async fn ask(srv: &TestServer, question: &str) -> (u16, String, Option<Duration>) {
    let started = Instant::now();
    let res = srv
        .client
        .post(srv.url("/api/v1/chat"))
        .json(&json!({ "messages": [{ "role": "user", "content": question }] }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let mut res = res;
    let (mut text, mut first) = (String::new(), None);
    while let Some(piece) = res.chunk().await.unwrap() {
        text.push_str(&String::from_utf8_lossy(&piece));
        if first.is_none() && text.contains("data: {\"text\"") {
            first = Some(started.elapsed());
        }
    }
    (status, text, first)
}

async fn library_with_cats() -> (Fixture, tempfile::TempDir) {
    let fx = Fixture::new();
    fx.mp4("Cats at play.mp4", 1000, 1600);
    fx.mp4("Dogs.mp4", 1000, 1601);
    (fx, tempfile::tempdir().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_stream_tools_run_and_failures_are_clear() {
    let (stub_addr, seen) = stub(None).await;
    let (fx, data) = library_with_cats().await;
    let opts =
        Options { chat: Some(config(&format!("http://{stub_addr}/v1"), vec![])), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let cats = srv.id_of("Cats at play.mp4").await;

    // Streamed, relayed piece by piece, as data (never as markup).
    let (status, text, first) = ask(&srv, "hello").await;
    assert_eq!(status, 200);
    assert!(text.contains("data: {\"text\":\"Hel\"}") && text.contains("lo <b>there</b>"), "{text}");
    assert!(text.trim_end().ends_with("event: done\ndata: {}"), "{text}");
    eprintln!("chat: first text after {:?} (stub answering at once)", first.unwrap());
    // What went upstream: the model, streaming, the token cap, the key, the tools, the library.
    let (auth, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(
        (body["model"].clone(), body["stream"].clone(), body["max_tokens"].clone()),
        (json!("test-model"), json!(true), json!(77))
    );
    let tools: Vec<&str> =
        body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["search_videos", "list_videos", "video_details", "library_stats"]);
    let system = body["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("2 videos") && system.contains(&format!("/watch/{cats}")), "{system}");

    // A tool call: run here, its result sent back, the answer cites the video.
    let (_, text, _) = ask(&srv, "something with cats?").await;
    assert!(text.contains("event: tool\ndata: {\"name\":\"search_videos\"}"), "{text}");
    assert!(text.contains(&format!("(/watch/{cats})")), "{text}");
    let second = seen.lock().unwrap().last().unwrap().1.clone();
    let msgs = second["messages"].as_array().unwrap();
    let call = msgs.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(call["tool_calls"][0]["function"]["arguments"], "{\"query\":\"cats\"}");
    let result = msgs.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(result["tool_call_id"], "call_1");
    assert!(result["content"].as_str().unwrap().contains(&cats));

    // An answer that is not streamed still arrives.
    let (_, text, _) = ask(&srv, "plain please").await;
    assert!(text.contains("A plain answer.") && text.contains("event: done"), "{text}");

    // Failures are clear errors, and the key never comes back.
    let (_, text, _) = ask(&srv, "fail now").await;
    assert!(text.contains("event: error") && text.contains("500") && text.contains("model exploded"), "{text}");
    assert!(!text.contains(KEY), "{text}");
    // One answer per device at a time: a second question waits (429).
    let started = Instant::now();
    let hung = ask(&srv, "hang on");
    let second = async {
        // Asked once the first question is with the endpoint: its turn is
        // taken before anything goes upstream.
        eventually(Duration::from_secs(10), "the hung question reaches the endpoint", || async {
            seen.lock().unwrap().iter().any(|(_, b)| b.to_string().contains("hang on"))
        })
        .await;
        srv.client
            .post(srv.url("/api/v1/chat"))
            .json(&json!({ "messages": [{ "role": "user", "content": "hello" }] }))
            .send()
            .await
            .unwrap()
    };
    let ((_, text, _), second) = tokio::join!(hung, second);
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    // A hung endpoint becomes a clear error at the time limit.
    assert!(text.contains("event: error") && text.contains("did not finish within 5 s"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(30));

    // An empty answer is an error, not silence.
    let (_, text, _) = ask(&srv, "say nothing, empty").await;
    assert!(text.contains("event: error") && text.contains("empty answer"), "{text}");

    // A page that leaves (Stop) frees its turn at once, even while the
    // endpoint is silent.
    let res = srv
        .client
        .post(srv.url("/api/v1/chat"))
        .json(&json!({ "messages": [{ "role": "user", "content": "hang again" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(res);
    // Asked again until the turn is free (a refusal while answering is not
    // counted against the device's questions): within 3 s, well before the
    // 5 s limit would have freed it anyway.
    eventually(Duration::from_secs(3), "the turn freed when the page left", || async {
        ask(&srv, "hello").await.0 == 200
    })
    .await;

    // Bad conversations are refused before anything goes upstream.
    let sent = seen.lock().unwrap().len();
    for bad in [
        json!({ "messages": [] }),
        json!({ "messages": [{ "role": "system", "content": "x" }] }),
        json!({ "messages": "hi" }),
    ] {
        let res = srv.client.post(srv.url("/api/v1/chat")).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(seen.lock().unwrap().len(), sent);
    // The admin page names the endpoint and model, never the key.
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(
        admin.contains(&format!("http://{stub_addr}/v1")) && admin.contains("test-model"),
        "chat on the admin page"
    );
    assert!(!admin.contains(KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoints_with_a_private_ca_and_chat_off() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = cert.cert.der().to_vec();
    let key = rustls_pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![rustls_pki_types::CertificateDer::from(der.clone())], key)
        .unwrap();
    let (stub_addr, _) = stub(Some(Arc::new(server))).await;
    let (fx, data) = library_with_cats().await;
    let url = format!("https://localhost:{}/v1", stub_addr.port());
    let opts = Options { chat: Some(config(&url, vec![der])), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let (status, text, _) = ask(&srv, "hello").await;
    assert_eq!(status, 200);
    assert!(text.contains("lo <b>there</b>") && text.contains("event: done"), "{text}");
    srv.stop().await;
    // Without the private CA, the certificate is refused, clearly.
    let data2 = tempfile::tempdir().unwrap();
    let opts = Options { chat: Some(config(&url, vec![])), ..Options::new(data2.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let (_, text, _) = ask(&srv, "hello").await;
    assert!(text.contains("event: error") && text.contains("TLS"), "{text}");
    srv.stop().await;
    // Without an endpoint, chat is off, and says so with a client error
    // (the server did not fail); a malformed question is 400 first.
    let data3 = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data3.path(), false)).await;
    let post = |body: &'static str| {
        let req = srv.client.post(srv.url("/api/v1/chat")).header("content-type", "application/json");
        req.body(body).send()
    };
    let res = post(r#"{"messages": [{"role": "user", "content": "hi"}]}"#).await.unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert!(res.text().await.unwrap().contains("--chat-endpoint"));
    for bad in ["{", r#"{"messages": "hi"}"#, r#"{"messages": []}"#] {
        assert_eq!(post(bad).await.unwrap().status(), 400, "{bad}");
    }
}

/// The real binary, logging everything: the key is in no log line and no
/// answer, even when the endpoint echoes it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_stays_out_of_logs_and_answers() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let (stub_addr, seen) = stub(None).await;
    let (fx, data) = library_with_cats().await;
    let key_file = data.path().join("chat.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .arg("--dir")
        .arg(fx.path())
        .arg("--data")
        .arg(data.path().join("data"))
        .args(["--bind", "127.0.0.1:0", "--log", "trace", "--chat-endpoint", &format!("http://{stub_addr}/v1")])
        .arg("--chat-key-file")
        .arg(&key_file)
        .env_remove("OPENAI_API_KEY")
        .env_remove("VIDSERVE_CHAT_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut all = String::new();
        let _ = stderr.read_to_string(&mut all);
        all
    });
    let stdout = child.stdout.take().unwrap();
    let (url, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.trim().strip_prefix("Local:").map(|u| u.trim().to_string()));
        (url, std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n")))
    })
    .await
    .unwrap();
    let url = url.expect("a Local: URL line");
    let client = crate::support::client_builder().build().unwrap();
    eventually(Duration::from_secs(30), "the server ready (/readyz)", || async {
        client.get(format!("{url}readyz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let mut answers = String::new();
    for q in ["hello", "fail now"] {
        let res =
            client.post(format!("{url}api/v1/chat")).json(&json!({ "messages": [{ "role": "user", "content": q }] }));
        answers.push_str(&res.send().await.unwrap().text().await.unwrap());
    }
    assert!(answers.contains("event: done") && answers.contains("model exploded"), "{answers}");
    assert_eq!(seen.lock().unwrap()[0].0.as_deref(), Some(format!("Bearer {KEY}").as_str()), "the key went upstream");
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = tokio::task::spawn_blocking(move || child.wait()).await.unwrap();
    let logs = logs.join().unwrap() + &rest.join().unwrap();
    assert!(logs.contains("chat answer failed"), "the failure is logged");
    assert!(!logs.contains(KEY) && !answers.contains(KEY), "the key leaked");
}
