//! Roots in object storage: `--dir s3://BUCKET/PREFIX` (S3 and the stores
//! that speak it: Garage, MinIO, SeaweedFS) and `--dir az://CONTAINER/PREFIX`
//! (Azure Blob Storage, Azurite), resolved with their endpoint, region and
//! credentials. Credentials come from the environment or a file, are
//! never printed (`Secret`'s `Debug`) and never logged.

use std::fmt;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use crate::cli::ObjectArgs;

use super::ConfigError;

/// Which service a bucket root is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    S3,
    Azure,
}

/// A secret string: shown as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The key a bucket root signs its requests with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id (S3) or the storage account (Azure).
    pub id: String,
    pub secret: Secret,
    /// A session token (S3, `AWS_SESSION_TOKEN`).
    pub token: Option<Secret>,
}

/// A root in a bucket, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub service: Service,
    /// The bucket (S3) or container (Azure).
    pub name: String,
    /// The folder in it, without slashes at either end ("" for the whole bucket).
    pub prefix: String,
    /// `None`: the service's own (AWS, `ACCOUNT.blob.core.windows.net`).
    pub endpoint: Option<String>,
    pub region: String,
    /// `None`: unsigned requests (a public bucket).
    pub credentials: Option<Credentials>,
    /// The endpoint is plain http (allowed: loopback, private, or told so).
    pub http: bool,
    /// More certificates to trust (DER; `--objects-ca-file`).
    pub extra_ca: Vec<Vec<u8>>,
}

impl Bucket {
    /// The root's name as the index keys its files: `s3://name/prefix`.
    pub fn url(&self) -> String {
        let scheme = match self.service {
            Service::S3 => "s3",
            Service::Azure => "az",
        };
        match self.prefix.as_str() {
            "" => format!("{scheme}://{}", self.name),
            p => format!("{scheme}://{}/{p}", self.name),
        }
    }
}

/// Whether `--dir` names a bucket (`s3://` or `az://`).
pub fn is_bucket(dir: &Path) -> bool {
    let s = dir.as_os_str().as_encoded_bytes();
    s.starts_with(b"s3://") || s.starts_with(b"az://")
}

/// Resolves `s3://BUCKET/PREFIX` or `az://CONTAINER/PREFIX` with `args`.
pub fn resolve(dir: &Path, args: &ObjectArgs) -> Result<Bucket, ConfigError> {
    let bad = |why: &str| ConfigError::Bucket(dir.display().to_string(), why.to_string());
    let text = dir.to_str().ok_or_else(|| bad("not UTF-8"))?;
    let (service, rest) = match text.split_once("://") {
        Some(("s3", rest)) => (Service::S3, rest),
        Some(("az", rest)) => (Service::Azure, rest),
        _ => return Err(bad("not s3://BUCKET/PREFIX or az://CONTAINER/PREFIX")),
    };
    let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_matches('/');
    if !valid_bucket_name(name) {
        return Err(bad("a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens"));
    }
    if prefix.split('/').any(|s| s == "." || s == "..") || prefix.contains("//") {
        return Err(bad("the prefix may not hold empty, . or .. parts"));
    }
    let (endpoint, region, credentials) = match service {
        Service::S3 => {
            let region = args
                .s3_region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok())
                .unwrap_or_else(|| "us-east-1".into());
            (args.s3_endpoint.clone(), region, s3_credentials(args.s3_credentials_file.as_deref())?)
        }
        Service::Azure => (args.azure_endpoint.clone(), String::new(), azure_credentials()),
    };
    let http = match &endpoint {
        Some(url) => plain_http(url, args.objects_allow_http).map_err(|why| bad(&why))?,
        None => false,
    };
    if service == Service::Azure && credentials.is_none() {
        return Err(bad("no storage account: set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY"));
    }
    let extra_ca = match &args.objects_ca_file {
        Some(file) => match super::pem_certificates(file) {
            Ok(certs) if !certs.is_empty() => certs,
            Ok(_) => return Err(ConfigError::CaFile(file.clone(), "no CERTIFICATE in it".into())),
            Err(e) => return Err(ConfigError::CaFile(file.clone(), e.to_string())),
        },
        None => Vec::new(),
    };
    Ok(Bucket { service, name: name.into(), prefix: prefix.into(), endpoint, region, credentials, http, extra_ca })
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

/// Whether `url` is plain http; an error when it is neither http nor
/// https, or http to an address that is not loopback or private (unless
/// `allowed`): keys and videos would cross the internet in clear.
fn plain_http(url: &str, allowed: bool) -> Result<bool, String> {
    let (scheme, rest) = url.split_once("://").ok_or("the endpoint is not a URL (http://HOST:PORT)")?;
    match scheme {
        "https" => return Ok(false),
        "http" => {}
        _ => return Err(format!("the endpoint's scheme is {scheme:?}, not http or https")),
    }
    if allowed {
        return Ok(true);
    }
    let authority = rest.split('/').next().unwrap_or("");
    let with_port = if authority.starts_with('[') || authority.matches(':').count() == 1 {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<IpAddr> = match with_port.to_socket_addrs() {
        Ok(a) => a.map(|a| a.ip()).collect(),
        Err(e) => return Err(format!("the endpoint's host cannot be resolved ({e})")),
    };
    if addrs.is_empty() || !addrs.iter().all(|ip| private(*ip)) {
        return Err(
            "a plain http:// endpoint must be on a loopback or private address; use https:// (or --objects-allow-http)"
                .into(),
        );
    }
    Ok(true)
}

/// Loopback, private (RFC 1918, unique local) or link-local.
pub fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| private(IpAddr::V4(v4)))
        }
    }
}

/// The S3 key: from `file` when given (`aws_access_key_id` and
/// `aws_secret_access_key`, the `[default]` profile or the only one; or
/// `AWS_ACCESS_KEY_ID=` lines), else from the environment; `None` when
/// neither has one.
fn s3_credentials(file: Option<&Path>) -> Result<Option<Credentials>, ConfigError> {
    let Some(file) = file else {
        let id = std::env::var("AWS_ACCESS_KEY_ID").ok().filter(|s| !s.is_empty());
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok().filter(|s| !s.is_empty());
        let token = std::env::var("AWS_SESSION_TOKEN").ok().filter(|s| !s.is_empty()).map(Secret);
        return Ok(id.zip(secret).map(|(id, secret)| Credentials { id, secret: Secret(secret), token }));
    };
    let unreadable = |why: String| ConfigError::Credentials(file.to_path_buf(), why);
    let meta = std::fs::metadata(file).map_err(|e| unreadable(e.to_string()))?;
    if meta.len() > 64 * 1024 {
        return Err(unreadable("larger than 64 KiB; not a credentials file".into()));
    }
    let text = std::fs::read_to_string(file).map_err(|e| unreadable(e.to_string()))?;
    parse_credentials(&text)
        .ok_or_else(|| unreadable("no aws_access_key_id and aws_secret_access_key in it".into()))
        .map(Some)
}

/// `aws_access_key_id`/`aws_secret_access_key` (any case, `=` with spaces
/// or none) from the `[default]` profile, or before any profile, or from
/// the only profile.
fn parse_credentials(text: &str) -> Option<Credentials> {
    let mut profiles: Vec<(String, Vec<(String, String)>)> = vec![(String::new(), Vec::new())];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            profiles.push((name.trim().to_string(), Vec::new()));
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').trim_matches('\'');
            profiles.last_mut()?.1.push((k.trim().to_ascii_lowercase(), v.to_string()));
        }
    }
    let of = |pairs: &[(String, String)]| {
        let get = |k: &str| pairs.iter().find(|(key, v)| key == k && !v.is_empty()).map(|(_, v)| v.clone());
        let id = get("aws_access_key_id")?;
        let secret = get("aws_secret_access_key")?;
        Some(Credentials { id, secret: Secret(secret), token: get("aws_session_token").map(Secret) })
    };
    let named: Vec<_> = profiles.iter().filter(|(n, p)| !n.is_empty() && !p.is_empty()).collect();
    profiles
        .iter()
        .find(|(n, _)| n == "default" || n == "profile default")
        .and_then(|(_, p)| of(p))
        .or_else(|| of(&profiles[0].1))
        .or_else(|| (named.len() == 1).then(|| of(&named[0].1)).flatten())
}

/// The Azure account and key from `AZURE_STORAGE_ACCOUNT` and
/// `AZURE_STORAGE_KEY`.
fn azure_credentials() -> Option<Credentials> {
    let id = std::env::var("AZURE_STORAGE_ACCOUNT").ok().filter(|s| !s.is_empty())?;
    let key = std::env::var("AZURE_STORAGE_KEY").ok().filter(|s| !s.is_empty())?;
    Some(Credentials { id, secret: Secret(key), token: None })
}

/// The path a bucket root is keyed by in the index.
pub fn root_path(bucket: &Bucket) -> PathBuf {
    PathBuf::from(bucket.url())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(endpoint: &str) -> ObjectArgs {
        ObjectArgs { s3_endpoint: Some(endpoint.into()), s3_region: Some("garage".into()), ..Default::default() }
    }

    #[test]
    fn bucket_urls_parse_and_bad_ones_are_refused() {
        let b = resolve(Path::new("s3://films/kids/2024/"), &args("http://127.0.0.1:3900")).unwrap();
        assert_eq!((b.service, b.name.as_str(), b.prefix.as_str(), b.http), (Service::S3, "films", "kids/2024", true));
        assert_eq!(b.url(), "s3://films/kids/2024");
        assert_eq!(resolve(Path::new("s3://films"), &args("https://s3.example.com")).unwrap().url(), "s3://films");
        for bad in ["s3://A", "s3://fi", "s3://films/../x", "s3://films/a//b", "ftp://films"] {
            assert!(resolve(Path::new(bad), &args("http://127.0.0.1:3900")).is_err(), "{bad}");
        }
        assert!(is_bucket(Path::new("az://c/p")) && !is_bucket(Path::new("/srv/s3://x")));
    }

    #[test]
    fn plain_http_only_to_private_addresses_unless_allowed() {
        assert_eq!(plain_http("http://127.0.0.1:3900", false), Ok(true));
        assert_eq!(plain_http("http://[::1]:3900/", false), Ok(true));
        assert_eq!(plain_http("http://192.168.1.5", false), Ok(true));
        assert_eq!(plain_http("https://8.8.8.8", false), Ok(false));
        assert!(plain_http("http://8.8.8.8:9000", false).is_err());
        assert_eq!(plain_http("http://8.8.8.8:9000", true), Ok(true));
        assert!(plain_http("gopher://127.0.0.1", false).is_err());
        assert!(private("fd00::1".parse().unwrap()) && !private("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn credentials_files_in_the_usual_shapes() {
        let ini = "# mine\n[other]\naws_access_key_id = X\naws_secret_access_key = Y\n[default]\naws_access_key_id = GKabc\naws_secret_access_key = s3cr3t\n";
        let c = parse_credentials(ini).unwrap();
        assert_eq!((c.id.as_str(), c.secret.0.as_str()), ("GKabc", "s3cr3t"));
        let env = "export AWS_ACCESS_KEY_ID=\"GKdef\"\nAWS_SECRET_ACCESS_KEY='pw'\n";
        assert_eq!(parse_credentials(env).unwrap().id, "GKdef");
        assert_eq!(parse_credentials("[only]\naws_access_key_id=a\naws_secret_access_key=b\n").unwrap().id, "a");
        assert!(parse_credentials("aws_access_key_id=a\n").is_none());
        assert_eq!(format!("{:?}", c.secret), "***");
    }
}
