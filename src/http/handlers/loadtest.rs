//! `GET|POST /admin/performance`: the dashboard's numbers, and the built-in
//! load test run against this server itself (loopback, bounded, one at a
//! time, read-only scenarios).

use super::user::Payload;
use std::time::Duration;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::{json, ApiError};
use crate::app::Ops;
use crate::http::body::Body;
use crate::App;

/// `GET /admin/performance`: the numbers behind the dashboard.
pub fn performance(app: &App) -> Response<Body> {
    let c = app.library().catalog();
    let (cache_hits, _) = app.user_data().cache_counts();
    json(
        StatusCode::OK,
        &json!({
            "uptime_seconds": app.ops().started.elapsed().as_secs(),
            "videos": c.len(),
            "bytes_streamed": app.ops().metrics.bytes_streamed.get(),
            "active_streams": app.ops().metrics.active_streams.get(),
            "cache_hits": cache_hits,
            "thumbnail_jobs_waiting": app.jobs().waiting(),
            "load_test_running": app.ops().load_test_running(),
            "last_load_test": app.ops().last_load_test(),
        }),
    )
}

#[derive(Deserialize)]
struct LoadTestBody {
    action: String,
    #[serde(default)]
    scenario: crate::loadtest::Scenario,
    connections: Option<usize>,
    duration: Option<u64>,
}

/// Most connections and seconds a load test started from the web may use.
const WEB_MAX_CONNECTIONS: usize = 50;

const WEB_MAX_SECONDS: u64 = 10;

/// `POST /admin/performance {"action": "load_test"}`: runs the built-in
/// load test against this server over loopback (bounded; one at a time).
pub async fn run_load_test(ops: &Ops, headers: &HeaderMap, body: Payload) -> Result<Response<Body>, ApiError> {
    // The admin page's form posts without JavaScript, too.
    let from_form = super::is_form(headers);
    let b: LoadTestBody = super::user::read_body_or_form(headers, body).await?;
    if b.scenario.writes() {
        return Err(ApiError::BadRequest(
            "the writes and mixed scenarios add real views to this library; run them with \
             `vidserve loadtest --allow-writes` against a test library instead"
                .into(),
        ));
    }
    if b.action != "load_test" {
        return Err(ApiError::BadRequest(format!("unknown action {:?}; the one action is \"load_test\"", b.action)));
    }
    let listen = *ops.listen.get().ok_or_else(|| ApiError::Unavailable("the server is not listening yet".into()))?;
    let target = match listen.ip() {
        ip if ip.is_loopback() => listen,
        ip if ip.is_unspecified() => std::net::SocketAddr::new(
            if ip.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
            listen.port(),
        ),
        _ => {
            return Err(ApiError::BadRequest(
                "this server listens on no loopback address; run `vidserve loadtest` on the machine instead".into(),
            ))
        }
    };
    // Held until the test ends or this request is dropped (client gone).
    let Some(slot) = ops.start_load_test() else {
        return Err(ApiError::Unavailable("a load test is already running; try again when it ends".into()));
    };
    let connections = b.connections.unwrap_or(10).clamp(1, WEB_MAX_CONNECTIONS);
    let duration = Duration::from_secs(b.duration.unwrap_or(3).clamp(1, WEB_MAX_SECONDS));
    // With accounts, the test asks as the admin who started it (the cookie
    // first, as `authorize` reads them).
    let who = [hyper::header::COOKIE, hyper::header::AUTHORIZATION]
        .into_iter()
        .find_map(|name| Some((name.clone(), headers.get(&name)?.clone())));
    let result = crate::loadtest::run(target, b.scenario, connections, duration, Default::default(), who).await;
    let report = result.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    slot.finish(&report);
    if from_form {
        // The report, with the server's other numbers.
        return Ok(super::redirect(StatusCode::SEE_OTHER, "/admin/performance"));
    }
    Ok(json(StatusCode::OK, &json!({ "success": true, "report": report })))
}
