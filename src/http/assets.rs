//! Static assets (CSS, JS modules, icons) compiled into the binary with
//! rust-embed and served under `/assets/{hash}/{name}` with a year-long
//! cache. One hash covers every asset, so the relative imports between JS
//! modules (`./api.js`) stay inside one version: any change gives every
//! asset a new URL.

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
    /// The same, gzipped once (text only).
    gz: Option<Bytes>,
    mime: String,
}

struct Table {
    assets: HashMap<String, Asset>,
    /// Of every asset's content together.
    hash: String,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut names: Vec<String> = Assets::iter().map(|n| n.to_string()).collect();
        names.sort();
        let mut all = Vec::new();
        let mut assets = HashMap::new();
        for name in names {
            let Some(file) = Assets::get(&name) else { continue };
            all.extend_from_slice(name.as_bytes());
            all.extend_from_slice(&file.metadata.sha256_hash());
            let data = match file.data {
                std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
                std::borrow::Cow::Owned(v) => Bytes::from(v),
            };
            let mime = mime_guess::from_path(&name).first_or_octet_stream().to_string();
            let gz = super::compress::is_text(&mime)
                .then(|| Bytes::from(super::compress::gzip(&data, 9)))
                .filter(|z| z.len() < data.len());
            assets.insert(name, Asset { data, gz, mime });
        }
        let hash = format!("{:012x}", xxhash_rust::xxh3::xxh3_64(&all) >> 16);
        Table { assets, hash }
    })
}

/// The URL of an embedded asset, with the assets' hash.
pub fn url(name: &str) -> String {
    format!("/assets/{}/{name}", table().hash)
}

/// An asset's response; gzipped (as stored) when the client takes it.
pub fn response(name: &str, gzip: bool) -> Option<Response<Body>> {
    let t = table();
    let asset = t.assets.get(name)?;
    let packed = asset.gz.as_ref().filter(|_| gzip);
    let mut res = Response::new(Body::Full(Some(packed.unwrap_or(&asset.data).clone())));
    let h = res.headers_mut();
    if let Some(z) = packed {
        h.insert(hyper::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        h.insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(z.len()));
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_str(&asset.mime).ok()?);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(ETAG, HeaderValue::from_str(&format!("\"{}\"", t.hash)).ok()?);
    Some(res)
}

/// The service worker, at `/sw.js`: never cached by the browser's HTTP
/// cache (it updates itself through its own checks).
pub fn service_worker() -> Option<Response<Body>> {
    let asset = table().assets.get("sw.js")?;
    let mut res = Response::new(Body::Full(Some(asset.data.clone())));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/javascript"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(res)
}
