//! `vidserve migrate --to postgres://…`: a household's state moved from the
//! data dir's redb files into an empty PostgreSQL database, record for
//! record (`Store::dump`, `Store::restore`), then read back and compared.
//! The data dir is only read: it stays as it was, to go back to.

use std::collections::BTreeMap;

use anyhow::Context;

use crate::cli::MigrateArgs;
use crate::config::database::Database;
use crate::store::dump::Row;

pub fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    let data = crate::config::data_dir(args.data.as_deref())?;
    let to = Database::parse(&args.to, args.database_password_file.as_deref())?;
    // Opened for writing: refused while a server uses the data dir, so
    // nothing is written to it during the copy.
    let from = crate::store::open(&data, None)?;
    let rows = from.dump().context("cannot read the data dir")?;
    let target = crate::store::open(&data, Some(&to))?;
    target.restore(&rows)?;
    let mut copied = target.dump().context("cannot read the database back")?;
    let mut expected = rows;
    copied.sort_unstable();
    expected.sort_unstable();
    anyhow::ensure!(
        copied == expected,
        "the database does not hold exactly what the data dir does ({} records read back, {} written); \
         the data dir is unchanged",
        copied.len(),
        expected.len()
    );
    println!("copied {} into {}: {}", from.location(), target.location(), summary(&expected));
    println!("serve it with: vidserve --database {} --dir …", target.location());
    Ok(())
}

/// `12 files, 10 videos, …`: how many records of each kind.
fn summary(rows: &[Row]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        let kind = match r {
            Row::File(..) => "files",
            Row::Video(..) => "videos",
            Row::Root(..) => "folders",
            Row::User(..) => "user records",
            Row::Damaged(..) => "damaged records",
            Row::Personal(..) => "personal records",
            Row::Imported(..) => "import marks",
            Row::Account(..) => "accounts",
            Row::Token(..) => "tokens",
            Row::Session(..) => "sessions",
            Row::Secret(..) => "secrets",
            Row::Household(..) => "household owner",
            Row::Playlist(..) => "playlists",
            Row::PlaylistNext(..) => "playlist counters",
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
}
