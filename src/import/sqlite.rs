//! A reader of SQLite database files (file format 3), as much as the
//! original server's `video_metadata.db` needs: the schema table, and the
//! rows of ordinary tables (table b-trees with their overflow pages), in
//! UTF-8 or UTF-16. Read from bytes in memory (the file is at most
//! `MAX_ORIGINAL_BYTES`); every offset is checked, every page is visited
//! at most once per table, a row is at most `MAX_RECORD` bytes, so a
//! hostile file costs at most its own size in time and memory and ends in
//! an error, never a panic. Nothing is ever written.
//!
//! Not read: `WITHOUT ROWID` tables (index b-trees) and changes still in
//! a write-ahead log (the caller refuses a database that has one).
//! Format: <https://www.sqlite.org/fileformat2.html>.

/// Largest row read (as SQLite's default `SQLITE_LIMIT_LENGTH` for this
/// import, which was set to 1 MB).
const MAX_RECORD: u64 = 1_000_000;
/// Deepest table b-tree followed (a real one of 2 million rows is 4 deep).
const MAX_DEPTH: usize = 40;

/// A value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    /// Text that is not valid in the file's encoding is `Blob`.
    Text(String),
    Blob(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// A database file's bytes, checked enough to be walked.
#[derive(Debug)]
pub struct Database<'a> {
    bytes: &'a [u8],
    page_size: usize,
    /// Bytes of each page that hold data (the rest is reserved).
    usable: usize,
    pages: u32,
    encoding: Encoding,
}

/// An ordinary table as the schema describes it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    root: u32,
    /// Column names, in order, and whether the column is the rowid
    /// (`INTEGER PRIMARY KEY`, stored as NULL in the row).
    columns: Vec<(String, bool)>,
}

impl<'a> Database<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Database<'a>, String> {
        if bytes.len() < 100 || &bytes[..16] != b"SQLite format 3\0" {
            return Err("not a SQLite 3 database".into());
        }
        let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
            1 => 65_536,
            n if n >= 512 && n.is_power_of_two() => n as usize,
            n => return Err(format!("page size {n} is not one SQLite writes")),
        };
        let usable = page_size - bytes[20] as usize;
        if usable < 480 {
            return Err("too little of each page is usable".into());
        }
        let encoding = match u32::from_be_bytes([bytes[56], bytes[57], bytes[58], bytes[59]]) {
            0 | 1 => Encoding::Utf8,
            2 => Encoding::Utf16Le,
            3 => Encoding::Utf16Be,
            n => return Err(format!("unknown text encoding {n}")),
        };
        let pages = u32::try_from(bytes.len() / page_size).map_err(|_| "too large".to_string())?;
        if pages == 0 {
            return Err("shorter than one page".into());
        }
        Ok(Database { bytes, page_size, usable, pages, encoding })
    }

    /// The ordinary tables the schema lists.
    pub fn tables(&self) -> Result<Vec<Table>, String> {
        let schema = Table {
            name: "sqlite_schema".into(),
            root: 1,
            columns: ["type", "name", "tbl_name", "rootpage", "sql"].iter().map(|c| (c.to_string(), false)).collect(),
        };
        let mut tables = Vec::new();
        self.walk(&schema, 100_000, &mut |row| {
            let text = |v: &Value| match v {
                Value::Text(t) => Some(t.clone()),
                _ => None,
            };
            let (Some(kind), Some(name), Some(sql)) = (text(&row[0]), text(&row[1]), text(&row[4])) else { return };
            let root = match row[3] {
                Value::Integer(n) => u32::try_from(n).unwrap_or(0),
                _ => 0,
            };
            if kind != "table" || root == 0 {
                return;
            }
            if let Some(columns) = columns(&sql) {
                tables.push(Table { name, root, columns });
            }
        })?;
        Ok(tables)
    }

    /// Up to `limit` rows of `table`, each with the values of `wanted`
    /// columns in that order (a column missing from an older row is NULL).
    pub fn rows(&self, table: &Table, wanted: &[&str], limit: usize) -> Result<Vec<Vec<Value>>, String> {
        let mut picks = Vec::with_capacity(wanted.len());
        for w in wanted {
            let at = table.columns.iter().position(|(c, _)| c.eq_ignore_ascii_case(w));
            picks.push(at.ok_or_else(|| format!("table {} has no column {w}", table.name))?);
        }
        let mut out = Vec::new();
        self.walk(table, limit, &mut |row| {
            out.push(picks.iter().map(|&i| row[i].clone()).collect());
        })?;
        Ok(out)
    }

    /// Calls `each` with the values of every column for up to `limit` rows
    /// of `table`'s b-tree, in rowid order.
    fn walk(&self, table: &Table, limit: usize, each: &mut dyn FnMut(Vec<Value>)) -> Result<(), String> {
        let mut seen = vec![false; self.pages as usize + 1];
        let mut stack = vec![(table.root, 0usize)];
        let mut rows = 0usize;
        while let Some((number, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(format!("table {} is deeper than any SQLite writes", table.name));
            }
            let page = self.page(number)?;
            if std::mem::replace(&mut seen[number as usize], true) {
                return Err(format!("table {} visits page {number} twice", table.name));
            }
            let head = if number == 1 { 100 } else { 0 };
            let kind = *page.get(head).ok_or("page too short")?;
            let cells = be16(page, head + 3)? as usize;
            let (header_len, interior) = match kind {
                0x0d => (8, false),
                0x05 => (12, true),
                0x02 | 0x0a => return Err(format!("table {} is WITHOUT ROWID; not read", table.name)),
                k => return Err(format!("page {number} is no b-tree page (type {k})")),
            };
            let pointers = head + header_len;
            let cell_at = |i: usize| -> Result<usize, String> {
                let at = be16(page, pointers + 2 * i)? as usize;
                if at < pointers + 2 * cells || at >= self.usable {
                    return Err(format!("a cell of page {number} points outside it"));
                }
                Ok(at)
            };
            if interior {
                // Children pushed last first, so rows come in rowid order.
                stack.push((be32(page, head + 8)?, depth + 1));
                for i in (0..cells).rev() {
                    stack.push((be32(page, cell_at(i)?)?, depth + 1));
                }
                continue;
            }
            for i in 0..cells {
                if rows >= limit {
                    return Ok(());
                }
                let at = cell_at(i)?;
                let (len, n) = varint(page, at)?;
                let (rowid, m) = varint(page, at + n)?;
                let payload = self.payload(page, at + n + m, len)?;
                let mut values = record(&payload, self.encoding)?;
                values.resize(table.columns.len(), Value::Null);
                for (v, (_, is_rowid)) in values.iter_mut().zip(&table.columns) {
                    if *is_rowid && *v == Value::Null {
                        *v = Value::Integer(rowid as i64);
                    }
                }
                each(values);
                rows += 1;
            }
        }
        Ok(())
    }

    /// Page `number` (from 1), whole.
    fn page(&self, number: u32) -> Result<&'a [u8], String> {
        if number == 0 || number > self.pages {
            return Err(format!("page {number} is outside the file"));
        }
        let start = (number as usize - 1) * self.page_size;
        Ok(&self.bytes[start..start + self.page_size])
    }

    /// A table leaf cell's payload of `len` bytes starting at `at` of
    /// `page`, with what spilled into overflow pages.
    fn payload(&self, page: &[u8], at: usize, len: u64) -> Result<Vec<u8>, String> {
        if len > MAX_RECORD {
            return Err(format!("a row of {len} bytes is larger than {MAX_RECORD}"));
        }
        let (len, u) = (len as usize, self.usable);
        // How much stays on the page (the file format's rule for table leaves).
        let most = u - 35;
        let local = if len <= most {
            len
        } else {
            let least = (u - 12) * 32 / 255 - 23;
            let k = least + (len - least) % (u - 4);
            if k <= most {
                k
            } else {
                least
            }
        };
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(page.get(at..at + local).filter(|_| at + local <= u).ok_or("a cell runs off its page")?);
        if local == len {
            return Ok(out);
        }
        let mut next = be32(page, at + local)?;
        let mut hops = 0u32;
        while out.len() < len {
            hops += 1;
            if next == 0 || hops > self.pages {
                return Err("a row's overflow pages end too soon".into());
            }
            let p = self.page(next)?;
            let take = (len - out.len()).min(u - 4);
            out.extend_from_slice(&p[4..4 + take]);
            next = be32(p, 0)?;
        }
        Ok(out)
    }
}

/// The values of a record (a row's payload).
fn record(payload: &[u8], encoding: Encoding) -> Result<Vec<Value>, String> {
    let (header_len, mut at) = varint(payload, 0)?;
    let header_len =
        usize::try_from(header_len).ok().filter(|&h| h <= payload.len()).ok_or("a row's header is too long")?;
    let mut types = Vec::new();
    while at < header_len {
        let (t, n) = varint(&payload[..header_len], at)?;
        types.push(t);
        at += n;
    }
    let mut body = header_len;
    let mut values = Vec::with_capacity(types.len());
    for t in types {
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => t as usize,
            5 => 6,
            6 | 7 => 8,
            10 | 11 => return Err("a row uses a reserved value type".into()),
            n => ((n - 12) / 2) as usize,
        };
        let bytes = payload
            .get(body..body.checked_add(size).ok_or("a value is too long")?)
            .ok_or("a row is shorter than its header says")?;
        body += size;
        values.push(match t {
            0 => Value::Null,
            8 => Value::Integer(0),
            9 => Value::Integer(1),
            1..=6 => {
                // Big-endian two's complement of 1, 2, 3, 4, 6 or 8 bytes.
                let mut n: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
                for &b in bytes {
                    n = (n << 8) | i64::from(b);
                }
                Value::Integer(n)
            }
            7 => Value::Real(f64::from_be_bytes(bytes.try_into().map_err(|_| "a real of the wrong size")?)),
            n if n % 2 == 0 => Value::Blob(bytes.to_vec()),
            _ => text(bytes, encoding).map_or_else(|| Value::Blob(bytes.to_vec()), Value::Text),
        });
    }
    Ok(values)
}

fn text(bytes: &[u8], encoding: Encoding) -> Option<String> {
    let units = |f: fn([u8; 2]) -> u16| bytes.chunks_exact(2).map(|c| f([c[0], c[1]])).collect::<Vec<u16>>();
    match encoding {
        Encoding::Utf8 => String::from_utf8(bytes.to_vec()).ok(),
        Encoding::Utf16Le => String::from_utf16(&units(u16::from_le_bytes)).ok().filter(|_| bytes.len() % 2 == 0),
        Encoding::Utf16Be => String::from_utf16(&units(u16::from_be_bytes)).ok().filter(|_| bytes.len() % 2 == 0),
    }
}

/// SQLite's variable-length integer at `at`: its value and length (1 to 9
/// bytes, the ninth whole).
fn varint(bytes: &[u8], at: usize) -> Result<(u64, usize), String> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let b = *bytes.get(at + i).ok_or("a number runs off the end")?;
        if i == 8 {
            return Ok(((v << 8) | u64::from(b), 9));
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    unreachable!("the loop returns by the ninth byte")
}

fn be16(b: &[u8], at: usize) -> Result<u16, String> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]])).ok_or_else(|| "a page ends too soon".into())
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]])).ok_or_else(|| "a page ends too soon".into())
}

/// The columns of a `CREATE TABLE name (…)` statement: names in order, and
/// whether each is the rowid (`INTEGER PRIMARY KEY`). `None` if it has no
/// column list.
fn columns(sql: &str) -> Option<Vec<(String, bool)>> {
    let inner = &sql[sql.find('(')? + 1..sql.rfind(')')?];
    let mut defs = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '[') => quote = Some(']'),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                defs.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    defs.push(&inner[start..]);
    let mut out = Vec::new();
    for def in defs {
        let def = def.trim();
        let (name, rest) = match def.chars().next()? {
            q @ ('"' | '`' | '[' | '\'') => {
                let close = if q == '[' { ']' } else { q };
                let end = def[1..].find(close)? + 1;
                (def[1..end].to_string(), &def[end + 1..])
            }
            _ => {
                let end = def.find(char::is_whitespace).unwrap_or(def.len());
                (def[..end].to_string(), &def[end..])
            }
        };
        let keyword = name.to_ascii_uppercase();
        if ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"].contains(&keyword.as_str()) && def.len() > name.len()
        {
            continue;
        }
        let words: Vec<String> = rest.split_whitespace().map(str::to_ascii_uppercase).collect();
        let rowid =
            words.len() >= 3 && words[..3] == ["INTEGER", "PRIMARY", "KEY"] && !words.iter().any(|w| w == "DESC");
        out.push((name, rowid));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::Value as Sql;

    fn read_all(bytes: &[u8], table: &str, cols: &[&str]) -> Vec<Vec<Value>> {
        let db = Database::open(bytes).unwrap();
        let tables = db.tables().unwrap();
        let t = tables.iter().find(|t| t.name == table).unwrap_or_else(|| panic!("{table} in {tables:?}"));
        db.rows(t, cols, usize::MAX).unwrap()
    }

    fn same(a: &Value, b: &Sql) -> bool {
        match (a, b) {
            (Value::Null, Sql::Null) => true,
            (Value::Integer(x), Sql::Integer(y)) => x == y,
            (Value::Real(x), Sql::Real(y)) => x.to_bits() == y.to_bits(),
            (Value::Text(x), Sql::Text(y)) => x == y,
            (Value::Blob(x), Sql::Blob(y)) => x == y,
            _ => false,
        }
    }

    /// Databases written by SQLite itself, read back the same as SQLite
    /// reads them: page sizes from 512 to 65536, UTF-8 and UTF-16, deep
    /// b-trees, rows spilling over several overflow pages, every integer
    /// width, rowid aliases, columns added later.
    #[test]
    fn reads_what_sqlite_wrote() {
        let mut rng = fastrand::Rng::with_seed(7);
        for (page_size, encoding, rows) in
            [(512, "UTF-8", 3000), (4096, "UTF-16le", 2000), (65536, "UTF-16be", 500), (1024, "UTF-8", 10)]
        {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            let db = rusqlite::Connection::open(&path).unwrap();
            db.execute_batch(&format!(
                "PRAGMA page_size = {page_size}; PRAGMA encoding = '{encoding}';
                 CREATE TABLE \"views\" ([filename] TEXT PRIMARY KEY, view_count INTEGER, last REAL, CHECK (view_count >= -1e30));
                 CREATE TABLE tagged (id INTEGER PRIMARY KEY, filename TEXT, tag, UNIQUE(filename, tag));
                 CREATE TABLE odd (a PRIMARY KEY) WITHOUT ROWID;"
            ))
            .unwrap();
            let tx = db.unchecked_transaction().unwrap();
            for i in 0..rows {
                let long = rng.usize(..if i % 50 == 0 { 200_000 } else { 40 });
                let name: String = (0..long).map(|_| rng.choice(['a', 'é', '猫', ' ', '\'', '😀']).unwrap()).collect();
                let count: Sql = match i % 7 {
                    0 => Sql::Integer(rng.i64(..)),
                    1 => Sql::Integer(rng.i64(-200..200)),
                    2 => Sql::Integer(rng.i64(-40000..40000)),
                    3 => Sql::Real(rng.f64() * 1e6),
                    4 => Sql::Null,
                    5 => Sql::Blob(vec![rng.u8(..); rng.usize(..3000)]),
                    _ => Sql::Integer(rng.i64(-(1 << 47)..(1 << 47))),
                };
                tx.execute(
                    "INSERT INTO views VALUES (?1 || ?2, ?3, ?4)",
                    rusqlite::params![i, name, count, i as f64 / 3.0],
                )
                .unwrap();
                tx.execute("INSERT INTO tagged (filename, tag) VALUES (?1, ?2)", rusqlite::params![name, i]).unwrap();
            }
            tx.commit().unwrap();
            db.execute_batch(
                "ALTER TABLE tagged ADD COLUMN later TEXT DEFAULT NULL; DELETE FROM views WHERE rowid % 5 = 0;",
            )
            .unwrap();
            db.execute("INSERT INTO tagged (filename, tag, later) VALUES ('x', 'y', 'z')", []).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            for (table, cols) in [
                ("views", &["filename", "view_count", "last"][..]),
                ("tagged", &["id", "filename", "tag", "later"][..]),
            ] {
                let ours = read_all(&bytes, table, cols);
                let sql = format!("SELECT {} FROM {table} ORDER BY rowid", cols.join(", "));
                let mut stmt = db.prepare(&sql).unwrap();
                let theirs: Vec<Vec<Sql>> = stmt
                    .query_map([], |r| (0..cols.len()).map(|i| r.get::<_, Sql>(i)).collect())
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                assert_eq!(ours.len(), theirs.len(), "{page_size} {encoding} {table}");
                for (a, b) in ours.iter().zip(&theirs) {
                    assert!(a.iter().zip(b).all(|(x, y)| same(x, y)), "{page_size} {encoding} {table}: {a:?} vs {b:?}");
                }
            }
            let db2 = Database::open(&bytes).unwrap();
            let odd = db2.tables().unwrap().into_iter().find(|t| t.name == "odd").unwrap();
            assert!(db2.rows(&odd, &["a"], 10).unwrap_err().contains("WITHOUT ROWID"));
            let views = db2.tables().unwrap().into_iter().find(|t| t.name == "views").unwrap();
            assert_eq!(db2.rows(&views, &["filename"], 3).unwrap().len(), 3, "a limit");
            assert!(db2.rows(&views, &["nope"], 3).unwrap_err().contains("no column nope"));
        }
    }

    #[test]
    fn column_lists() {
        let c = columns("CREATE TABLE t (\"a b\" TEXT, [c] INTEGER PRIMARY KEY, `d` NUMERIC(10, 2), e, PRIMARY KEY (a), CONSTRAINT x UNIQUE (e))").unwrap();
        assert_eq!(c, [("a b".to_string(), false), ("c".into(), true), ("d".into(), false), ("e".into(), false)]);
        assert!(columns("CREATE TABLE t AS SELECT 1").is_none());
        assert_eq!(columns("CREATE TABLE t (id integer primary key desc)").unwrap(), [("id".to_string(), false)]);
    }

    #[test]
    fn broken_files_are_errors() {
        assert!(Database::open(b"not sqlite").is_err());
        let mut bytes = vec![0u8; 1024];
        bytes[..16].copy_from_slice(b"SQLite format 3\0");
        bytes[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert!(Database::open(&bytes).unwrap_err().contains("page size"));
        bytes[16..18].copy_from_slice(&512u16.to_be_bytes());
        // Page 1 claims to be an interior page pointing at itself.
        bytes[100] = 0x05;
        bytes[108..112].copy_from_slice(&1u32.to_be_bytes());
        assert!(Database::open(&bytes).unwrap().tables().unwrap_err().contains("twice"));
        bytes[108..112].copy_from_slice(&9u32.to_be_bytes());
        assert!(Database::open(&bytes).unwrap().tables().unwrap_err().contains("outside"));
        assert_eq!(varint(&[0x81, 0x00], 0).unwrap(), (128, 2));
        assert_eq!(varint(&[0xff; 9], 0).unwrap(), (u64::MAX, 9));
        assert!(varint(&[0x81], 0).is_err());
    }
}
