//! The chat's settings: an OpenAI-compatible endpoint (`--chat-endpoint`),
//! its model, key, limits and trust. Validated once at start; the key is
//! kept in a `Secret`, which never prints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::ChatArgs;

/// Tokens asked of the model per answer when not told.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

#[derive(Debug, thiserror::Error)]
pub enum ChatConfigError {
    #[error("--chat-endpoint must be an http:// or https:// URL such as http://127.0.0.1:8081/v1, not {0}")]
    BadEndpoint(String),
    #[error("the chat key file {} cannot be read ({}); check the path given to --chat-key-file", .0.display(), .1)]
    KeyFile(PathBuf, std::io::Error),
    #[error("the chat key file {} is empty", .0.display())]
    EmptyKey(PathBuf),
    #[error("the CA file {} cannot be read ({}); give a PEM file of certificates with --chat-ca-file", .0.display(), .1)]
    CaFile(PathBuf, std::io::Error),
    #[error("the CA file {} holds no PEM certificate", .0.display())]
    NoCertificate(PathBuf),
    #[error("{0} must be a whole number, not {1:?}")]
    BadNumber(&'static str, String),
    #[error("the chat API key holds spaces or control characters; check the key file or VIDSERVE_CHAT_KEY")]
    BadKey,
}

/// A secret that never shows in logs, errors or debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// For tests: a key is otherwise only read from the environment or a file.
    #[cfg(any(test, feature = "test-support"))]
    pub fn new(s: &str) -> Secret {
        Secret(s.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with the secret blotted out (whatever a server echoes back).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "[key]")
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[hidden]")
    }
}

/// Where the endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    /// A name or an address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// The path before `/chat/completions` (such as `/v1`), no trailing `/`.
    pub base: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, ChatConfigError> {
        // Never repeat what may be a password.
        let shown =
            if url.contains('@') { "a URL with a user name or password".to_string() } else { format!("{url:?}") };
        let bad = || ChatConfigError::BadEndpoint(shown.clone());
        let (https, rest) = match url.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (true, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (false, rest),
            _ => return Err(bad()),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') || path.contains(['?', '#']) {
            return Err(bad());
        }
        let default_port = if https { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => default_port,
                None => return Err(bad()),
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().map_err(|_| bad())?),
                None => (authority.to_string(), default_port),
            }
        };
        let host_ok =
            !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
        if !host_ok || port == 0 || path.chars().any(|c| c.is_control() || c == ' ') {
            return Err(bad());
        }
        Ok(Endpoint { https, host: host.to_ascii_lowercase(), port, base: path.trim_end_matches('/').to_string() })
    }

    /// The endpoint as a URL (for the admin page and messages; no secret in it).
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{host}:{}{}", if self.https { "https" } else { "http" }, self.port, self.base)
    }
}

#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub endpoint: Endpoint,
    pub model: String,
    pub key: Option<Secret>,
    pub max_tokens: u32,
    /// More certificates to trust (PEM, DER inside), besides the bundled roots.
    pub extra_ca: Vec<Vec<u8>>,
    /// Longest one answer may take, tool calls included.
    pub timeout: Duration,
}

impl ChatConfig {
    /// `None` when no endpoint is configured (chat is off).
    pub fn from_args(args: &ChatArgs) -> Result<Option<ChatConfig>, ChatConfigError> {
        let Some(url) = args.chat_endpoint.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        let endpoint = Endpoint::parse(url)?;
        let from_env = |name: &str| std::env::var(name).ok().map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
        let key = match &args.chat_key_file {
            Some(path) => Some(read_key(path)?),
            // OPENAI_API_KEY is often set for other tools: it only goes to
            // an https endpoint, never in clear to a local server.
            None => from_env("VIDSERVE_CHAT_KEY")
                .or_else(|| from_env("OPENAI_API_KEY").filter(|_| endpoint.https))
                .map(Secret),
        };
        if key.as_ref().is_some_and(|k| k.0.chars().any(|c| c.is_control() || c == ' ')) {
            return Err(ChatConfigError::BadKey);
        }
        let max_tokens = match args.chat_max_tokens {
            Some(n) => n,
            None => match std::env::var("CHAT_MAX_TOKENS") {
                Ok(v) => v.trim().parse().map_err(|_| ChatConfigError::BadNumber("CHAT_MAX_TOKENS", v))?,
                Err(_) => DEFAULT_MAX_TOKENS,
            },
        };
        let extra_ca = match &args.chat_ca_file {
            Some(path) => read_pem(path)?,
            None => Vec::new(),
        };
        Ok(Some(ChatConfig {
            endpoint,
            model: args.chat_model.clone().unwrap_or_else(|| "default".into()),
            key,
            max_tokens: max_tokens.clamp(16, 32_768),
            extra_ca,
            timeout: Duration::from_secs(args.chat_timeout.clamp(5, 3600)),
        }))
    }
}

fn read_key(path: &Path) -> Result<Secret, ChatConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ChatConfigError::KeyFile(path.to_path_buf(), e))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(ChatConfigError::EmptyKey(path.to_path_buf()));
    }
    Ok(Secret(key.to_string()))
}

/// The DER bytes of each `CERTIFICATE` block of a PEM file.
fn read_pem(path: &Path) -> Result<Vec<Vec<u8>>, ChatConfigError> {
    let out = super::pem_certificates(path).map_err(|e| ChatConfigError::CaFile(path.to_path_buf(), e))?;
    if out.is_empty() {
        return Err(ChatConfigError::NoCertificate(path.to_path_buf()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_or_are_refused() {
        let e = Endpoint::parse("http://127.0.0.1:8081/v1/").unwrap();
        assert_eq!((e.https, e.host.as_str(), e.port, e.base.as_str()), (false, "127.0.0.1", 8081, "/v1"));
        let e = Endpoint::parse("https://API.example.com/v1").unwrap();
        assert_eq!((e.https, e.host.as_str(), e.port), (true, "api.example.com", 443));
        let e = Endpoint::parse("http://[::1]:11434/v1").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.url()), ("::1", 11434, "http://[::1]:11434/v1".to_string()));
        for bad in [
            "ftp://x/v1",
            "127.0.0.1:8080",
            "http://user:pw@host/v1",
            "http:///v1",
            "http://h:0/v1",
            "http://h/v1?x=1",
            "http://h:99999/",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_key_never_prints() {
        let s = Secret("sk-very-secret".into());
        assert_eq!(format!("{s:?}"), "[hidden]");
    }
}
