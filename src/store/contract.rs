//! What every `Store` promises, as tests any implementation runs: a write
//! that returned `Ok` is there for the next reader and after a restart, a
//! batch is all or nothing, the writer acknowledges only after the commit
//! and gathers queued writes into one, and accounts, sessions, tokens,
//! playlists, import marks and the index keep what they were given.
//!
//! `contract_tests!(open, available)` makes one `#[test]` per promise for
//! the implementation `open` gives (run when `available()`) (`open(dir)` opens the state kept for
//! `dir`; dropping every handle closes it).

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

use super::people::{AccountRecord, GrantRecord};
use super::playlists::PlaylistRecord;
use super::records::{FileRecord, VideoRecord};
use super::writer::{Committed, Writer};
use super::{IndexChanges, Store};
use crate::catalog::personal::Viewer;
use crate::catalog::user::Edit;
use crate::library::ids::VideoId;

pub type Open<'a> = &'a dyn Fn(&Path) -> Arc<dyn Store>;

macro_rules! contract_tests {
    ($open:expr, $available:expr) => {
        #[test]
        fn writes_are_there_after_a_restart() {
            if $available() {
                crate::store::contract::writes_are_there_after_a_restart(&$open)
            }
        }
        #[test]
        fn the_writer_answers_after_the_commit_and_gathers_writes() {
            if $available() {
                crate::store::contract::the_writer_answers_after_the_commit_and_gathers_writes(&$open)
            }
        }
        #[test]
        fn people_are_kept() {
            if $available() {
                crate::store::contract::people_are_kept(&$open)
            }
        }
        #[test]
        fn playlists_are_kept() {
            if $available() {
                crate::store::contract::playlists_are_kept(&$open)
            }
        }
        #[test]
        fn the_index_and_import_marks_are_kept() {
            if $available() {
                crate::store::contract::the_index_and_import_marks_are_kept(&$open)
            }
        }
    };
}

mod redb {
    use std::path::Path;
    use std::sync::Arc;

    use crate::store::{RedbStore, Store};

    fn open(dir: &Path) -> Arc<dyn Store> {
        Arc::new(RedbStore::open(dir).expect("the redb store opens"))
    }

    contract_tests!(open, || true);
}

mod postgres {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, Mutex};

    use crate::config::database::Database;
    use crate::store::testing::Postgres;
    use crate::store::{PgStore, Store};

    /// A database per folder: opening the same folder again is a restart.
    fn open(dir: &Path) -> Arc<dyn Store> {
        static BY_DIR: Mutex<Option<HashMap<PathBuf, Database>>> = Mutex::new(None);
        let server = Postgres::shared().expect("checked by available()");
        let db = BY_DIR
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .entry(dir.to_path_buf())
            .or_insert_with(|| server.fresh_database())
            .clone();
        Arc::new(PgStore::open(&db).expect("the PostgreSQL store opens"))
    }

    contract_tests!(open, || Postgres::shared().is_some());
}

fn account(name: &str, role: &str) -> AccountRecord {
    AccountRecord { name: name.into(), role: role.into(), hash: None, created: 1, links: 0, libraries: None }
}

pub fn writes_are_there_after_a_restart(open: Open) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (VideoId(1), VideoId(2));
    let bob = Viewer::Person(Arc::from("bob"));
    {
        let store = open(dir.path());
        assert_eq!(store.put_account(&account("Ann", "admin")).unwrap().as_deref(), Some("ann"));
        store.put_account(&account("bob", "viewer")).unwrap();
        let applied = store
            .apply_user(&[
                (Viewer::Household, a, Edit::Rate(Some(4))),
                (Viewer::Household, a, Edit::AddTag("cats".into())),
                (bob.clone(), a, Edit::Rate(Some(2))),
                (bob.clone(), b, Edit::Favorite(true)),
            ])
            .unwrap();
        // Each edit as its author sees it afterwards, in order.
        assert_eq!(applied.seen.len(), 4);
        assert_eq!(applied.seen[1].tags, ["cats"]);
        assert_eq!(applied.seen[2].rating, Some(2), "bob sees his own rating");
        // Visible to the next reader at once.
        assert_eq!(store.load_user().unwrap()[&a].rating, Some(4));
    }
    let store = open(dir.path());
    let user = store.load_user().unwrap();
    assert_eq!((user[&a].rating, user[&a].tags.as_slice()), (Some(4), ["cats".to_string()].as_slice()));
    let personal = store.load_personal().unwrap();
    let bobs = &personal[&Arc::<str>::from("bob")];
    assert_eq!((bobs[&a].rating, bobs[&b].favorite), (Some(2), true));
    // The household's fields are not bob's.
    assert!(!user.get(&b).is_some_and(|d| d.favorite));
}

pub fn the_writer_answers_after_the_commit_and_gathers_writes(open: Open) {
    const WRITES: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    // The first commit waits in its hook until the others are queued.
    let (go, wait) = mpsc::channel::<()>();
    let wait = Mutex::new(wait);
    let commits: Arc<Mutex<Vec<usize>>> = Arc::default();
    let seen = commits.clone();
    let hook = Box::new(move |c: &Committed| {
        let first = seen.lock().unwrap().is_empty();
        seen.lock().unwrap().push(c.edited.len());
        if first {
            let _ = wait.lock().unwrap().recv();
        }
    });
    let writer = Arc::new(Writer::start(store.clone(), hook).unwrap());
    let write = |i: u64| {
        let (writer, store) = (writer.clone(), store.clone());
        std::thread::spawn(move || {
            let id = VideoId(100 + i);
            let after = writer.write_all_blocking(vec![(Viewer::Household, id, Edit::Rate(Some(3)))]).unwrap();
            assert_eq!(after[0].rating, Some(3));
            // Acknowledged: committed, so any reader sees it.
            assert_eq!(store.load_user().unwrap().get(&id).and_then(|d| d.rating), Some(3));
        })
    };
    let mut threads = vec![write(0)];
    wait_until(|| commits.lock().unwrap().len() == 1);
    threads.extend((1..WRITES).map(write));
    wait_until(|| writer.queued() == WRITES as usize - 1);
    go.send(()).unwrap();
    for t in threads {
        t.join().unwrap();
    }
    writer.close();
    // One commit for the first write, one for all the writes queued meanwhile.
    assert_eq!(*commits.lock().unwrap(), [1, WRITES as usize - 1]);
    drop((writer, store));
    let store = open(dir.path());
    assert_eq!(store.load_user().unwrap().values().filter(|d| d.rating == Some(3)).count(), WRITES as usize);
}

pub fn people_are_kept(open: Open) {
    let dir = tempfile::tempdir().unwrap();
    let grant = |name: &str| GrantRecord { name: name.into(), created: 5, last_seen: 6 };
    let secret = {
        let store = open(dir.path());
        assert_eq!(store.put_account(&account("ann", "admin")).unwrap().as_deref(), Some("ann"));
        // Only the first admin becomes the owner.
        assert_eq!(store.put_account(&account("zed", "admin")).unwrap(), None);
        store.put_account(&AccountRecord { libraries: Some(vec!["Kids".into()]), ..account("Bob", "viewer") }).unwrap();
        let kids = r#"[{"name":"Kids","folders":["/v/Kids"]}]"#;
        store.put_household(crate::store::people::LIBRARIES_KEY, Some(kids)).unwrap();
        store.put_household(crate::store::people::PROFILES_KEY, Some(r#"{"guest":["Kids"]}"#)).unwrap();
        store.put_household(crate::store::people::PROFILES_KEY, Some(r#"{"guest":[]}"#)).unwrap();
        store.put_token("t1", &grant("bob")).unwrap();
        store.put_token("t2", &grant("bob")).unwrap();
        store.put_token("t3", &grant("ann")).unwrap();
        store.put_session("s1", &grant("bob")).unwrap();
        store.put_session("s2", &grant("ann")).unwrap();
        store.remove_session("s2").unwrap();
        assert_eq!(store.revoke_tokens("BOB").unwrap(), 2);
        let secret = store.secret("links").unwrap();
        assert_eq!(secret.len(), 32);
        assert_eq!(store.secret("links").unwrap(), secret, "a secret is made once");
        secret
    };
    let store = open(dir.path());
    assert_eq!(store.secret("links").unwrap(), secret);
    let people = store.load_people().unwrap();
    assert_eq!(people.owner.as_deref(), Some("ann"));
    assert_eq!(people.accounts["bob"].libraries.as_deref(), Some(&["Kids".to_string()][..]));
    assert_eq!(people.libraries[0].folders, ["/v/Kids"]);
    assert_eq!(people.profiles["guest"], Vec::<String>::new(), "replaced");
    store.put_household(crate::store::people::LIBRARIES_KEY, None).unwrap();
    assert!(store.load_people().unwrap().libraries.is_empty());
    assert_eq!(people.tokens.keys().collect::<Vec<_>>(), ["t3"]);
    assert_eq!(people.sessions["s1"], grant("bob"));
    assert!(!people.sessions.contains_key("s2"));
    // Removing an account takes its sessions, tokens, own data and playlists.
    let bob = Viewer::Person(Arc::from("bob"));
    store.apply_user(&[(bob, VideoId(9), Edit::Rate(Some(5)))]).unwrap();
    store.add_playlist("bob", &PlaylistRecord { name: "mine".into(), items: vec![], created: 1, updated: 1 }).unwrap();
    assert!(store.remove_account("bob").unwrap());
    assert!(!store.remove_account("bob").unwrap());
    let people = store.load_people().unwrap();
    assert!(!people.accounts.contains_key("bob") && people.sessions.is_empty());
    assert!(!store.load_personal().unwrap().contains_key("bob"));
    assert!(store.load_playlists().unwrap().iter().all(|(owner, _, _)| owner != "bob"));
}

pub fn playlists_are_kept(open: Open) {
    let dir = tempfile::tempdir().unwrap();
    let list = |name: &str, items: &[u64]| PlaylistRecord {
        name: name.into(),
        items: items.iter().map(|&i| VideoId(i)).collect(),
        created: 1,
        updated: 2,
    };
    {
        let store = open(dir.path());
        assert_eq!(store.add_playlist("", &list("a", &[1, 2])).unwrap(), 1);
        assert_eq!(store.add_playlist("", &list("b", &[])).unwrap(), 2);
        assert_eq!(store.add_playlist("ann", &list("a", &[3])).unwrap(), 1, "numbers are per owner");
        store.put_playlist("", 2, None).unwrap();
        // A number is never given twice, even after a delete.
        assert_eq!(store.add_playlist("", &list("c", &[])).unwrap(), 3);
        store.put_playlist("", 1, Some(&list("a", &[2, 1]))).unwrap();
        // Restoring replaces by name, adds up to the limit, and no further;
        // a number kept when it is free, never given again after.
        store.restore_playlist("ann", Some(9), &list("a", &[4]), 3).unwrap();
        store.restore_playlist("ann", Some(7), &list("z", &[5]), 3).unwrap();
        store.restore_playlist("ann", Some(7), &list("x", &[7]), 3).unwrap();
        store.restore_playlist("ann", None, &list("y", &[6]), 3).unwrap();
        assert_eq!(store.add_playlist("bob", &list("b", &[])).unwrap(), 1);
    }
    let store = open(dir.path());
    let mut all = store.load_playlists().unwrap();
    all.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
    let got: Vec<(&str, u64, &str, Vec<u64>)> =
        all.iter().map(|(o, n, r)| (o.as_str(), *n, r.name.as_str(), r.items.iter().map(|v| v.0).collect())).collect();
    assert_eq!(
        got,
        [
            ("", 1, "a", vec![2, 1]),
            ("", 3, "c", vec![]),
            ("ann", 1, "a", vec![4]),
            ("ann", 7, "z", vec![5]),
            ("ann", 8, "x", vec![7]),
            ("bob", 1, "b", vec![])
        ]
    );
}

pub fn the_index_and_import_marks_are_kept(open: Open) {
    let dir = tempfile::tempdir().unwrap();
    let file = |id: u64| FileRecord { id: VideoId(id), size: 10 * id, mtime_ns: 7, dev: 1, ino: id };
    let video = |size: u64| VideoRecord { size, added: 3, info: None, broken: Some("fake".into()) };
    {
        let store = open(dir.path());
        assert!(!store.index_has_files().unwrap());
        let mut changes = IndexChanges::default();
        changes.put_files.push((b"/m/b.mp4".to_vec(), file(2)));
        changes.put_files.push((b"/m/a\xff.mp4".to_vec(), file(1)));
        changes.put_files.push((b"/m/gone.mp4".to_vec(), file(3)));
        changes.put_videos.insert(VideoId(1), video(10));
        changes.put_videos.insert(VideoId(2), video(20));
        store.apply_index(&changes).unwrap();
        let mut gone = IndexChanges::default();
        gone.delete_files.push(b"/m/gone.mp4".to_vec());
        store.apply_index(&gone).unwrap();
        store.mark_imported("flask:abc").unwrap();
    }
    let store = open(dir.path());
    assert!(store.index_has_files().unwrap());
    let index = store.load_index().unwrap();
    assert_eq!(index.files.len(), 2);
    assert_eq!(index.files[b"/m/a\xff.mp4".as_slice()], file(1));
    assert!(index.known.contains(&VideoId(1)) && index.known.contains(&VideoId(2)));
    let reader = store.index_reader().unwrap();
    assert_eq!((reader.file_count().unwrap(), reader.video_count().unwrap()), (2, 2));
    let mut paths = Vec::new();
    reader.for_each_file(&mut |p, _| paths.push(p.to_vec())).unwrap();
    assert_eq!(paths, [b"/m/a\xff.mp4".to_vec(), b"/m/b.mp4".to_vec()], "in byte order");
    let mut videos = Vec::new();
    reader.for_each_video(&mut |id, rec| videos.push((id.0, rec))).unwrap();
    assert_eq!(videos, [(1, video(10)), (2, video(20))]);
    assert!(store.was_imported("flask:abc").unwrap());
    assert!(store.was_imported_prefix("flask:").unwrap());
    assert!(!store.was_imported("flask:abd").unwrap() && !store.was_imported_prefix("other").unwrap());
}

/// Waits (at most a minute) until `done` holds.
fn wait_until(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "gave up waiting");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}
