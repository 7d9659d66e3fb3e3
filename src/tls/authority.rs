//! `--tls auto`: this server's own certificate authority.
//!
//! Made once, kept in `DATA/tls` (the folder readable only by the
//! service): `authority.pem` (the certificate devices install),
//! `authority-key.pem` (its key, mode 0600, written last, so a folder
//! without it is made again) and `authority.json` (its name and the names
//! it may vouch for). It may only sign server certificates (path length
//! 0), and only for the local network: its name constraints permit
//! `localhost`, `.local`, `.home.arpa`, `.lan`, `.internal`, this machine's
//! name and the `--host-name`s when it was made, and the private, loopback,
//! link-local and carrier-grade NAT address ranges. A copy of its key
//! could not be used to impersonate any site on the internet.
//!
//! The server's own certificate is issued at start and again when its
//! names or addresses change or it is `RENEW_AFTER` old (valid for
//! `VALID_FOR`); it is never written to disk.

use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, SanType, SerialNumber,
};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};

use super::TlsError;

/// How long the authority's own certificate is valid.
const AUTHORITY_VALID_FOR: Duration = Duration::from_secs(20 * 365 * 86_400);
/// How long a server certificate is valid.
pub const VALID_FOR: Duration = Duration::from_secs(90 * 86_400);
/// A server certificate this old is replaced (two months before it ends).
pub const RENEW_AFTER: Duration = Duration::from_secs(30 * 86_400);

/// DNS names every authority permits, besides the machine's own.
const LOCAL_DOMAINS: [&str; 5] = ["localhost", "local", "home.arpa", "lan", "internal"];

/// Address ranges every authority permits: loopback, private, link-local,
/// carrier-grade NAT, unique local.
fn local_ranges() -> Vec<CidrSubnet> {
    vec![
        CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8),
        CidrSubnet::from_v4_prefix([10, 0, 0, 0], 8),
        CidrSubnet::from_v4_prefix([172, 16, 0, 0], 12),
        CidrSubnet::from_v4_prefix([192, 168, 0, 0], 16),
        CidrSubnet::from_v4_prefix([169, 254, 0, 0], 16),
        CidrSubnet::from_v4_prefix([100, 64, 0, 0], 10),
        CidrSubnet::from_v6_prefix(std::net::Ipv6Addr::LOCALHOST.octets(), 128),
        CidrSubnet::from_v6_prefix([0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 7),
        CidrSubnet::from_v6_prefix([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 10),
    ]
}

/// What `authority.json` keeps: what the certificate was made with, so
/// that certificates it issues name it exactly.
#[derive(Debug, Serialize, Deserialize)]
struct Kept {
    /// The authority's common name, "vidserve on NAS (1a2b3c)".
    name: String,
    /// The DNS names it may vouch for (and names under them).
    dns: Vec<String>,
}

pub struct Authority {
    dir: PathBuf,
    kept: Kept,
    key: KeyPair,
    der: CertificateDer<'static>,
    pem: String,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority").field("dir", &self.dir).field("name", &self.kept.name).finish_non_exhaustive()
    }
}

impl Authority {
    /// The authority kept in `dir`, or a new one made there, permitting
    /// `names` (this machine's name, then the `--host-name`s) besides the
    /// local domains.
    pub fn open_or_create(dir: &Path, names: &[String]) -> Result<Authority, TlsError> {
        let fail = |what: String| TlsError::Authority(dir.to_path_buf(), what);
        let key_file = dir.join("authority-key.pem");
        match std::fs::read_to_string(&key_file) {
            Ok(key_pem) => Authority::open(dir, &key_pem).map_err(|e| {
                fail(format!(
                    "{e}; move {} away to make a new authority (and install the new one on your devices)",
                    dir.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Authority::create(dir, names).map_err(fail),
            Err(e) => Err(fail(format!("cannot read {}: {e}", key_file.display()))),
        }
    }

    fn open(dir: &Path, key_pem: &str) -> Result<Authority, String> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| format!("its key does not load: {e}"))?;
        let json = std::fs::read(dir.join("authority.json")).map_err(|e| format!("authority.json: {e}"))?;
        let kept: Kept = serde_json::from_slice(&json).map_err(|e| format!("authority.json: {e}"))?;
        let pem = std::fs::read_to_string(dir.join("authority.pem")).map_err(|e| format!("authority.pem: {e}"))?;
        use rustls_pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| format!("authority.pem: {e}"))?;
        // The certificate must be the key's (a folder put together from
        // two authorities would issue certificates nobody trusts).
        let public = rcgen::PublicKeyData::der_bytes(&key);
        if !der.windows(public.len()).any(|w| w == public) {
            return Err("authority.pem is not the certificate of authority-key.pem".into());
        }
        Ok(Authority { dir: dir.to_path_buf(), kept, key, der, pem })
    }

    fn create(dir: &Path, names: &[String]) -> Result<Authority, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot make the folder: {e}"))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot make the folder private: {e}"))?;
        let machine = names.first().map_or("this machine", String::as_str);
        let mut tag = [0u8; 3];
        getrandom::fill(&mut tag).map_err(|e| e.to_string())?;
        let name = format!("vidserve on {machine} ({:02x}{:02x}{:02x})", tag[0], tag[1], tag[2]);
        let mut dns: Vec<String> = LOCAL_DOMAINS.iter().map(|d| d.to_string()).collect();
        dns.extend(names.iter().filter_map(|n| dns_name(n)));
        dns.sort();
        dns.dedup();
        let kept = Kept { name, dns };
        let key = KeyPair::generate().map_err(|e| e.to_string())?;
        let mut params = authority_params(&kept);
        let now = SystemTime::now();
        params.not_before = time_of(now - Duration::from_secs(3600));
        params.not_after = time_of(now + AUTHORITY_VALID_FOR);
        params.serial_number = Some(serial()?);
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: kept
                .dns
                .iter()
                .map(|d| GeneralSubtree::DnsName(d.clone()))
                .chain(local_ranges().into_iter().map(GeneralSubtree::IpAddress))
                .collect(),
            excluded_subtrees: Vec::new(),
        });
        let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
        let pem = cert.pem();
        let json = serde_json::to_vec_pretty(&kept).map_err(|e| e.to_string())?;
        write_file(&dir.join("authority.json"), &json, 0o600)?;
        write_file(&dir.join("authority.pem"), pem.as_bytes(), 0o644)?;
        // Last: a folder without the key is made again.
        write_file(&dir.join("authority-key.pem"), key.serialize_pem().as_bytes(), 0o600)?;
        tracing::info!("TLS: made the local certificate authority {:?} in {}", kept.name, dir.display());
        Ok(Authority { dir: dir.to_path_buf(), kept, key, der: cert.der().clone(), pem })
    }

    /// The certificate devices install, as PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Its name, as devices show it in their list of certificates.
    pub fn name(&self) -> &str {
        &self.kept.name
    }

    /// The SHA-256 fingerprint of the certificate, `AB:CD:…`, to compare
    /// with what a device shows before trusting it.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.der.as_ref());
        digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }

    /// A certificate for `names` (those the authority may not vouch for
    /// are left out, with a warning), with its key.
    pub fn issue(&self, names: &Names) -> Result<CertifiedKey, TlsError> {
        let fail = |what: String| TlsError::Authority(self.dir.clone(), what);
        let (dns, outside): (Vec<&String>, Vec<&String>) = names.dns.iter().partition(|n| self.permits(n));
        if !outside.is_empty() {
            tracing::warn!(
                "TLS: the local authority was made before {} was a name of this server, so it cannot vouch \
                 for it; to be reached by that name over HTTPS, move {} away and restart (then install the \
                 new authority on your devices)",
                outside.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                self.dir.display()
            );
        }
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        let first = dns.iter().find(|d| d.as_str() != "localhost").or(dns.first());
        dn.push(DnType::CommonName, first.map_or("vidserve", |d| d.as_str()));
        params.distinguished_name = dn;
        for d in dns {
            let name = d.clone().try_into().map_err(|e: rcgen::Error| fail(format!("{d:?}: {e}")))?;
            params.subject_alt_names.push(SanType::DnsName(name));
        }
        params.subject_alt_names.extend(names.ips.iter().map(|ip| SanType::IpAddress(*ip)));
        let now = SystemTime::now();
        params.not_before = time_of(now - Duration::from_secs(3600));
        params.not_after = time_of(now + VALID_FOR);
        params.serial_number = Some(serial().map_err(fail)?);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(|e| fail(e.to_string()))?;
        let issuer = Issuer::new(authority_params(&self.kept), &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(|e| fail(e.to_string()))?;
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        super::certified(vec![cert.der().clone(), self.der.clone()], private).map_err(|e| fail(e.to_string()))
    }

    /// Whether a DNS name is under one the authority may vouch for.
    fn permits(&self, name: &str) -> bool {
        self.kept.dns.iter().any(|d| name == d || name.strip_suffix(d.as_str()).is_some_and(|r| r.ends_with('.')))
    }
}

/// The authority's certificate fields that name it in what it issues
/// (subject, key identifier, key usages): the same each time.
fn authority_params(kept: &Kept) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, kept.name.as_str());
    dn.push(DnType::OrganizationName, "vidserve");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// Whether a certificate issued at `at` is due for renewal at `now`
/// (also when the clock went back before it).
pub fn due(at: SystemTime, now: SystemTime) -> bool {
    now.duration_since(at).map_or(true, |age| age >= RENEW_AFTER)
}

/// The names and addresses a server certificate is issued for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub dns: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl Names {
    /// `localhost`, each of `names` (and `NAME.local` for a bare name), the
    /// loopback addresses and this machine's local network addresses now.
    pub fn now(names: &[String]) -> Names {
        let ips = if_addrs::get_if_addrs().unwrap_or_default().into_iter().map(|i| i.ip());
        Names::of(names, ips)
    }

    fn of(names: &[String], ips: impl Iterator<Item = IpAddr>) -> Names {
        let mut dns = vec!["localhost".to_string()];
        for n in names.iter().filter_map(|n| dns_name(n)) {
            if !n.contains('.') {
                dns.push(format!("{n}.local"));
            }
            dns.push(n);
        }
        dns.sort();
        dns.dedup();
        let loopback: [IpAddr; 2] = [std::net::Ipv4Addr::LOCALHOST.into(), std::net::Ipv6Addr::LOCALHOST.into()];
        let mut ips: Vec<IpAddr> = loopback
            .into_iter()
            .chain(ips.map(|ip| ip.to_canonical()).filter(|ip| crate::dial::is_local(*ip)))
            .collect();
        ips.sort();
        ips.dedup();
        Names { dns, ips }
    }
}

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ips = self.ips.iter().map(|ip| ip.to_string());
        f.write_str(&self.dns.iter().cloned().chain(ips).collect::<Vec<_>>().join(", "))
    }
}

/// `name` as a DNS name for a certificate: lowercase, no trailing dot,
/// letters, digits, `-` and dots between labels; `None` if it is not one
/// (or is an address).
fn dns_name(name: &str) -> Option<String> {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = n.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    (labels_ok && n.len() <= 253 && n.parse::<IpAddr>().is_err()).then_some(n)
}

fn serial() -> Result<SerialNumber, String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}

fn time_of(t: SystemTime) -> time::OffsetDateTime {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Writes a file whole (a temporary file renamed over it) with `mode`.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_for_the_certificate() {
        let ips = ["192.168.1.20", "8.8.8.8", "fe80::1", "2001:db8::1", "::ffff:10.0.0.2"].map(|s| s.parse().unwrap());
        let n = Names::of(
            &["NAS".into(), "media.example.com.".into(), "bad name".into(), "10.0.0.9".into()],
            ips.into_iter(),
        );
        assert_eq!(n.dns, ["localhost", "media.example.com", "nas", "nas.local"]);
        let shown: Vec<String> = n.ips.iter().map(|i| i.to_string()).collect();
        assert_eq!(shown, ["10.0.0.2", "127.0.0.1", "192.168.1.20", "::1", "fe80::1"], "public addresses left out");
    }

    #[test]
    fn renewal_is_due_after_a_month_or_when_the_clock_went_back() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(!due(at, at + Duration::from_secs(86_400)));
        assert!(due(at, at + RENEW_AFTER));
        assert!(due(at, at - Duration::from_secs(10)));
    }

    #[test]
    fn an_authority_is_kept_private_and_vouches_only_for_local_names() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().join("tls");
        let a = Authority::open_or_create(&dir, &["nas".into(), "media.example.com".into()]).unwrap();
        let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(""), mode("authority-key.pem"), mode("authority.pem")), (0o700, 0o600, 0o644));
        assert!(a.name().starts_with("vidserve on nas ("));
        assert_eq!(a.fingerprint().len(), 32 * 3 - 1);
        for ok in ["nas", "tv.local", "x.home.arpa", "media.example.com", "a.media.example.com", "localhost"] {
            assert!(a.permits(ok), "{ok}");
        }
        for bad in ["example.com", "evilnas", "nas.example.org", "xlocal"] {
            assert!(!a.permits(bad), "{bad}");
        }
        // Opened again: the same authority.
        let again = Authority::open_or_create(&dir, &["other".into()]).unwrap();
        assert_eq!((again.name(), again.fingerprint()), (a.name(), a.fingerprint()));
        let names = Names::of(&["nas".into(), "other.example".into()], std::iter::empty());
        let issued = again.issue(&names).unwrap();
        assert_eq!(issued.cert.len(), 2, "the chain names the authority");
        // A key that is not the certificate's is refused, with the way out.
        let other = tempfile::tempdir().unwrap();
        let b = Authority::open_or_create(other.path(), &[]).unwrap();
        std::fs::write(dir.join("authority-key.pem"), b.key.serialize_pem()).unwrap();
        let e = Authority::open_or_create(&dir, &[]).unwrap_err().to_string();
        assert!(e.contains("not the certificate") && e.contains("move"), "{e}");
        std::fs::write(dir.join("authority-key.pem"), "garbage").unwrap();
        assert!(Authority::open_or_create(&dir, &[]).is_err());
    }
}
