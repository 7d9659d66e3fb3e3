//! The only place errors become responses: JSON `{"error":{"code","message"}}`
//! on API and JSON routes and wherever `Accept` asks for JSON, an HTML page
//! elsewhere (the caller decides, by the route's `Kind` and `Accept`).

use hyper::header::{HeaderValue, ALLOW, CONTENT_RANGE, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::body::Body;
use super::pages;

impl From<crate::catalog::listing::QueryError> for ApiError {
    fn from(e: crate::catalog::listing::QueryError) -> Self {
        use crate::catalog::listing::QueryError;
        match e {
            QueryError::Bad(why) => ApiError::BadRequest(why),
            QueryError::NoPlaylist => ApiError::NotFound(e.to_string()),
            QueryError::Unanswered => ApiError::Internal(e.into()),
        }
    }
}

impl From<super::route::RouteError> for ApiError {
    fn from(e: super::route::RouteError) -> Self {
        use super::route::RouteError;
        match e {
            RouteError::NotFound => ApiError::not_found(),
            RouteError::MethodNotAllowed(allow) => ApiError::MethodNotAllowed(allow),
            RouteError::BadPath(why) => ApiError::BadRequest(format!("bad path: {why}")),
        }
    }
}

impl From<super::route::Missing> for ApiError {
    fn from(e: super::route::Missing) -> Self {
        ApiError::Internal(anyhow::anyhow!("the route table gives this route no {{{}}} parameter", e.0))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("method not allowed; use {0}")]
    MethodNotAllowed(String),
    #[error("requested range not satisfiable")]
    Unsatisfiable { len: u64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("the request body is too large (limit {0} bytes)")]
    TooLarge(usize),
    #[error("{0}")]
    Unavailable(String),
    #[error("the request headers are too large (limit {0} bytes)")]
    HeadersTooLarge(usize),
    #[error("{0}")]
    Misdirected(String),
    #[error("the request body did not arrive within {0} s")]
    RequestTimeout(u64),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A page visited without signing in: to the sign-in form, then back
    /// to this target.
    #[error("sign in first")]
    SignIn(String),
    /// Wait this many seconds (`Retry-After`), for this reason.
    #[error("{1}")]
    TooManyRequests(u64, String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Asked in a way this resource is not served (DLNA's time seek on a
    /// stored file).
    #[error("{0}")]
    NotAcceptable(String),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unsatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::SignIn(_) => StatusCode::SEE_OTHER,
            ApiError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unsatisfiable { .. } => "range_not_satisfiable",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
            ApiError::Misdirected(_) => "misdirected_request",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::Conflict(_) => "conflict",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::SignIn(_) => "sign_in",
            ApiError::TooManyRequests(..) => "too_many_requests",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::NotAcceptable(_) => "not_acceptable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn not_found() -> Self {
        ApiError::NotFound("no such video or page".into())
    }

    /// Builds the response; `json` picks the body format.
    pub fn into_response(self, json: bool) -> Response<Body> {
        if let ApiError::Internal(e) = &self {
            tracing::error!("{e:#}");
        }
        let status = self.status();
        // Internal details stay in the log.
        let message = match &self {
            ApiError::Internal(_) => "internal error; see the server log".to_string(),
            other => other.to_string(),
        };
        let (ctype, body) = if json {
            let body = serde_json::json!({ "error": { "code": self.code(), "message": message } });
            ("application/json", body.to_string())
        } else {
            ("text/html; charset=utf-8", pages::error::page(status, &message).into_string())
        };
        let mut res = Response::new(Body::full(body));
        *res.status_mut() = status;
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
        match self {
            ApiError::MethodNotAllowed(allow) => {
                h.insert(ALLOW, HeaderValue::from_str(&allow).unwrap_or(HeaderValue::from_static("GET")));
            }
            ApiError::Unsatisfiable { len } => {
                h.insert(CONTENT_RANGE, HeaderValue::from_str(&format!("bytes */{len}")).expect("ascii"));
            }
            ApiError::SignIn(target) => {
                let to = sign_in_location(&target);
                h.insert(
                    hyper::header::LOCATION,
                    HeaderValue::from_str(&to).unwrap_or(HeaderValue::from_static("/login")),
                );
            }
            ApiError::TooManyRequests(secs, _) => {
                h.insert(hyper::header::RETRY_AFTER, HeaderValue::from(secs));
            }
            ApiError::Unavailable(_) => {
                h.insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            _ => {}
        }
        res
    }
}

/// A store's failure as an answer: the database unreachable is a 503 to
/// try again (nothing was written), anything else a 500.
pub fn store_error(e: &crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::Unavailable(why) => {
            ApiError::Unavailable(format!("the database is unreachable ({why}); nothing was saved, try again"))
        }
        _ => ApiError::Internal(anyhow::anyhow!("{e}")),
    }
}

/// Where an anonymous page visit is sent: the sign-in form, coming back.
fn sign_in_location(target: &str) -> String {
    use crate::catalog::listing::QUERY_VALUE;
    format!("/login?next={}", percent_encoding::utf8_percent_encode(target, QUERY_VALUE))
}
