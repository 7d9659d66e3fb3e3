//! What one person may see of the library: every video (`Sight::All`), or
//! only those with a file inside some folders (`Sight::Only`), the folders
//! of the libraries their account was given. A video reachable through
//! two folders is seen through either.
//!
//! Each catalog works out, once per set of folders, which of its videos
//! such a person sees (`Visible`: a bit per position), and keeps the
//! answer while its contents stay the same (`Contents::visible`). Every
//! read by id, every listing and every count asks it.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Catalog, RootStatus, Video};

/// What a request may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sight {
    /// Everything: admins, the household, and everyone without libraries.
    #[default]
    All,
    /// Only videos with a file inside one of these folders.
    Only(Arc<Folders>),
}

/// The folders a person may see into, as absolute paths (or bucket URLs)
/// below the roots; an empty list sees nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Folders {
    list: Vec<PathBuf>,
    /// Tells sets of folders apart in caches.
    key: u64,
}

impl Folders {
    pub fn new(mut list: Vec<PathBuf>) -> Folders {
        list.sort();
        list.dedup();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        list.hash(&mut h);
        Folders { key: h.finish(), list }
    }

    pub fn list(&self) -> &[PathBuf] {
        &self.list
    }
}

impl Sight {
    pub fn only(folders: Vec<PathBuf>) -> Sight {
        Sight::Only(Arc::new(Folders::new(folders)))
    }

    pub fn is_all(&self) -> bool {
        matches!(self, Sight::All)
    }

    /// Tells sights apart (0: everything), for validators and caches.
    pub fn key(&self) -> u64 {
        match self {
            Sight::All => 0,
            Sight::Only(f) => f.key | 1,
        }
    }

    /// Whether everything inside `folder` may be seen (it lies inside one
    /// of this sight's folders).
    pub fn covers(&self, folder: &Path) -> bool {
        match self {
            Sight::All => true,
            Sight::Only(f) => f.list.iter().any(|s| folder.starts_with(s)),
        }
    }

    /// Which videos of `catalog` this sight lets through (`None`: all).
    pub fn visible(&self, catalog: &Catalog) -> Option<Arc<Visible>> {
        match self {
            Sight::All => None,
            Sight::Only(folders) => Some(catalog.visible(folders)),
        }
    }

    /// Whether `v` (of `catalog`) may be seen.
    pub fn sees(&self, catalog: &Catalog, v: &Video) -> bool {
        self.seer(catalog)(v)
    }

    /// Whether a video of `catalog` may be seen, asked of many: what the
    /// sight lets through is looked up once.
    pub fn seer(&self, catalog: &Catalog) -> impl Fn(&Video) -> bool {
        let within = self.visible(catalog);
        move |v| within.as_ref().is_none_or(|w| w.admits(v))
    }
}

/// The paths of `v` that `within` lets be seen (a video in a seen and a
/// hidden folder shows only the first), `/`-separated below their root.
pub fn paths(v: &Video, within: Option<&Visible>) -> Vec<String> {
    v.files.iter().filter(|f| within.is_none_or(|w| w.admits_file(f))).map(|f| f.rel_display()).collect()
}

/// One folder as the catalog's roots hold it: a root, and a path prefix
/// below it (empty: the whole root).
#[derive(Debug)]
struct Place {
    root: usize,
    prefix: Vec<u8>,
}

/// Where `folder` lies among `roots` (a folder may be under several,
/// when roots nest); a folder outside every root names none.
fn places(folder: &Path, roots: &[RootStatus]) -> Vec<Place> {
    let mut out = Vec::new();
    for (root, r) in roots.iter().enumerate() {
        for base in [&r.path, &r.canonical] {
            if let Ok(rest) = folder.strip_prefix(base) {
                use std::os::unix::ffi::OsStrExt;
                out.push(Place { root, prefix: rest.as_os_str().as_bytes().to_vec() });
                break;
            }
        }
    }
    out
}

fn inside(place: &Place, root: usize, rel: &[u8]) -> bool {
    place.root == root
        && (place.prefix.is_empty()
            || (rel.len() > place.prefix.len() && rel.starts_with(&place.prefix) && rel[place.prefix.len()] == b'/'))
}

/// Which videos of one catalog a set of folders lets through.
#[derive(Debug)]
pub struct Visible {
    /// One bit per listed position (`Catalog::videos`).
    bits: Vec<u64>,
    count: usize,
    /// The folders' places, for videos that are not listed (broken ones).
    places: Vec<Place>,
    /// Which contents and which folders it was made for.
    generation: u64,
    folders: Arc<Folders>,
}

impl PartialEq for Visible {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation && self.is_for(&other.folders)
    }
}
impl Eq for Visible {}

impl Visible {
    pub(super) fn build(catalog: &Catalog, folders: &Arc<Folders>) -> Visible {
        let places: Vec<Place> = folders.list.iter().flat_map(|f| places(f, &catalog.roots)).collect();
        let videos = catalog.videos();
        let mut bits = vec![0u64; videos.len().div_ceil(64)];
        let mut count = 0;
        for (pos, v) in videos.iter().enumerate() {
            if v.files.iter().any(|f| places.iter().any(|p| inside(p, f.root, &f.rel))) {
                bits[pos / 64] |= 1 << (pos % 64);
                count += 1;
            }
        }
        Visible { bits, count, places, generation: catalog.generation, folders: folders.clone() }
    }

    /// Whether it was made for `folders` (the same ones, most often the
    /// very same set: `People` keeps each person's).
    pub(super) fn is_for(&self, folders: &Arc<Folders>) -> bool {
        Arc::ptr_eq(&self.folders, folders) || (self.folders.key == folders.key && self.folders.list == folders.list)
    }

    /// Whether the listed video at `pos` may be seen.
    pub fn has(&self, pos: u32) -> bool {
        let pos = pos as usize;
        self.bits.get(pos / 64).is_some_and(|w| w & (1 << (pos % 64)) != 0)
    }

    /// Whether `v` may be seen (listed or not).
    pub fn admits(&self, v: &Video) -> bool {
        if v.pos != u32::MAX {
            return self.has(v.pos);
        }
        v.files.iter().any(|f| self.admits_file(f))
    }

    /// Whether the file `f` lies inside one of the folders.
    pub fn admits_file(&self, f: &super::VideoFile) -> bool {
        self.places.iter().any(|p| inside(p, f.root, &f.rel))
    }

    /// How many listed videos may be seen.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The position of the `n`th visible video (0-based), for random picks.
    pub fn nth(&self, mut n: usize) -> Option<u32> {
        for (w, &word) in self.bits.iter().enumerate() {
            let ones = word.count_ones() as usize;
            if n < ones {
                let mut word = word;
                for _ in 0..n {
                    word &= word - 1;
                }
                return Some((w * 64) as u32 + word.trailing_zeros());
            }
            n -= ones;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{RootState, ScanStats, VideoFile};
    use crate::library::ids::VideoId;
    use crate::library::roots::Roots;

    fn video(n: u64, root: usize, rel: &str) -> Arc<Video> {
        let file = VideoFile { root, rel: rel.as_bytes().to_vec(), size: 1, mtime_ns: 0, dev: 0, ino: 0 };
        Arc::new(Video { id: VideoId(n), files: smallvec::smallvec![file], added: 0, info: None, broken: None, pos: 0 })
    }

    fn root(path: &str) -> RootStatus {
        RootStatus { path: path.into(), canonical: path.into(), state: RootState::Online, files: 0 }
    }

    #[test]
    fn folders_let_through_the_videos_inside_them_on_any_path() {
        let mut both = video(4, 0, "Kids/again.mp4");
        Arc::get_mut(&mut both).unwrap().files.push(VideoFile {
            root: 1,
            rel: b"Family/again.mp4".to_vec(),
            size: 1,
            mtime_ns: 0,
            dev: 0,
            ino: 0,
        });
        let catalog = Catalog::new(
            vec![
                video(1, 0, "Kids/a.mp4"),
                video(2, 0, "Kidsville/b.mp4"),
                video(3, 1, "Family/c.mp4"),
                both,
                video(5, 1, "top.mp4"),
            ],
            vec![root("/v"), root("s3://bucket/home")],
            Roots::default(),
            ScanStats::default(),
        );
        let seen = |sight: &Sight| {
            let mut ids: Vec<u64> =
                catalog.videos().iter().filter(|v| sight.sees(&catalog, v)).map(|v| v.id.0).collect();
            ids.sort();
            ids
        };
        assert_eq!(seen(&Sight::All), [1, 2, 3, 4, 5]);
        assert_eq!(seen(&Sight::only(vec!["/v/Kids".into()])), [1, 4]);
        assert_eq!(seen(&Sight::only(vec!["s3://bucket/home/Family".into()])), [3, 4]);
        assert_eq!(seen(&Sight::only(vec!["s3://bucket/home".into()])), [3, 4, 5]);
        assert_eq!(seen(&Sight::only(vec!["/elsewhere".into()])), Vec::<u64>::new());
        assert_eq!(seen(&Sight::only(vec![])), Vec::<u64>::new());
        let vis = Sight::only(vec!["/v/Kids".into()]).visible(&catalog).unwrap();
        assert_eq!(vis.count(), 2);
        let picks: Vec<u64> = (0..vis.count()).map(|n| catalog.videos()[vis.nth(n).unwrap() as usize].id.0).collect();
        assert_eq!(picks.len(), 2);
        assert!(vis.nth(2).is_none());
        // Listings, searches, filters and random picks see only those.
        use crate::catalog::listing::{Inputs, ListQuery};
        let users = crate::catalog::UserCache::default();
        users.set_all([(VideoId(2), crate::catalog::UserData { tags: vec!["t".into()], ..Default::default() })]);
        let (orders, searches) = (Default::default(), Default::default());
        let kids = Sight::only(vec!["/v/Kids".into()]);
        let inputs = Inputs {
            catalog: &catalog,
            users: &users,
            orders: &orders,
            searches: &searches,
            who: &crate::catalog::Viewer::Household,
            sight: &kids,
            playlist: None,
        };
        let listed = |q: &str| {
            let q: ListQuery = serde_urlencoded::from_str(q).unwrap();
            let l = q.list(&inputs, 1).unwrap();
            let mut all: Vec<u64> = q.list(&inputs, 100).unwrap().videos.iter().map(|v| v.id.0).collect();
            all.sort();
            (l.total, l.pages, all)
        };
        assert_eq!(listed(""), (2, 2, vec![1, 4]));
        assert_eq!(listed("sort=title&order=asc"), (2, 2, vec![1, 4]));
        assert_eq!(listed("q=b"), (0, 1, vec![]), "Kidsville/b is not in Kids");
        assert_eq!(listed("q=a"), (2, 2, vec![1, 4]));
        assert_eq!(listed("tag=t"), (0, 1, vec![]));
        assert_eq!(listed("max_minutes=1000"), (0, 1, vec![]), "no length known");
        let ids = format!("ids={},{},{}", VideoId(2), VideoId(1), VideoId(5));
        assert_eq!(listed(&ids), (1, 1, vec![1]));
        for _ in 0..20 {
            let v = ListQuery::default().random(&inputs).unwrap().unwrap();
            assert!([1, 4].contains(&v.id.0));
        }
        let counts = crate::catalog::query::tag_counts(&catalog, &users, kids.visible(&catalog).as_deref());
        assert!(counts.is_empty());
        // Kept: the same folders give the same answer without a second pass.
        assert!(Arc::ptr_eq(&vis, &Sight::only(vec!["/v/Kids".into()]).visible(&catalog).unwrap()));
    }
}
