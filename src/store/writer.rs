//! Group commit: one thread owns every user-data write transaction. It takes
//! whatever writes are queued (it stops gathering once `MAX_BATCH` edits
//! are in), applies them in one
//! transaction (`Store::apply_user`, one fsync), hands what changed to the caller's commit
//! hook (which updates the in-memory copy and tells open pages), and only
//! then acknowledges each caller. A 2xx therefore always means "on disk".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{Applied, Store, StoreError};
use crate::catalog::personal::Viewer;
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;

/// Called on the writer thread after each commit, before any caller is
/// acknowledged, with what the commit wrote. Each edited shared record
/// and each person's record appears once, as it is after the whole batch;
/// `edited` lists who edited which video (for events), each pair once.
pub type OnCommit = Box<dyn Fn(&Committed) + Send>;

/// What one commit wrote.
#[derive(Debug, Default)]
pub struct Committed {
    pub shared: Vec<(VideoId, UserData)>,
    pub personal: Vec<(Arc<str>, VideoId, crate::catalog::Personal)>,
    pub edited: Vec<(Viewer, VideoId)>,
}

/// Edits after which no more queued jobs join a commit (a job is never split).
const MAX_BATCH: usize = 1024;
/// Writes waiting before callers are slowed down (back-pressure).
const QUEUE: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the write could not be saved: {0}")]
    Store(Arc<StoreError>),
    #[error("the server is shutting down")]
    Closed,
    #[error("sign in to change anything")]
    Guest,
}

/// Edits that succeed or fail together (they share a transaction), all by
/// one person.
struct Job {
    edits: Vec<(Viewer, VideoId, Edit)>,
    ack: oneshot::Sender<Result<Vec<UserData>, WriteError>>,
}

pub struct Writer {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread; `on_commit` learns what each commit changed.
    pub fn start(store: Arc<dyn Store>, on_commit: OnCommit) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("vidserve-writer".into())
            .spawn(move || run(store.as_ref(), &on_commit, rx))?;
        Ok(Writer { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues edits by `who` that commit together (a batch action) and
    /// waits until they are durable; returns each video's data, as `who`
    /// sees it, after its edit.
    pub async fn write_all(&self, who: &Viewer, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        let edits = edits.into_iter().map(|(id, e)| (who.clone(), id, e)).collect();
        let (tx, job, done) = self.job(edits)?;
        tx.send(job).await.map_err(|_| WriteError::Closed)?;
        done.await.map_err(|_| WriteError::Closed)?
    }

    /// `write_all` for a plain thread (never call it on an async worker),
    /// each edit by its own author.
    pub fn write_all_blocking(&self, edits: Vec<(Viewer, VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        let (tx, job, done) = self.job(edits)?;
        tx.blocking_send(job).map_err(|_| WriteError::Closed)?;
        done.blocking_recv().map_err(|_| WriteError::Closed)?
    }

    #[allow(clippy::type_complexity)]
    fn job(
        &self,
        edits: Vec<(Viewer, VideoId, Edit)>,
    ) -> Result<(mpsc::Sender<Job>, Job, oneshot::Receiver<Result<Vec<UserData>, WriteError>>), WriteError> {
        if edits.iter().any(|(who, _, _)| *who == Viewer::Guest) {
            return Err(WriteError::Guest);
        }
        let tx = self.tx.lock().ok().and_then(|t| t.clone()).ok_or(WriteError::Closed)?;
        let (ack, done) = oneshot::channel();
        Ok((tx, Job { edits, ack }, done))
    }

    /// Writes waiting for the writer thread.
    pub fn queued(&self) -> usize {
        let tx = self.tx.lock().ok().and_then(|t| t.clone());
        tx.map_or(0, |t| t.max_capacity() - t.capacity())
    }

    /// Stops taking writes, commits what is queued, and waits for the thread.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

fn run(store: &dyn Store, on_commit: &OnCommit, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        let mut queued = batch[0].edits.len();
        while queued < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    queued += job.edits.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let edits: Vec<(Viewer, VideoId, Edit)> = batch.iter().flat_map(|j| j.edits.iter().cloned()).collect();
        match store.apply_user(&edits) {
            Ok(Applied { seen, shared, personal }) => {
                on_commit(&committed(&edits, shared, personal));
                let mut after = seen.into_iter();
                for job in batch {
                    let mine: Vec<UserData> = after.by_ref().take(job.edits.len()).collect();
                    let _ = job.ack.send(Ok(mine));
                }
            }
            Err(e) => {
                tracing::error!("user data write failed: {e}");
                let e = Arc::new(e);
                for job in batch {
                    let _ = job.ack.send(Err(WriteError::Store(e.clone())));
                }
            }
        }
    }
}

/// Each record once, as it is after the whole batch.
fn committed(
    edits: &[(Viewer, VideoId, Edit)],
    shared: Vec<(VideoId, UserData)>,
    personal: Vec<(Arc<str>, VideoId, crate::catalog::Personal)>,
) -> Committed {
    let shared: HashMap<VideoId, UserData> = shared.into_iter().collect();
    let personal: HashMap<(Arc<str>, VideoId), crate::catalog::Personal> =
        personal.into_iter().map(|(who, id, p)| ((who, id), p)).collect();
    let edited: std::collections::HashSet<(Viewer, VideoId)> =
        edits.iter().map(|(who, id, _)| (who.clone(), *id)).collect();
    Committed {
        shared: shared.into_iter().collect(),
        personal: personal.into_iter().map(|((who, id), p)| (who, id, p)).collect(),
        edited: edited.into_iter().collect(),
    }
}
