//! Opening files of the library so that nothing outside the served folders
//! can be reached at open time, whatever changed since the scan.
//!
//! The scan checked each path once; by the time a file is opened it may have
//! been replaced by a symlink to `/etc/shadow`, a FIFO (which would hang the
//! reader), or another file. So every open:
//!
//! 1. resolves the path below its root's directory descriptor with
//!    `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: `..` and symlinks
//!    may not leave the root (a symlink into another served folder is
//!    followed by resolving it and opening beneath that folder, with no
//!    further symlinks);
//! 2. opens with `O_NONBLOCK | O_NOCTTY`, so a FIFO or device cannot block;
//! 3. checks with `fstat` that it is a regular file, and (`expect`) that it
//!    is still the device, inode and size the index recorded.
//!
//! On a kernel without `openat2` (before 5.6) it falls back to the
//! canonical path, checked against the roots, opened with `O_NOFOLLOW`.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

/// What the index knows of a file; a mismatch means it was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
}

/// A file opened safely, with what `fstat` said of it.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
}

fn refused(why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why.to_string())
}

/// Opens `rel` below `roots[root]` (canonical root paths, in `--dir`
/// order) for reading. `expect`: refuse (`ErrorKind::NotFound`, as the
/// indexed file is gone) when device, inode or size differ.
pub fn open_beneath(roots: &[PathBuf], root: usize, rel: &Path, expect: Option<Expect>) -> io::Result<Opened> {
    let base = roots.get(root).ok_or_else(|| refused("no such served folder"))?;
    let file = match open_at(base, rel, ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS) {
        // A symlink out of this root: follow it only into another root.
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => open_in_other_root(roots, &base.join(rel))?,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
            open_fallback(roots, &base.join(rel))?
        }
        other => other?,
    };
    check(file, expect)
}

/// `openat2` beneath `base`, non-blocking, never a controlling terminal.
fn open_at(base: &Path, rel: &Path, resolve: ResolveFlags) -> io::Result<File> {
    if rel.is_absolute() {
        return Err(refused("an absolute path is not below a served folder"));
    }
    let dir = rustix::fs::open(base, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::openat2(&dir, rel, flags, Mode::empty(), resolve)?))
}

fn open_in_other_root(roots: &[PathBuf], path: &Path) -> io::Result<File> {
    let real = std::fs::canonicalize(path)?;
    let (base, rest) = roots
        .iter()
        .find_map(|r| real.strip_prefix(r).ok().map(|rest| (r, rest)))
        .ok_or_else(|| refused("the file now points outside the served folders"))?;
    open_at(base, rest, ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS)
}

/// Without `openat2`: the canonical path must be under a root; the last
/// component is opened without following a link.
fn open_fallback(roots: &[PathBuf], path: &Path) -> io::Result<File> {
    let real = std::fs::canonicalize(path)?;
    if !roots.iter().any(|r| real.starts_with(r)) {
        return Err(refused("the file now points outside the served folders"));
    }
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    Ok(File::from(rustix::fs::open(&real, flags, Mode::empty())?))
}

fn check(file: File, expect: Option<Expect>) -> io::Result<Opened> {
    let st = rustix::fs::fstat(&file)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(refused("not a regular file"));
    }
    let opened = Opened {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size as u64,
        mtime_ns: (st.st_mtime as i64).saturating_mul(1_000_000_000).saturating_add(st.st_mtime_nsec as i64),
        file,
    };
    if let Some(e) = expect {
        // Records written before devices and inodes were kept have 0.
        let same_file = e.ino == 0 || (e.dev == opened.dev && e.ino == opened.ino);
        if !same_file || e.size != opened.size {
            return Err(io::Error::new(io::ErrorKind::NotFound, "the file changed since the last scan"));
        }
    }
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn setup() -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        for d in ["a", "b", "outside"] {
            std::fs::create_dir(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("a/clip.mp4"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("b/other.mp4"), b"abc").unwrap();
        std::fs::write(dir.path().join("outside/secret"), b"secret").unwrap();
        let roots = vec![dir.path().join("a").canonicalize().unwrap(), dir.path().join("b").canonicalize().unwrap()];
        (dir, roots)
    }

    #[test]
    fn opens_files_below_their_root() {
        let (_dir, roots) = setup();
        let o = open_beneath(&roots, 0, Path::new("clip.mp4"), None).unwrap();
        assert_eq!(o.size, 10);
        let expect = Expect { dev: o.dev, ino: o.ino, size: 10 };
        assert!(open_beneath(&roots, 0, Path::new("clip.mp4"), Some(expect)).is_ok());
        let wrong = Expect { size: 11, ..expect };
        assert_eq!(
            open_beneath(&roots, 0, Path::new("clip.mp4"), Some(wrong)).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn never_leaves_the_served_folders() {
        let (dir, roots) = setup();
        symlink(dir.path().join("outside/secret"), dir.path().join("a/link.mp4")).unwrap();
        symlink("../outside/secret", dir.path().join("a/rel.mp4")).unwrap();
        for rel in ["link.mp4", "rel.mp4", "../outside/secret", "/etc/passwd"] {
            assert!(open_beneath(&roots, 0, Path::new(rel), None).is_err(), "{rel}");
        }
        // Into another served folder is fine.
        symlink(dir.path().join("b/other.mp4"), dir.path().join("a/into-b.mp4")).unwrap();
        assert_eq!(open_beneath(&roots, 0, Path::new("into-b.mp4"), None).unwrap().size, 3);
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let (dir, roots) = setup();
        let fifo = dir.path().join("a/fifo.mp4");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo reads a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = open_beneath(&roots, 0, Path::new("fifo.mp4"), None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "did not hang");
        std::fs::create_dir(dir.path().join("a/dir.mp4")).unwrap();
        assert!(open_beneath(&roots, 0, Path::new("dir.mp4"), None).is_err());
    }
}
