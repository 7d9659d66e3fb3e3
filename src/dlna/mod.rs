//! DLNA (UPnP AV): televisions and other players on the network find the
//! library and play it, as they find a NAS running MiniDLNA (`--dlna`).
//!
//! - `ssdp`: the announcements (`NOTIFY`) and the answers to searches
//!   (`M-SEARCH`) on UDP port 1900 of the interfaces it is given.
//! - `describe`: the device description and the two services' documents.
//! - `soap`: the control requests (SOAP over HTTP POST) read, and their
//!   answers and faults written.
//! - `directory`: the ContentDirectory (Browse and Search) over the
//!   library, as the `dlna` profile sees it; `criteria`: Search's language.
//! - `events`: GENA subscriptions and their `NOTIFY`s.
//! - `renderers`: the TVs on the network, found by SSDP; `cast`: playing a
//!   video on one for someone (AVTransport), keeping the position in their
//!   history; `client`: the one-request HTTP client both use.
//!
//! The HTTP routes (`/dlna/…`) are `http::handlers::dlna`'s. Nothing here
//! is secret: a DLNA player signs in to nothing, so the library it shows is
//! what the `dlna` profile may see (Admin > Libraries), and only devices on
//! the local network are answered, as everywhere.

pub mod cast;
pub mod client;
pub mod criteria;
pub mod describe;
pub mod directory;
pub mod events;
pub mod renderers;
pub mod soap;
pub mod ssdp;

use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::config::DlnaConfig;

/// The device's path on the HTTP server (the `LOCATION` of announcements).
pub const DEVICE_PATH: &str = "/dlna/device.xml";

/// The media server: who it says it is.
#[derive(Debug)]
pub struct Dlna {
    /// `uuid:…`, the same across restarts (kept in the data dir).
    pub udn: String,
    /// What players list it as.
    pub name: String,
    /// The interfaces named by `--dlna-interface` (empty: every one with
    /// an IPv4 address but loopback).
    pub interfaces: Vec<String>,
    /// The folder tree of the latest catalog browsed.
    folders: Mutex<Option<Arc<directory::Folders>>>,
    /// The renderers (TVs) found on those interfaces.
    pub renderers: Arc<renderers::Renderers>,
    /// Players subscribed to the services' events.
    pub events: Arc<events::Events>,
    /// The subtitle files of folders listed for recent answers.
    pub listed: Listed,
}

/// What folders held when listed for a recent answer, kept `LISTED_FOR`
/// (a player pages through a folder in many answers), at most
/// `MAX_LISTED` folders (then forgotten all at once).
#[derive(Default)]
pub struct Listed {
    folders: Mutex<std::collections::HashMap<(usize, std::path::PathBuf), (std::time::Instant, Names)>>,
}

/// File names of one folder.
type Names = Arc<[std::ffi::OsString]>;

const LISTED_FOR: std::time::Duration = std::time::Duration::from_secs(30);
const MAX_LISTED: usize = 1024;

impl std::fmt::Debug for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Listed")
    }
}

impl Listed {
    /// Folder `dir` of root `root` as `list` lists it, or as it did less
    /// than `LISTED_FOR` ago. Blocking when it lists.
    pub fn get(&self, root: usize, dir: &Path, list: impl FnOnce() -> Vec<std::ffi::OsString>) -> Names {
        let now = std::time::Instant::now();
        let key = (root, dir.to_path_buf());
        let lock = || self.folders.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = lock().get(&key).filter(|(at, _)| now.duration_since(*at) < LISTED_FOR).map(|(_, n)| n.clone());
        if let Some(names) = fresh {
            return names;
        }
        let names: Names = list().into();
        let mut folders = lock();
        if folders.len() >= MAX_LISTED {
            folders.clear();
        }
        folders.insert(key, (now, names.clone()));
        names
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DlnaError {
    #[error("the DLNA device id {} cannot be kept: {}", .0.display(), .1)]
    Id(std::path::PathBuf, std::io::Error),
    #[error("cannot listen for DLNA searches on UDP port 1900: {0}; is another media server (minidlna) holding it without sharing?")]
    Socket(std::io::Error),
}

impl Dlna {
    /// Reads (or makes, once) the device's id in `data_dir` (blocking).
    pub fn open(config: &DlnaConfig, data_dir: &Path) -> Result<Dlna, DlnaError> {
        let file = data_dir.join("dlna-uuid");
        let kept = std::fs::read_to_string(&file).ok().map(|s| s.trim().to_string()).filter(|s| is_uuid(s));
        let uuid = match kept {
            Some(uuid) => uuid,
            None => {
                let uuid = new_uuid();
                std::fs::write(&file, format!("{uuid}\n")).map_err(|e| DlnaError::Id(file.clone(), e))?;
                uuid
            }
        };
        let machine = crate::app::machine_name().unwrap_or_else(|| "this computer".into());
        Ok(Dlna {
            udn: format!("uuid:{uuid}"),
            name: format!("vidserve on {machine}"),
            interfaces: config.interfaces.clone(),
            folders: Mutex::default(),
            renderers: Arc::default(),
            events: Arc::default(),
            listed: Listed::default(),
        })
    }

    /// The folder tree of `catalog`, built once per catalog (blocking: it
    /// walks every video's path the first time).
    pub fn folders(&self, catalog: &crate::catalog::Catalog) -> Arc<directory::Folders> {
        let mut kept = self.folders.lock().unwrap_or_else(|e| e.into_inner());
        match kept.as_ref() {
            Some(f) if f.generation == catalog.generation => f.clone(),
            _ => {
                let f = Arc::new(directory::Folders::of(catalog));
                *kept = Some(f.clone());
                f
            }
        }
    }
}

/// A random (version 4) UUID in its text form.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        b = fastrand::u128(..).to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes()
            .enumerate()
            .all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() })
}

/// `text` escaped for XML content and attribute values; characters XML 1.0
/// cannot carry (controls but tab and line breaks) become U+FFFD, so a file
/// name cannot break a player's parser.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| matches!(c, '<' | '>' | '&' | '"' | '\'') || (c < ' ' && !matches!(c, '\t' | '\n' | '\r'));
    if !text.contains(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c < ' ' && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        let u = new_uuid();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
        assert!(!is_uuid("not-a-uuid"));
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape("bell\u{7}tab\t"), "bell\u{fffd}tab\t");
    }

    #[test]
    fn keeps_its_id() {
        let dir = tempfile::tempdir().unwrap();
        let a = Dlna::open(&DlnaConfig::default(), dir.path()).unwrap();
        let b = Dlna::open(&DlnaConfig::default(), dir.path()).unwrap();
        assert_eq!(a.udn, b.udn);
        std::fs::write(dir.path().join("dlna-uuid"), "garbage").unwrap();
        let c = Dlna::open(&DlnaConfig::default(), dir.path()).unwrap();
        assert_ne!(c.udn, a.udn);
        assert!(is_uuid(c.udn.trim_start_matches("uuid:")));
    }
}
