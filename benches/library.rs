//! Library benchmarks without HTTP: cold scan, rescan, restart from the
//! stored index, and gallery page building (catalog slice + maud render).
//!
//! `cargo bench --bench library -- [N ...]` (default: 10000 100000).
//! `cargo bench --bench library -- --make DIR N` only writes N synthetic
//! videos into DIR (for the HTTP benchmarks in compare.sh).
//! `cargo bench --bench library -- --heap DATA DIR` builds the catalog of
//! an existing data dir and library (no scan) and tells the bytes it holds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use vidserve::catalog::listing::{ListQuery, Listing};
use vidserve::catalog::query::{self, Filter, LiveOrders};
use vidserve::catalog::UserCache;
use vidserve::catalog::UserData;
use vidserve::catalog::{Order, ScanStats, Sort, Viewer};
use vidserve::config::Root;
use vidserve::http::pages::gallery::{gallery, GalleryView};
use vidserve::library::probe::synth;
use vidserve::scan::Scanner;

/// The system allocator, counting the bytes held (the catalog's heap,
/// without an allocator's slack or fragmentation).
struct Counting;
static HELD: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The heap a catalog holds, built from `data` over the library `dir`.
fn heap(data: &Path, dir: &Path) {
    let root = Root::local(dir.to_path_buf(), dir.canonicalize().unwrap());
    let store = vidserve::store::open(data, None).unwrap();
    let scanner = Scanner::new(vec![root], store).unwrap();
    let before = HELD.load(Ordering::Relaxed);
    let t = Instant::now();
    let catalog = scanner.catalog(ScanStats::default()).unwrap();
    let took = t.elapsed();
    let held = HELD.load(Ordering::Relaxed) - before;
    let n = catalog.len().max(1);
    println!(
        "catalog of {} videos: {:.1} MiB held ({} bytes a video), built in {:.2} s",
        catalog.len(),
        mib(held),
        held / n,
        took.as_secs_f64()
    );
}

/// Writes `n` small but valid MP4 files, 1000 per folder.
fn make_library(dir: &Path, n: usize) {
    for i in 0..n {
        let sub = dir.join(format!("folder{:03}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let bytes = synth::mp4_file(&synth::noise(512, i as u64), false);
        std::fs::write(sub.join(format!("video {i:06}.mp4")), bytes).unwrap();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn bench(n: usize) {
    let videos = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let t = Instant::now();
    make_library(videos.path(), n);
    println!("\n## {n} files (written in {:.1} s)", t.elapsed().as_secs_f64());
    let root = Root::local(videos.path().to_path_buf(), videos.path().canonicalize().unwrap());

    let store = vidserve::store::open(data.path(), None).unwrap();
    let mut scanner = Scanner::new(vec![root.clone()], store).unwrap();
    let t = Instant::now();
    let catalog = scanner.scan().unwrap();
    let cold = t.elapsed();
    assert_eq!(catalog.len(), n);
    let t = Instant::now();
    scanner.scan().unwrap();
    let rescan = t.elapsed();
    drop(scanner);

    let t = Instant::now();
    let store = vidserve::store::open(data.path(), None).unwrap();
    let scanner = Scanner::new(vec![root], store).unwrap();
    let catalog = scanner.catalog(ScanStats::default()).unwrap();
    let restart = t.elapsed();
    assert_eq!(catalog.len(), n);

    println!("| step | time |\n|---|---|");
    println!("| cold scan (hash + probe every file) | {:.2} s |", cold.as_secs_f64());
    println!("| rescan, nothing changed (stat only) | {:.2} s |", rescan.as_secs_f64());
    println!("| restart: open index + build catalog | {:.3} s |", restart.as_secs_f64());
    folders(&catalog);
    series(&catalog);

    // A tenth of the videos rated and viewed, every fiftieth a favorite.
    let users = UserCache::default();
    users.set_all(catalog.videos().iter().enumerate().filter(|(i, _)| i % 10 == 0).map(|(i, v)| {
        (
            v.id,
            UserData { rating: Some((i % 5) as u8 + 1), views: i as u64, favorite: i % 50 == 0, ..UserData::default() },
        )
    }));
    let live = LiveOrders::default();
    println!("\n| gallery page (48 cards, render) | p50 | p99 |\n|---|---|---|");
    let filters = [("", Filter::default()), (", favorites", Filter { favorites: true, ..Filter::default() })];
    let ranks = query::Ranks::default();
    for (label, filter) in &filters {
        for sort in Sort::ALL {
            for order in [Order::Asc, Order::Desc] {
                let mut times = Vec::with_capacity(1000);
                for i in 0..1000 {
                    let t = Instant::now();
                    let idx = live.order(&catalog, &users, sort, &Viewer::Household);
                    let who = &Viewer::Household;
                    let src = query::Source { catalog: &catalog, users: &users, who, idx: &idx, order, ranks: &ranks };
                    let (_, total) = query::page(&src, filter, 0, 0);
                    let pages = total.div_ceil(48).max(1);
                    let page = (i * 7919) % pages + 1;
                    let (videos, total) = query::page(&src, filter, (page - 1) * 48, 48);
                    let user_rows =
                        users.with(|m| videos.iter().map(|v| m.get(&v.id).cloned().unwrap_or_default()).collect());
                    let query =
                        ListQuery { sort: Some(sort), order: Some(order), page: Some(page), ..ListQuery::default() };
                    let view = GalleryView {
                        heading: "Library".into(),
                        path: "/".into(),
                        query,
                        listing: Listing { videos, total, page, pages },
                        users: user_rows,
                        thumbs: Default::default(),
                        sprites: Default::default(),
                        continue_watching: vec![],
                        next_up: vec![],
                        latest: vec![],
                        series: vec![],
                        scanning: false,
                        offline_roots: vec![],
                        years: std::sync::Arc::from([]),
                        editor: None,
                        visitor: Default::default(),
                    };
                    let html = gallery(&view).into_string();
                    times.push(t.elapsed());
                    std::hint::black_box(html);
                }
                times.sort();
                println!(
                    "| {} {:?}{label} | {:.0} µs | {:.0} µs |",
                    sort.name(),
                    order,
                    percentile(&times, 0.5).as_secs_f64() * 1e6,
                    percentile(&times, 0.99).as_secs_f64() * 1e6
                );
            }
        }
    }
}

/// The folders page's one pass: the top (every video) and one folder.
fn folders(catalog: &vidserve::catalog::Catalog) {
    let t = Instant::now();
    std::hint::black_box(vidserve::catalog::folders::Tree::build(catalog));
    println!(
        "\nfolder tree built in {:.1} ms (once per catalog, at the first browse)",
        t.elapsed().as_secs_f64() * 1e3
    );
    println!("\n| folders page (from the tree) | p50 | p99 |\n|---|---|---|");
    // The first call builds the catalog's tree: out of the timings.
    vidserve::catalog::folders::folder(catalog, None, &[]);
    for (label, at) in [("top", vec![]), ("one folder of 1000", vec!["folder005".to_string()])] {
        let mut times = Vec::with_capacity(50);
        for _ in 0..50 {
            let t = Instant::now();
            std::hint::black_box(vidserve::catalog::folders::folder(catalog, None, &at));
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "| {label} | {:.0} µs | {:.0} µs |",
            percentile(&times, 0.5).as_secs_f64() * 1e6,
            percentile(&times, 0.99).as_secs_f64() * 1e6
        );
    }
}

/// The series index (built once per catalog, at the first series page,
/// year filter or gallery), and recognising names as fast as they come:
/// the real-looking names of `tests/data/names.tsv`, over and over.
fn series(catalog: &vidserve::catalog::Catalog) {
    let t = Instant::now();
    std::hint::black_box(vidserve::catalog::series::Series::build(catalog));
    println!("\nseries index built in {:.1} ms (once per catalog)", t.elapsed().as_secs_f64() * 1e3);
    let corpus = include_str!("../tests/data/names.tsv");
    let names: Vec<&str> =
        corpus.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).filter_map(|l| l.split('\t').next()).collect();
    let rounds = 100_000 / names.len() + 1;
    let t = Instant::now();
    for _ in 0..rounds {
        for n in &names {
            std::hint::black_box(vidserve::catalog::names::recognise(n, 2026));
        }
    }
    let each = t.elapsed().as_secs_f64() / (rounds * names.len()) as f64;
    println!("a real-looking name recognised in {:.2} µs ({} names)", each * 1e6, rounds * names.len());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.first().map(String::as_str) == Some("--make") {
        let dir = PathBuf::from(&args[1]);
        let n: usize = args[2].parse().expect("a count");
        std::fs::create_dir_all(&dir).unwrap();
        make_library(&dir, n);
        return;
    }
    if args.first().map(String::as_str) == Some("--heap") {
        heap(Path::new(&args[1]), Path::new(&args[2]));
        return;
    }
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000] } else { sizes };
    println!("# vidserve library benchmark");
    for n in sizes {
        bench(n);
    }
}
