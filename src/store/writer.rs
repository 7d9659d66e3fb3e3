//! Group commit: one thread owns every user-data write transaction. It takes
//! whatever writes are queued (it stops gathering once `MAX_BATCH` edits
//! are in), applies them in one redb
//! transaction with one fsync, hands what changed to the caller's commit
//! hook (which updates the in-memory copy and tells open pages), and only
//! then acknowledges each caller. A 2xx therefore always means "on disk".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;

/// Called on the writer thread after each commit, before any caller is
/// acknowledged: every edited video with its data after the whole batch
/// (each video once).
pub type OnCommit = Box<dyn Fn(&[(VideoId, UserData)]) + Send>;

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
}

/// Edits that succeed or fail together (they share a transaction).
struct Job {
    edits: Vec<(VideoId, Edit)>,
    ack: oneshot::Sender<Result<Vec<UserData>, WriteError>>,
}

pub struct Writer {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer thread; `on_commit` learns what each commit changed.
    pub fn start(store: Arc<Store>, on_commit: OnCommit) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread =
            std::thread::Builder::new().name("vidserve-writer".into()).spawn(move || run(&store, &on_commit, rx))?;
        Ok(Writer { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues one edit and waits until it is durable.
    pub async fn write(&self, id: VideoId, edit: Edit) -> Result<UserData, WriteError> {
        let mut after = self.write_all(vec![(id, edit)]).await?;
        after.pop().ok_or(WriteError::Closed)
    }

    /// Queues edits that commit together (a batch action) and waits until
    /// they are durable; returns each video's data after its edit.
    pub async fn write_all(&self, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        let tx = self.tx.lock().ok().and_then(|t| t.clone()).ok_or(WriteError::Closed)?;
        let (ack, done) = oneshot::channel();
        tx.send(Job { edits, ack }).await.map_err(|_| WriteError::Closed)?;
        done.await.map_err(|_| WriteError::Closed)?
    }

    /// `write_all` for a plain thread (never call it on an async worker).
    pub fn write_all_blocking(&self, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        let tx = self.tx.lock().ok().and_then(|t| t.clone()).ok_or(WriteError::Closed)?;
        let (ack, done) = oneshot::channel();
        tx.blocking_send(Job { edits, ack }).map_err(|_| WriteError::Closed)?;
        done.blocking_recv().map_err(|_| WriteError::Closed)?
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

fn run(store: &Store, on_commit: &OnCommit, mut rx: mpsc::Receiver<Job>) {
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
        let edits: Vec<(VideoId, Edit)> = batch.iter().flat_map(|j| j.edits.iter().cloned()).collect();
        match store.apply_user(&edits) {
            Ok(after) => {
                // Each video once: its state after the whole batch.
                let mut last: HashMap<VideoId, &UserData> = HashMap::new();
                for ((id, _), data) in edits.iter().zip(&after) {
                    last.insert(*id, data);
                }
                let changed: Vec<(VideoId, UserData)> = last.into_iter().map(|(id, d)| (id, d.clone())).collect();
                on_commit(&changed);
                let mut after = after.into_iter();
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
