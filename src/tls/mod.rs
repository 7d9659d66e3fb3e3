//! HTTPS: the certificate the server shows, and the TLS settings it
//! accepts connections with.
//!
//! - `--tls-cert FILE --tls-key FILE`: a certificate of one's own (PEM).
//!   The files are looked at every `LOOK_EVERY` and read again when they
//!   change (a renewal by certbot, acme.sh or a NAS's own tool); a pair
//!   that does not load keeps the last good one in use, with a warning.
//! - `--tls auto`: a certificate authority of this server, made once and
//!   kept in the data dir (`authority`), issues the server's certificate
//!   for its names and addresses, again when they change and long before
//!   it expires. Installing the authority's certificate once on a phone
//!   makes its browser trust the server.
//!
//! One rustls `ServerConfig` serves every connection: its certificate is
//! swapped in place (`Current`), so sessions resume across renewals. ALPN
//! offers HTTP/2 and HTTP/1.1.

pub mod authority;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

pub use authority::Authority;

/// How often the certificate's files (or, with `--tls auto`, this
/// machine's names and addresses) are looked at.
pub const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Where the server's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// PEM files of one's own: the chain (leaf first) and its key.
    Files { cert: PathBuf, key: PathBuf },
    /// Issued here by this server's own authority (`--tls auto`).
    Auto,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}", .0.display())]
    Read(PathBuf, #[source] io::Error),
    #[error("{} holds no certificate (a PEM file with -----BEGIN CERTIFICATE-----)", .0.display())]
    NoCertificate(PathBuf),
    #[error("{} holds no private key (a PEM file with PKCS#8, PKCS#1 or SEC1 key)", .0.display())]
    NoKey(PathBuf),
    #[error("{} and {} are no usable pair: {}", .0.display(), .1.display(), .2)]
    Unusable(PathBuf, PathBuf, rustls::Error),
    #[error("the local certificate authority in {}: {}", .0.display(), .1)]
    Authority(PathBuf, String),
    #[error("TLS settings: {0}")]
    Settings(rustls::Error),
}

/// The server's TLS: its settings, the certificate in use and where it
/// comes from.
pub struct Tls {
    config: Arc<ServerConfig>,
    current: Arc<Current>,
    source: Source,
    /// With `--tls auto`: the authority, and what its last certificate was
    /// issued for.
    authority: Option<Authority>,
    /// What was last loaded or issued (compared on each look).
    seen: Mutex<Seen>,
    /// The names the server is reached by, besides its addresses
    /// (`--tls auto`): this machine's name and the `--host-name`s.
    names: Vec<String>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("source", &self.source).finish_non_exhaustive()
    }
}

#[derive(Debug, PartialEq)]
enum Seen {
    /// The files' identities (`Stamp`) when last read.
    Files(Stamp, Stamp),
    /// What the certificate in use was issued for, and when.
    Issued(authority::Names, SystemTime),
}

/// A file as last seen: changes when it is rewritten or a link is
/// pointed elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// A file's stamp (a file that cannot be looked at: the default one).
fn stamp(path: &Path) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map_or_else(|_| Stamp::default(), |m| Stamp { modified: m.modified().ok(), len: m.len(), inode: m.ino() })
}

impl Tls {
    /// Loads the certificate (or makes the authority and issues one) and
    /// builds the settings. Blocking: reads and maybe writes files.
    /// `machine`: this machine's name; `names`: the `--host-name`s;
    /// `data_dir` keeps the authority.
    pub fn start(source: Source, data_dir: &Path, machine: Option<&str>, names: &[String]) -> Result<Tls, TlsError> {
        let names: Vec<String> = machine.into_iter().map(String::from).chain(names.iter().cloned()).collect();
        let (key, seen, authority) = match &source {
            Source::Files { cert, key } => {
                let seen = Seen::Files(stamp(cert), stamp(key));
                (load(cert, key)?, seen, None)
            }
            Source::Auto => {
                let authority = Authority::open_or_create(&data_dir.join("tls"), &names)?;
                let wanted = authority::Names::now(&names);
                let key = authority.issue(&wanted)?;
                (key, Seen::Issued(wanted, SystemTime::now()), Some(authority))
            }
        };
        let current = Arc::new(Current(ArcSwap::from_pointee(key)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Settings)?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls { config: Arc::new(config), current, source, authority, seen: Mutex::new(seen), names })
    }

    /// The settings to accept a connection with.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// This server's own authority (`--tls auto`).
    pub fn authority(&self) -> Option<&Authority> {
        self.authority.as_ref()
    }

    /// Loads the files again if they changed, or issues a new certificate
    /// if the names or addresses changed or the one in use is getting
    /// old. Blocking. A failure leaves the certificate in use, and says so.
    pub fn look(&self) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match (&self.source, &self.authority) {
            (Source::Files { cert, key }, _) => {
                let now = Seen::Files(stamp(cert), stamp(key));
                if *seen == now {
                    return;
                }
                *seen = now;
                match load(cert, key) {
                    Ok(k) => {
                        self.current.0.store(Arc::new(k));
                        tracing::info!("TLS: loaded the new certificate from {}", cert.display());
                    }
                    Err(e) => tracing::warn!("TLS: the changed certificate is not used, the last one stays: {e}"),
                }
            }
            (Source::Auto, Some(authority)) => {
                let wanted = authority::Names::now(&self.names);
                let stale = match &*seen {
                    Seen::Issued(names, at) => *names != wanted || authority::due(*at, SystemTime::now()),
                    _ => true,
                };
                if !stale {
                    return;
                }
                match authority.issue(&wanted) {
                    Ok(k) => {
                        self.current.0.store(Arc::new(k));
                        tracing::info!("TLS: issued a new certificate for {}", wanted);
                        *seen = Seen::Issued(wanted, SystemTime::now());
                    }
                    Err(e) => tracing::warn!("TLS: {e}"),
                }
            }
            (Source::Auto, None) => {}
        }
    }

    /// The names and addresses the certificate in use was issued for
    /// (`--tls auto`), for the admin page.
    pub fn issued_for(&self) -> Option<String> {
        match &*self.seen.lock().unwrap_or_else(|p| p.into_inner()) {
            Seen::Issued(names, _) => Some(names.to_string()),
            _ => None,
        }
    }
}

/// Reads a certificate chain and its key, and checks they belong together.
pub fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let cert_pem = std::fs::read(cert).map_err(|e| TlsError::Read(cert.to_path_buf(), e))?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&cert_pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key_pem = std::fs::read(key).map_err(|e| TlsError::Read(key.to_path_buf(), e))?;
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey(key.to_path_buf()))?;
    certified(chain, private).map_err(|e| TlsError::Unusable(cert.to_path_buf(), key.to_path_buf(), e))
}

/// A chain and its key as rustls uses them (refused if they do not match).
fn certified(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<CertifiedKey, rustls::Error> {
    CertifiedKey::from_der(chain, key, &rustls::crypto::ring::default_provider())
}

/// The certificate in use, swapped when renewed.
struct Current(ArcSwap<CertifiedKey>);

impl fmt::Debug for Current {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Current")
    }
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}
