//! Following the other servers on one database: their writes arrive as
//! notifications on the `vidserve` channel (`Follower`), and one of them at
//! a time scans, holding an advisory lock on a connection of its own
//! (`Leadership`). Both reconnect by themselves after the database
//! restarts; a follower that was cut off says so (`Change::Missed`),
//! since notifications sent meanwhile are lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{connect_raw, runtime, Database, CHANNEL, LOCK_SCANNER};
use crate::library::ids::VideoId;

/// How long to gather notifications into one batch of changes.
const GATHER: Duration = Duration::from_millis(2);
/// Between two checks that a quiet connection is still alive, and
/// between two tries to take the scanner lock or reconnect.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// A check that takes longer than this counts as a lost connection.
const CHECK_LIMIT: Duration = Duration::from_secs(3);

/// What another server changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The scan index (a scan finished).
    Index,
    /// These videos' shared records.
    User(Vec<VideoId>),
    /// These people's own records.
    Personal(Vec<(Arc<str>, VideoId)>),
    /// Accounts, sessions, tokens or the household's owner.
    People,
    Playlists,
    /// Notifications may have been lost (the connection was cut): read
    /// everything again.
    Missed,
}

/// Listens for the others' changes.
pub struct Follower {
    db: Database,
    origin: String,
}

/// Stops what it belongs to when dropped.
pub struct Stop {
    _tx: tokio::sync::oneshot::Sender<()>,
}

impl Follower {
    pub(super) fn new(db: Database, origin: String) -> Follower {
        Follower { db, origin }
    }

    /// Listens until the returned `Stop` is dropped, calling `on` on a
    /// plain thread with each batch of changes (in order). `reachable`
    /// says whether the listening connection is up.
    pub fn start(
        self,
        reachable: Arc<AtomicBool>,
        on: impl Fn(Vec<Change>) + Send + Sync + 'static,
    ) -> std::io::Result<Stop> {
        let rt = runtime().map_err(std::io::Error::other)?;
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Change>>();
        std::thread::Builder::new().name("vidserve-follow".into()).spawn(move || {
            while let Ok(changes) = rx.recv() {
                on(changes);
            }
        })?;
        rt.spawn(async move {
            let mut first = true;
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = self.listen(&reachable, &tx, first) => {}
                }
                reachable.store(false, Ordering::Release);
                first = false;
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(CHECK_EVERY) => {}
                }
            }
        });
        Ok(Stop { _tx: stop })
    }

    /// One connection's life: LISTEN, then pass changes on until it ends.
    async fn listen(&self, reachable: &AtomicBool, tx: &std::sync::mpsc::Sender<Vec<Change>>, first: bool) {
        let (client, mut conn) = match connect_raw(&self.db).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!("cannot follow the database yet: {e}");
                return;
            }
        };
        let (notes_tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            while let Some(m) = std::future::poll_fn(|cx| conn.as_mut().poll_message(cx)).await {
                match m {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        if notes_tx.send(n.payload().to_string()).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!("the database connection followed ended: {e}");
                        return;
                    }
                }
            }
        });
        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
            tracing::debug!("cannot listen on the database: {e}");
            driver.abort();
            return;
        }
        reachable.store(true, Ordering::Release);
        if !first {
            tracing::info!("following the database again");
            let _ = tx.send(vec![Change::Missed]);
        }
        loop {
            let first_note = tokio::select! {
                n = notes.recv() => n,
                () = tokio::time::sleep(CHECK_EVERY) => {
                    let alive = tokio::time::timeout(CHECK_LIMIT, client.simple_query("")).await;
                    if !matches!(alive, Ok(Ok(_))) {
                        tracing::warn!("lost the database connection; following it again when it is back");
                        break;
                    }
                    continue;
                }
            };
            let Some(first_note) = first_note else { break };
            let mut payloads = vec![first_note];
            let gather = tokio::time::sleep(GATHER);
            tokio::pin!(gather);
            loop {
                tokio::select! {
                    n = notes.recv() => match n { Some(n) => payloads.push(n), None => break },
                    () = &mut gather => break,
                }
            }
            let changes = changes_of(&payloads, &self.origin);
            if !changes.is_empty() && tx.send(changes).is_err() {
                break;
            }
        }
        driver.abort();
    }
}

/// The changes in `payloads` (`ORIGIN KIND ITEM…`), others' only, in order,
/// with repeats of a kind without items dropped.
pub(super) fn changes_of(payloads: &[String], origin: &str) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for p in payloads {
        let mut words = p.split(' ');
        let (Some(from), Some(kind)) = (words.next(), words.next()) else { continue };
        if from == origin {
            continue;
        }
        let change = match kind {
            "index" => Change::Index,
            "people" => Change::People,
            "playlists" => Change::Playlists,
            "user" => Change::User(words.filter_map(|w| w.parse().ok()).collect()),
            "personal" => Change::Personal(
                words
                    .filter_map(|w| {
                        let (name, id) = w.rsplit_once('/')?;
                        Some((Arc::from(name), id.parse().ok()?))
                    })
                    .collect(),
            ),
            _ => continue,
        };
        let repeated = !matches!(change, Change::User(_) | Change::Personal(_)) && out.contains(&change);
        match (change, out.last_mut()) {
            (Change::User(ids), Some(Change::User(before))) => before.extend(ids),
            (Change::Personal(p), Some(Change::Personal(before))) => before.extend(p),
            (Change::User(ids), _) if ids.is_empty() => {}
            (Change::Personal(p), _) if p.is_empty() => {}
            _ if repeated => {}
            (change, _) => out.push(change),
        }
    }
    out
}

/// Whether this server is the one that scans: it holds the scanner lock
/// on a connection of its own, so the lock goes the moment the server
/// dies (its connection closes) and another takes it within
/// `CHECK_EVERY`. A leader that loses its connection stops leading at once.
pub struct Leadership {
    leading: Arc<AtomicBool>,
    _stop: Stop,
}

impl Leadership {
    /// Starts trying to take the lock; `changed` is called (on the
    /// database runtime: it must not block) each time leadership is won
    /// or lost.
    pub fn start(db: Database, changed: impl Fn(bool) + Send + Sync + 'static) -> std::io::Result<Leadership> {
        let rt = runtime().map_err(std::io::Error::other)?;
        let leading = Arc::new(AtomicBool::new(false));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let flag = leading.clone();
        rt.spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    () = hold(&db, &flag, &changed) => {}
                }
                if flag.swap(false, Ordering::AcqRel) {
                    tracing::warn!("no longer the scanning server (the database connection was lost)");
                    changed(false);
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(CHECK_EVERY) => {}
                }
            }
            if flag.swap(false, Ordering::AcqRel) {
                changed(false);
            }
        });
        Ok(Leadership { leading, _stop: Stop { _tx: stop } })
    }

    pub fn is_leader(&self) -> bool {
        self.leading.load(Ordering::Acquire)
    }

    /// The flag `is_leader` reads, for a thread that checks it often.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.leading.clone()
    }
}

/// One connection's life: try the lock every `CHECK_EVERY` until it is
/// taken, then check the connection every `CHECK_EVERY` while holding it.
async fn hold(db: &Database, leading: &AtomicBool, changed: &(impl Fn(bool) + Send + Sync)) {
    let (client, mut conn) = match connect_raw(db).await {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!("cannot reach the database for the scanner lock: {e}");
            return;
        }
    };
    let driver = tokio::spawn(async move {
        while let Some(Ok(_)) = std::future::poll_fn(|cx| conn.as_mut().poll_message(cx)).await {}
    });
    loop {
        let asked = if leading.load(Ordering::Acquire) {
            tokio::time::timeout(CHECK_LIMIT, client.simple_query("")).await.map(|r| r.map(|_| true))
        } else {
            let q = client.query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_SCANNER]);
            tokio::time::timeout(CHECK_LIMIT, q).await.map(|r| r.map(|row| row.get::<_, bool>(0)))
        };
        match asked {
            Ok(Ok(true)) => {
                if !leading.swap(true, Ordering::AcqRel) {
                    tracing::info!("this server now scans the library (it holds the scanner lock)");
                    changed(true);
                }
            }
            Ok(Ok(false)) => {}
            _ => break,
        }
        tokio::time::sleep(CHECK_EVERY).await;
    }
    driver.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_become_changes_and_our_own_are_skipped() {
        let a = VideoId(1);
        let b = VideoId(0xffff_0000_0000_0002);
        let payloads = vec![
            format!("me user {a}"),
            format!("them user {a} {b}"),
            format!("them user {b}"),
            "them people".to_string(),
            "them people".to_string(),
            format!("them personal ann/{a} x.y-z/{b} broken"),
            "them index".to_string(),
            "them nonsense 1".to_string(),
            "garbage".to_string(),
        ];
        assert_eq!(
            changes_of(&payloads, "me"),
            vec![
                Change::User(vec![a, b, b]),
                Change::People,
                Change::Personal(vec![(Arc::from("ann"), a), (Arc::from("x.y-z"), b)]),
                Change::Index,
            ]
        );
    }
}
