//! The served roots behind one interface. Every read of a video or of a
//! file beside it (subtitles, pictures) after the scan, and every look at a
//! video's folder, goes through a `Root`: streaming, remuxing, thumbnails,
//! preview strips, embedded tracks and subtitles alike. Local folders
//! (`LocalRoot`, opened safely through `fsafe`) are one kind, buckets in
//! object storage (`objects::BucketRoot`) the other: what an open gives
//! (`Content`) reads the same either way (`container::Source`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fsafe::{open_beneath, Expect};
use super::objects::{BucketRoot, Object};
use super::walk::{Before, Walked, OBJECT_DEV};
use crate::container::Source;

/// The bytes of an opened video (or a file beside it): a local file, or an
/// object in a bucket. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Content {
    /// The file and its size when opened.
    File(Arc<File>, u64),
    Object(Arc<Object>),
}

impl Content {
    /// The local file, when it is one.
    pub fn file(&self) -> Option<&Arc<File>> {
        match self {
            Content::File(f, _) => Some(f),
            Content::Object(_) => None,
        }
    }
}

impl Source for Content {
    fn size(&self) -> u64 {
        match self {
            Content::File(_, len) => *len,
            Content::Object(o) => o.size,
        }
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Content::File(f, _) => f.read_at(buf, offset),
            Content::Object(o) => o.read_at(offset, buf),
        }
    }
}

/// What `Root::open` gives: the bytes and what identifies them (for an
/// object: `dev` is `objects::OBJECT_DEV`, `ino` a hash of its ETag).
#[derive(Debug)]
pub struct Opened {
    pub content: Content,
    pub size: u64,
    pub mtime_ns: i64,
    pub dev: u64,
    pub ino: u64,
}

/// One served root.
pub trait Root: Send + Sync + fmt::Debug {
    /// Opens `rel` (a path below the root) for reading. `expect`: what the
    /// scan saw of it; a file that changed since is `NotFound`.
    fn open(&self, rel: &Path, expect: Option<Expect>) -> io::Result<Opened>;

    /// The names of the entries of the folder `dir` below the root that
    /// `keep` accepts, at most `max` of them.
    fn names_in(&self, dir: &Path, keep: &mut dyn FnMut(&OsStr) -> bool, max: usize) -> io::Result<Vec<OsString>>;

    /// The video files below the root (hidden names skipped); `Err`: the
    /// root itself cannot be read (it is offline). With `before`, files
    /// whose folder did not change may keep the facts of the last walk.
    fn walk(&self, before: Option<&Before<'_>>) -> Result<Walked, String>;
}

/// The roots of a catalog, in `--dir` order; cheap to clone.
#[derive(Clone, Default)]
pub struct Roots(Arc<[Arc<dyn Root>]>);

impl fmt::Debug for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl Roots {
    /// The roots of `--dir`, in order: local folders, and buckets (their
    /// clients made; nothing is sent yet).
    pub fn new(roots: &[crate::config::Root]) -> Roots {
        let all: Arc<[PathBuf]> = roots.iter().map(|r| r.canonical.clone()).collect();
        let mut made: Vec<Arc<dyn Root>> = Vec::with_capacity(roots.len());
        for (index, r) in roots.iter().enumerate() {
            made.push(match &r.bucket {
                Some(bucket) => Arc::new(BucketRoot::new(bucket)),
                None => Arc::new(LocalRoot { path: r.path.clone(), all: all.clone(), index }),
            });
        }
        Roots(made.into())
    }

    fn get(&self, root: usize) -> io::Result<&dyn Root> {
        self.0
            .get(root)
            .map(|r| r.as_ref())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such served folder"))
    }

    /// `Root::open` of root number `root`.
    pub fn open(&self, root: usize, rel: &Path, expect: Option<Expect>) -> io::Result<Opened> {
        self.get(root)?.open(rel, expect)
    }

    /// `Root::names_in` of root number `root`.
    pub fn names_in(
        &self,
        root: usize,
        dir: &Path,
        mut keep: impl FnMut(&OsStr) -> bool,
        max: usize,
    ) -> io::Result<Vec<OsString>> {
        self.get(root)?.names_in(dir, &mut keep, max)
    }

    /// `Root::walk` of root number `root`.
    pub fn walk(&self, root: usize, before: Option<&Before<'_>>) -> Result<Walked, String> {
        self.get(root).map_err(|e| e.to_string())?.walk(before)
    }
}

/// A folder on this machine. Opens beneath it (`fsafe`): a symlink may lead
/// into another served folder, never out of them.
struct LocalRoot {
    /// As given (made absolute): where the walk starts.
    path: PathBuf,
    /// Every local root's canonical path (for symlinks between them).
    all: Arc<[PathBuf]>,
    index: usize,
}

impl fmt::Debug for LocalRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LocalRoot({})", self.all[self.index].display())
    }
}

impl Root for LocalRoot {
    fn open(&self, rel: &Path, expect: Option<Expect>) -> io::Result<Opened> {
        let o = open_beneath(&self.all, self.index, rel, expect)?;
        let content = Content::File(Arc::new(o.file), o.size);
        Ok(Opened { content, size: o.size, mtime_ns: o.mtime_ns, dev: o.dev, ino: o.ino })
    }

    fn names_in(&self, dir: &Path, keep: &mut dyn FnMut(&OsStr) -> bool, max: usize) -> io::Result<Vec<OsString>> {
        if dir.is_absolute() || dir.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "not a folder below a served folder"));
        }
        let entries = std::fs::read_dir(self.all[self.index].join(dir))?;
        Ok(entries.filter_map(Result::ok).map(|e| e.file_name()).filter(|n| keep(n)).take(max).collect())
    }

    fn walk(&self, before: Option<&Before<'_>>) -> Result<Walked, String> {
        super::walk::walk_local(&self.path, &self.all, before)
    }
}

impl Root for BucketRoot {
    fn open(&self, rel: &Path, expect: Option<Expect>) -> io::Result<Opened> {
        let (object, facts) = self.open_object(rel)?;
        if let Some(e) = expect {
            if e.size != facts.size || (e.dev == OBJECT_DEV && e.ino != facts.ino) {
                return Err(io::Error::new(io::ErrorKind::NotFound, "the object changed since it was scanned"));
            }
        }
        let content = Content::Object(object);
        Ok(Opened { content, size: facts.size, mtime_ns: facts.mtime_ns, dev: facts.dev, ino: facts.ino })
    }

    fn names_in(&self, dir: &Path, keep: &mut dyn FnMut(&OsStr) -> bool, max: usize) -> io::Result<Vec<OsString>> {
        BucketRoot::names_in(self, dir, keep, max)
    }

    /// A listing gives every object's facts: nothing to keep from before.
    fn walk(&self, _before: Option<&Before<'_>>) -> Result<Walked, String> {
        BucketRoot::walk(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_roots_open_beneath_and_list_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/sub")).unwrap();
        std::fs::write(dir.path().join("a/sub/clip.mp4"), b"0123").unwrap();
        std::fs::write(dir.path().join("secret"), b"no").unwrap();
        let a = dir.path().join("a");
        let roots = Roots::new(&[crate::config::Root::local(a.clone(), a.canonicalize().unwrap())]);
        let o = roots.open(0, Path::new("sub/clip.mp4"), None).unwrap();
        assert_eq!(o.size, 4);
        assert!(roots.open(0, Path::new("../secret"), None).is_err());
        assert_eq!(roots.open(1, Path::new("sub/clip.mp4"), None).unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(roots.names_in(0, Path::new("sub"), |_| true, 10).unwrap(), ["clip.mp4"]);
        assert!(roots.names_in(0, Path::new("sub"), |n| n != "clip.mp4", 10).unwrap().is_empty());
        assert!(roots.names_in(0, Path::new(".."), |_| true, 10).is_err());
        assert!(roots.names_in(0, Path::new("/etc"), |_| true, 10).is_err());
    }
}
