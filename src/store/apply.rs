//! How a batch of user-data edits becomes stored records, the same for
//! every store: each edit starts from its video's shared record and its
//! author's own one, and what it changes is split back between them. A
//! stored record that cannot be decoded is set aside, never overwritten
//! unseen. The store gives the rows (`Rows`), inside its transaction.

use std::sync::Arc;

use super::{Applied, StoreError};
use crate::catalog::personal::{Personal, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;

/// The rows one transaction reads and writes (raw stored bytes: JSON).
pub(super) trait Rows {
    fn shared(&mut self, id: VideoId) -> Result<Option<Vec<u8>>, StoreError>;
    fn put_shared(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError>;
    fn personal(&mut self, who: &str, id: VideoId) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes (`Some`) or removes (`None`) one person's record.
    fn put_personal(&mut self, who: &str, id: VideoId, raw: Option<&[u8]>) -> Result<(), StoreError>;
    /// Keeps undecodable bytes aside (with the time, Unix ns).
    fn set_aside(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError>;
    fn has_account(&mut self, who: &str) -> Result<bool, StoreError>;
}

/// Applies `edits` in order through `rows`; what was written.
pub(super) fn apply_edits(rows: &mut dyn Rows, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError> {
    let mut out = Applied::default();
    for (who, id, edit) in edits {
        let id = *id;
        let (shared, was_damaged) = match rows.shared(id)? {
            None => (UserData::default(), false),
            Some(raw) => match serde_json::from_slice(&raw) {
                Ok(d) => (d, false),
                Err(e) => {
                    tracing::error!(video = %id, "a stored user record cannot be read ({e}); it is kept aside");
                    rows.set_aside(id, &raw)?;
                    (UserData::default(), true)
                }
            },
        };
        let Viewer::Person(name) = who else {
            let mut data = shared;
            data.apply(edit.clone());
            rows.put_shared(id, &encode(&data))?;
            out.shared.push((id, data.clone()));
            out.seen.push(data);
            continue;
        };
        let before: Personal = match rows.personal(name, id)? {
            None => Personal::default(),
            Some(raw) => match serde_json::from_slice(&raw) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(video = %id, person = &**name, "a stored record cannot be read ({e}); it is kept aside");
                    rows.set_aside(id, &raw)?;
                    Personal::default()
                }
            },
        };
        let mut seen = shared.seen_with(&before);
        // A write that raced its author's removal changes nothing (a
        // restore may bring a person's data before their account).
        let restoring = matches!(edit, Edit::SetPersonal(_));
        if !restoring && !rows.has_account(name)? {
            out.seen.push(seen);
            continue;
        }
        seen.apply(edit.clone());
        let (new_shared, mut mine) = shared.split(seen.clone(), &before);
        if let Edit::SetPersonal(p) = edit {
            mine = (**p).clone();
        }
        if new_shared != shared || was_damaged {
            rows.put_shared(id, &encode(&new_shared))?;
            out.shared.push((id, new_shared));
        }
        if mine != before {
            let raw = (!mine.is_empty()).then(|| encode(&mine));
            rows.put_personal(name, id, raw.as_deref())?;
            out.personal.push((Arc::clone(name), id, mine));
        }
        out.seen.push(seen);
    }
    Ok(out)
}

/// The stored form of user records: JSON.
pub(super) fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records are plain data and always serialise")
}
