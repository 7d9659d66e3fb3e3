//! Compression on the wire: gzip for text (HTML, JSON, CSS, JS, SVG,
//! WebVTT), never for video or images, which are compressed already.
//! Pages and JSON are compressed per response at a fast level; the
//! embedded assets once, at the best level (`assets`).

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::header::{HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
use hyper::{Response, StatusCode};

use super::body::Body;

/// Bodies smaller than this go as they are (gzip's header and the work
/// would not pay).
const MIN_SIZE: usize = 1024;

/// Whether the client takes gzip (`Accept-Encoding`, `q=0` refusing it).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused =
            parts.any(|p| p.trim().strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

/// Whether a content type is text worth compressing.
pub fn is_text(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/javascript" | "image/svg+xml" | "application/manifest+json"
        )
}

/// `data` in gzip at `level` (0–9).
pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut z = GzEncoder::new(Vec::with_capacity(data.len() / 3 + 64), Compression::new(level));
    z.write_all(data).expect("writing to memory does not fail");
    z.finish().expect("writing to memory does not fail")
}

/// Compresses a text response in memory when the client takes gzip and it
/// pays; says `Vary: Accept-Encoding` on every text response.
pub fn apply(res: &mut Response<Body>, accepts: bool) {
    let text = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_text);
    if !text {
        return;
    }
    res.headers_mut().append(VARY, HeaderValue::from_static("accept-encoding"));
    if !accepts || res.status() != StatusCode::OK || res.headers().contains_key(CONTENT_ENCODING) {
        return;
    }
    let Body::Full(Some(plain)) = res.body() else { return };
    if plain.len() < MIN_SIZE {
        return;
    }
    let packed = gzip(plain, 1);
    if packed.len() >= plain.len() {
        return;
    }
    let h = res.headers_mut();
    h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    h.insert(CONTENT_LENGTH, HeaderValue::from(packed.len()));
    *res.body_mut() = Body::full(packed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_takes_gzip() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT_ENCODING, HeaderValue::from_static(v));
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0, br"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn only_text_is_compressed() {
        assert!(is_text("text/html; charset=utf-8") && is_text("application/json") && is_text("text/vtt"));
        assert!(!is_text("video/mp4") && !is_text("image/jpeg"));
        let page = "<p>hello</p>".repeat(500);
        let mut res = Response::new(Body::full(page.clone()));
        res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        apply(&mut res, true);
        assert_eq!(res.headers()[CONTENT_ENCODING], "gzip");
        let Body::Full(Some(z)) = res.body() else { panic!("a full body") };
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&z[..]), &mut back).unwrap();
        assert_eq!(back, page);
    }
}
