//! `--database postgres://…`: state in PostgreSQL instead of the data
//! dir's redb files. The URL is checked here; its password, if any, and
//! the one from `--database-password-file` or `PGPASSWORD` never appear in
//! what is shown or logged (`Database::shown`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::objects::Secret;
use super::ConfigError;
use crate::cli::DatabaseArgs;

/// A PostgreSQL database to keep state in.
#[derive(Debug, Clone)]
pub struct Database {
    /// Host, port, user, database name and options (password removed).
    pub config: tokio_postgres::Config,
    /// From the URL, the password file or `PGPASSWORD`.
    pub password: Option<Secret>,
    /// `postgres://user@host:port/name`: for people and logs.
    pub shown: String,
}

impl Database {
    /// The `--database` URL (or key=value string) with its password taken
    /// out; `password_file`'s first line, else `PGPASSWORD`, when the URL
    /// has none.
    pub fn parse(url: &str, password_file: Option<&Path>) -> Result<Database, ConfigError> {
        let bad = |why: String| ConfigError::Database(why);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("--database takes a postgres://USER@HOST:PORT/NAME URL".into()));
        }
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| {
            bad(format!("--database is not a PostgreSQL URL ({e}); e.g. postgres://vidserve@db:5432/vidserve"))
        })?;
        let mut password = config.get_password().map(|p| Secret(String::from_utf8_lossy(p).into_owned()));
        if password.is_none() {
            password = match password_file {
                Some(f) => Some(read_password(f)?),
                None => std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty()).map(Secret),
            };
        }
        // The config kept carries no password: it is set at each connection.
        config.password(Vec::<u8>::new());
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_user().is_none() {
            return Err(bad("--database names no user; e.g. postgres://vidserve@db:5432/vidserve".into()));
        }
        let shown = shown(&config);
        Ok(Database { config, password, shown })
    }

    /// From `--database` (or `VIDSERVE_DATABASE_URL`), if given.
    pub fn from_args(args: &DatabaseArgs) -> Result<Option<Database>, ConfigError> {
        args.database.as_deref().map(|url| Database::parse(url, args.database_password_file.as_deref())).transpose()
    }
}

fn read_password(file: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| ConfigError::Database(format!("the password file {} cannot be read ({e})", file.display())))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(ConfigError::Database(format!("the password file {} is empty", file.display())));
    }
    Ok(Secret(line.to_string()))
}

fn shown(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) if h.contains(':') => format!("[{h}]"),
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => PathBuf::from(p).display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        config.get_user().unwrap_or(""),
        config.get_dbname().or(config.get_user()).unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown_and_can_come_from_a_file() {
        let db = Database::parse("postgres://ann:s3cret@db.example:6543/films?connect_timeout=5", None).unwrap();
        assert_eq!(db.shown, "postgres://ann@db.example:6543/films");
        assert_eq!(db.password.as_ref().map(|p| p.0.as_str()), Some("s3cret"));
        assert!(!format!("{db:?}").contains("s3cret"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "from-file\nignored\n").unwrap();
        let db = Database::parse("postgres://ann@127.0.0.1/films", Some(&file)).unwrap();
        assert_eq!(db.password.map(|p| p.0), Some("from-file".into()));
        assert_eq!(db.shown, "postgres://ann@127.0.0.1:5432/films");
        for bad in ["mysql://x@y/z", "postgres://", "postgres://db/films?sslmode=nonsense"] {
            assert!(Database::parse(bad, None).is_err(), "{bad}");
        }
        std::fs::write(&file, "").unwrap();
        assert!(Database::parse("postgres://ann@h/f", Some(&file)).is_err());
    }
}
