//! Group commit: one thread owns every user-data write transaction. It takes
//! whatever writes are queued (up to `MAX_BATCH`), applies them in one redb
//! transaction with one fsync, updates the in-memory `UserCache`, and only
//! then acknowledges each caller. A 2xx therefore always means "on disk".

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::records::{Edit, UserData};
use super::user::UserCache;
use super::{Store, StoreError};
use crate::library::ids::VideoId;

/// Most writes committed together.
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

struct Job {
    id: VideoId,
    edit: Edit,
    ack: oneshot::Sender<Result<UserData, WriteError>>,
}

pub struct Writer {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(store: Arc<Store>, users: Arc<UserCache>) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread =
            std::thread::Builder::new().name("vidserve-writer".into()).spawn(move || run(&store, &users, rx))?;
        Ok(Writer { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues one edit and waits until it is durable.
    pub async fn write(&self, id: VideoId, edit: Edit) -> Result<UserData, WriteError> {
        let tx = self.tx.lock().ok().and_then(|t| t.clone()).ok_or(WriteError::Closed)?;
        let (ack, done) = oneshot::channel();
        tx.send(Job { id, edit, ack }).await.map_err(|_| WriteError::Closed)?;
        done.await.map_err(|_| WriteError::Closed)?
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

fn run(store: &Store, users: &UserCache, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let edits: Vec<(VideoId, Edit)> = batch.iter().map(|j| (j.id, j.edit)).collect();
        match store.apply_user(&edits) {
            Ok(after) => {
                users.set_all(edits.iter().map(|(id, _)| *id).zip(after.iter().cloned()));
                for (job, data) in batch.into_iter().zip(after) {
                    let _ = job.ack.send(Ok(data));
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
