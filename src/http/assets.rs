//! Static assets (CSS, JS, icons) compiled into the binary with rust-embed
//! and served under `/assets/{hash}/{name}` with a year-long cache.

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG};
use hyper::Response;
use rust_embed::Embed;

use super::body::Body;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

struct Asset {
    data: Bytes,
    mime: String,
    hash: String,
}

fn table() -> &'static HashMap<String, Asset> {
    static TABLE: OnceLock<HashMap<String, Asset>> = OnceLock::new();
    TABLE.get_or_init(|| {
        Assets::iter()
            .filter_map(|name| {
                let file = Assets::get(&name)?;
                let hash: String = file.metadata.sha256_hash()[..6].iter().map(|b| format!("{b:02x}")).collect();
                let data = match file.data {
                    std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
                    std::borrow::Cow::Owned(v) => Bytes::from(v),
                };
                let mime = mime_guess::from_path(name.as_ref()).first_or_octet_stream().to_string();
                Some((name.to_string(), Asset { data, mime, hash }))
            })
            .collect()
    })
}

/// The URL of an embedded asset, with its content hash.
pub fn url(name: &str) -> String {
    match table().get(name) {
        Some(a) => format!("/assets/{}/{name}", a.hash),
        None => format!("/assets/0/{name}"),
    }
}

pub fn response(name: &str) -> Option<Response<Body>> {
    let asset = table().get(name)?;
    let mut res = Response::new(Body::Full(Some(asset.data.clone())));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_str(&asset.mime).ok()?);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(ETAG, HeaderValue::from_str(&format!("\"{}\"", asset.hash)).ok()?);
    Some(res)
}
