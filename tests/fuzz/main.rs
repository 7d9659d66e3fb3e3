//! Fuzzing that runs on the stable toolchain (probing, what is inside a
//! file, remux plans): for each target, inputs from
//! structure-aware generators (MP4 box trees, EBML elements, Ogg pages,
//! `Range` grammar, URL paths, JSON documents) and mutations of a corpus
//! kept in the repo (`fuzz/corpus/`), for `VIDSERVE_FUZZ_SECONDS` each
//! (default 2; `.ci/run` gives more). Every input must be handled without a
//! panic, and the properties below must hold. A failing input is saved in
//! `target/fuzz-failures/` and named in the failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fastrand::Rng;

mod gen;
use gen::{ebml_tree, hostile_text, json_value, mp4_tree, mutant, mutate, ogg_pages};
use vidserve::library::probe::{self, Source};
use vidserve::media::inside;

fn budget() -> Duration {
    let s: f64 = std::env::var("VIDSERVE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    Duration::from_secs_f64(s)
}

fn corpus(dir: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Runs `check` on inputs from `make` until the budget is spent; reports
/// the executions. A panic saves the input and fails the test.
fn fuzz(name: &str, mut make: impl FnMut(&mut Rng) -> Vec<u8>, check: impl Fn(&[u8])) {
    let seed =
        std::env::var("VIDSERVE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| fastrand::u64(..));
    let mut rng = Rng::with_seed(seed);
    let (started, budget) = (Instant::now(), budget());
    let mut runs = 0u64;
    while started.elapsed() < budget || runs < 100 {
        let input = make(&mut rng);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{name}-{seed}-{runs}.bin"));
            std::fs::write(&path, &input).unwrap();
            panic!("fuzz {name}: input {} failed (seed {seed}, run {runs})", path.display());
        }
        runs += 1;
    }
    eprintln!("fuzz {name}: {runs} executions in {:.1} s (seed {seed})", started.elapsed().as_secs_f64());
}

/// A source that claims to be `size` bytes long: `data`, then zeros. Large
/// claimed sizes reach the arithmetic on offsets near `u64::MAX`.
struct Sparse<'a> {
    data: &'a [u8],
    size: u64,
}

impl Source for Sparse<'_> {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.size.saturating_sub(offset)) as usize;
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = usize::try_from(offset).ok().and_then(|o| self.data.get(o + k)).copied().unwrap_or(0);
        }
        Ok(n)
    }
}

/// Probing and reading what is inside (chapters, tracks, text cues) never
/// panic and never read more than asked, whatever the bytes and whatever
/// size the source claims.
fn check_probe(input: &[u8]) {
    read_all(input);
    if input.len() >= 8 {
        let claim = u64::from_le_bytes(input[..8].try_into().unwrap());
        read_all(&Sparse { data: &input[8..], size: claim.max(input.len() as u64 - 8) });
    }
}

fn read_all(src: &(impl Source + ?Sized)) {
    let _ = probe::probe(src);
    let _ = probe::mp4::cover(src);
    let _ = probe::mkv::cover(src);
    let described = inside::describe(src).unwrap_or_default();
    let _ = inside::text_cues(src, &described);
    // Whatever the headers say, the cue readers also walk tracks 1 to 3.
    let guess = |number| inside::TextTrack {
        number,
        language: None,
        name: None,
        codec: inside::TextCodec::Plain,
        forced: false,
        default: false,
    };
    let _ = inside::text_cues(src, &inside::Described { text: (1..=3).map(guess).collect(), ..Default::default() });
    // A remux plan covers its length exactly, with file ranges inside the file.
    if let Ok(plan) = vidserve::media::remux::Plan::build(src, 0) {
        let pieces = plan.pieces(0, plan.len());
        assert_eq!(pieces.iter().map(|p| p.len()).sum::<u64>(), plan.len());
        for p in &pieces {
            match p {
                vidserve::media::remux::Piece::File { pos, len, .. } => {
                    assert!(pos + len <= src.size(), "a file range past the end");
                }
                // Frames made from packets come out exactly as long as planned.
                packed @ vidserve::media::remux::Piece::Packed { len, .. } => {
                    let made = plan.unpack(src, packed).expect("the frames the plan names");
                    assert_eq!(made.len() as u64, *len);
                }
                _ => {}
            }
        }
    }
}

#[test]
fn fuzz_mp4_probe() {
    let seeds = corpus("media");
    let synth = [probe::synth::mp4_file(&[1; 100], false), probe::synth::mp4_file(&[2; 100], true)];
    let all: Vec<Vec<u8>> = seeds.iter().chain(synth.iter()).cloned().collect();
    fuzz(
        "mp4",
        |rng| match rng.u8(..3) {
            0 => mp4_tree(rng, 0),
            1 => mutant(rng, &all),
            _ => [rng.u64(..).to_le_bytes().to_vec(), mp4_tree(rng, 0)].concat(),
        },
        check_probe,
    );
}

#[test]
fn fuzz_matroska_probe() {
    let seeds: Vec<Vec<u8>> =
        corpus("media").into_iter().filter(|d| d.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])).collect();
    assert!(!seeds.is_empty(), "Matroska files in the corpus");
    fuzz(
        "matroska",
        |rng| match rng.u8(..3) {
            0 => [vec![0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x82, 0x81, b'w'], ebml_tree(rng, 0)].concat(),
            1 => mutant(rng, &seeds),
            _ => [rng.u64(..).to_le_bytes().to_vec(), ebml_tree(rng, 0)].concat(),
        },
        check_probe,
    );
}

#[test]
fn fuzz_ogg_probe() {
    let seeds: Vec<Vec<u8>> = corpus("media").into_iter().filter(|d| d.starts_with(b"OggS")).collect();
    assert!(!seeds.is_empty(), "Ogg files in the corpus");
    fuzz("ogg", |rng| if rng.bool() { ogg_pages(rng) } else { mutant(rng, &seeds) }, check_probe);
}

#[test]
fn fuzz_range_parser() {
    use vidserve::http::range::{parse_range, RangeOutcome, MAX_RANGES};
    let num = |rng: &mut Rng| -> String {
        match rng.u8(..6) {
            0 => String::new(),
            1 => u64::MAX.to_string(),
            2 => "99999999999999999999999".into(),
            3 => format!(" {}", rng.u64(..2000)),
            4 => "-1".into(),
            _ => rng.u64(..2000).to_string(),
        }
    };
    fuzz(
        "range",
        |rng| {
            let len = [0, 1, 100, 1000, 1 << 40, u64::MAX][rng.usize(..6)];
            let unit = ["bytes=", "bytes =", "BYTES=", "items=", ""][rng.usize(..5)];
            let specs: Vec<String> = (0..rng.usize(..40))
                .map(|_| match rng.u8(..4) {
                    0 => format!("-{}", num(rng)),
                    1 => format!("{}-", num(rng)),
                    2 => String::new(),
                    _ => format!("{}-{}", num(rng), num(rng)),
                })
                .collect();
            format!("{len}\n{unit}{}", specs.join([",", ", ", ",,"][rng.usize(..3)])).into_bytes()
        },
        |input| {
            let text = String::from_utf8_lossy(input);
            let (len, header) = text.split_once('\n').unwrap();
            let len: u64 = len.parse().unwrap();
            if let RangeOutcome::Partial(ranges) = parse_range(header, len) {
                assert!(!ranges.is_empty() && ranges.len() <= MAX_RANGES);
                let mut total = 0u64;
                for r in &ranges {
                    assert!(r.start < r.end && r.end <= len, "{r:?} of {len}");
                    total += r.len();
                }
                assert!(total <= len, "{total} bytes of ranges for a file of {len}");
            }
        },
    );
}

#[test]
fn fuzz_router() {
    use hyper::Method;
    use vidserve::http::route::{route, VideoKey};
    const PARTS: [&str; 24] = [
        "api",
        "v1",
        "videos",
        "0123456789abcdef",
        "rating",
        "tags",
        "watch",
        "video",
        "thumb",
        "320",
        "assets",
        "x",
        "..",
        ".",
        "%2e%2e",
        "%2F",
        "%00",
        "a%20b",
        "%ff%fe",
        "ü",
        "",
        "sprite",
        "admin",
        "tag",
    ];
    fuzz(
        "router",
        |rng| {
            let method = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"][rng.usize(..7)];
            let path: Vec<&str> = (0..rng.usize(..7)).map(|_| PARTS[rng.usize(..PARTS.len())]).collect();
            format!("{method} /{}", path.join("/")).into_bytes()
        },
        |input| {
            let text = String::from_utf8_lossy(input);
            let (method, path) = text.split_once(' ').unwrap();
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let routed = route(&method, path);
            if let Some(VideoKey::Path(rel)) = routed.as_ref().ok().and_then(|r| r.params.key().ok()) {
                let p = Path::new(std::ffi::OsStr::new(std::str::from_utf8(rel).unwrap_or("x")));
                assert!(!rel.contains(&0), "NUL in {rel:?}");
                assert!(
                    !p.is_absolute() && !p.components().any(|c| matches!(c, std::path::Component::ParentDir)),
                    "{rel:?}"
                );
            }
        },
    );
}

#[test]
fn fuzz_import_parsers() {
    use vidserve::import::{export, parse_json, ImportData};
    let seeds = corpus("import");
    fuzz(
        "import-json",
        |rng| {
            let kind = ["ratings.json", "views.json", "tags.json", "favorites.json", "export.json"][rng.usize(..5)];
            let body = if rng.bool() {
                let mut v = json_value(rng, 0);
                if kind == "export.json" {
                    // Fields of hostile sizes where the API has limits.
                    let video = serde_json::json!({
                        "id": "00000000000000ff",
                        "user_title": hostile_text(rng),
                        "tags": (0..rng.usize(..1000)).map(|_| hostile_text(rng)).collect::<Vec<_>>(),
                        "position_ms": ([0, u64::MAX, 1 << 50][rng.usize(..3)]),
                        "views": u64::MAX,
                    });
                    let people =
                        serde_json::json!({ "ann": [video.clone()], "x".repeat(rng.usize(60..70)): [video.clone()] });
                    v = serde_json::json!({ "vidserve_export": rng.u8(..4), "videos": [v, video], "people": people });
                }
                v.to_string().into_bytes()
            } else {
                mutant(rng, &seeds)
            };
            [kind.as_bytes(), b"\n", &body].concat()
        },
        |input| {
            let split = input.iter().position(|&b| b == b'\n').unwrap();
            let (kind, body) = (std::str::from_utf8(&input[..split]).unwrap(), &input[split + 1..]);
            let mut data = ImportData::default();
            let _ = parse_json(kind, body, kind, &mut data);
            for e in data.entries.values() {
                assert!(e.rating.is_none_or(|r| (1..=5).contains(&r)));
            }
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
                let mut problems = Vec::new();
                let restored = export::read_export(&v, &mut problems);
                // What the API would refuse never gets in.
                use vidserve::catalog::user::{MAX_POSITION_MS, MAX_TAGS, MAX_TAG_CHARS, MAX_TITLE_CHARS};
                for (_, d) in restored.shared {
                    assert!(d.rating.is_none_or(|r| (1..=5).contains(&r)));
                    if let Some(t) = &d.title {
                        assert!(t.chars().count() <= MAX_TITLE_CHARS && !t.chars().any(char::is_control), "{t:?}");
                    }
                    assert!(d.tags.len() <= MAX_TAGS);
                    for t in &d.tags {
                        assert!(t.chars().count() <= MAX_TAG_CHARS && !t.chars().any(|c| c.is_control() || c == ','));
                    }
                    assert!(d.position_ms.is_none_or(|ms| ms < MAX_POSITION_MS));
                }
                for (name, _, p) in restored.personal {
                    assert!(p.rating.is_none_or(|r| (1..=5).contains(&r)));
                    assert!(!name.is_empty() && name.len() <= 64);
                    assert!(p.position_ms.is_none_or(|ms| ms < MAX_POSITION_MS));
                }
            }
        },
    );
}

#[test]
fn fuzz_sqlite_import() {
    use vidserve::import::read_sources;
    let seed = corpus("import").into_iter().find(|d| d.starts_with(b"SQLite format 3")).expect("a SQLite file");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video_metadata.db");
    // SQLite work is slower: a tenth of the budget's executions is plenty.
    let built = dir.path().join("built.db");
    fuzz(
        "import-sqlite",
        |rng| {
            if rng.u8(..4) > 0 {
                return mutate(rng, seed.clone(), &[]);
            }
            // A well-formed database of hostile sizes: many rows, long
            // names and tags, escapes, numbers of every kind.
            let _ = std::fs::remove_file(&built);
            let db = rusqlite::Connection::open(&built).unwrap();
            db.execute_batch(
                "CREATE TABLE ratings (filename TEXT, rating); CREATE TABLE video_tags (filename TEXT, tag);
                 CREATE TABLE views (filename TEXT, view_count); CREATE TABLE favorites (filename TEXT);",
            )
            .unwrap();
            for _ in 0..rng.usize(..300) {
                let name = hostile_text(rng);
                let value: rusqlite::types::Value = match rng.u8(..4) {
                    0 => rusqlite::types::Value::Integer(rng.i64(..)),
                    1 => rusqlite::types::Value::Real(rng.f64() * 10.0),
                    2 => rusqlite::types::Value::Text(hostile_text(rng)),
                    _ => rusqlite::types::Value::Null,
                };
                db.execute("INSERT INTO ratings VALUES (?1, ?2)", rusqlite::params![name, value]).unwrap();
                db.execute("INSERT INTO views VALUES (?1, ?2)", rusqlite::params![name, value]).unwrap();
                db.execute("INSERT INTO video_tags VALUES (?1, ?2)", rusqlite::params![name, hostile_text(rng)])
                    .unwrap();
                db.execute("INSERT INTO favorites VALUES (?1)", rusqlite::params![name]).unwrap();
            }
            drop(db);
            std::fs::read(&built).unwrap()
        },
        |input| {
            std::fs::write(&path, input).unwrap();
            let data = read_sources(std::slice::from_ref(&path));
            for e in data.entries.values() {
                assert!(e.rating.is_none_or(|r| (1..=5).contains(&r)));
                for t in &e.tags {
                    assert!(t.chars().count() <= 100 && !t.chars().any(|c| c.is_control() || c == ','), "{t:?}");
                }
            }
        },
    );
}

/// Transport streams (packets with tables and PES headers), FLV, AVI,
/// ASF and program streams: mutations of the corpus's files, and packets
/// built from parts of them shuffled.
#[test]
fn fuzz_other_containers() {
    let seeds: Vec<Vec<u8>> = corpus("media")
        .into_iter()
        .filter(|d| {
            d.first() == Some(&0x47)
                || d.get(4) == Some(&0x47)
                || d.starts_with(b"FLV")
                || d.starts_with(b"RIFF")
                || d.starts_with(&[0x30, 0x26, 0xb2, 0x75])
                || d.starts_with(&[0, 0, 1, 0xba])
        })
        .collect();
    assert!(seeds.len() >= 6, "TS, M2TS, FLV, AVI, WMV and MPEG files in the corpus");
    fuzz(
        "containers",
        |rng| match rng.u8(..3) {
            0 => mutant(rng, &seeds),
            // Whole packets of a transport stream, in a shuffled order.
            1 => {
                let ts = &seeds[rng.usize(..seeds.len())];
                let stride = if ts.get(4) == Some(&0x47) { 192 } else { 188 };
                let mut packets: Vec<&[u8]> = ts.chunks(stride).collect();
                rng.shuffle(&mut packets);
                packets.truncate(rng.usize(1..=packets.len()));
                packets.concat()
            }
            _ => [rng.u64(..).to_le_bytes().to_vec(), mutant(rng, &seeds)].concat(),
        },
        check_probe,
    );
}

/// Every corpus file as it is (the `regress-*` files once failed).
#[test]
fn the_corpus_passes_as_is() {
    for input in corpus("media") {
        check_probe(&input);
    }
}
