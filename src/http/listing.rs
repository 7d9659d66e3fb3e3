//! Where a listing runs: inline when it is a slice of a precomputed order,
//! else on the blocking pool behind a gate (`run`). The query and its
//! engine are `catalog::listing`'s.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use super::error::ApiError;
use crate::app::playlists::Playlists;
use crate::app::{Library, UserDataHandle};
use crate::catalog::listing::{ListQuery, Listing};
use crate::catalog::search;
use crate::catalog::{Catalog, Sight, Viewer};
use crate::library::ids::VideoId;
use crate::people::People;

/// What listings read: the library's catalog, each person's user data
/// (with its derived orders and searches) and their playlists. Cheap to
/// clone (three handles).
#[derive(Clone)]
pub struct Lists {
    pub library: Arc<Library>,
    pub user_data: Arc<UserDataHandle>,
    pub playlists: Arc<Playlists>,
}

/// Turns for CPU-bound work off the async workers: two per core (one
/// left many idle moments between hand-offs). Waiters
/// are served in order (tokio's semaphore is fair).
fn cpu_gate() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| Semaphore::new(2 * std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// The sight a listing runs with: `sight`, or, when `q` names a library
/// (`library=Films`), that library's folders if `sight` sees it whole.
/// `q` is left naming the library as its admins spelled it.
pub fn narrowed(people: &People, sight: &Sight, q: &mut ListQuery) -> Result<Sight, ApiError> {
    let Some(name) = q.library() else { return Ok(sight.clone()) };
    let Some(found) = people.libraries_seen(sight).into_iter().find(|l| l.name.eq_ignore_ascii_case(name)) else {
        // A name is 64 characters at most: a longer one is not repeated.
        let said =
            if name.chars().count() <= 64 { format!("no library named {name:?}") } else { "no such library".into() };
        return Err(ApiError::NotFound(said));
    };
    q.library = Some(found.name.clone());
    Ok(library_sight(&found))
}

/// What a library's own listing sees: its folders.
pub fn library_sight(library: &crate::people::libraries::Library) -> Sight {
    Sight::only(library.folders.iter().map(std::path::PathBuf::from).collect())
}

/// The library `v` is in, of those `sight` sees whole: its video folder's
/// (its `--dir`) when several are seen, else the first named one holding
/// it; none while only one library is seen (it would narrow nothing).
pub fn own_library(
    people: &People,
    sight: &Sight,
    catalog: &crate::catalog::Catalog,
    v: &crate::catalog::Video,
) -> Option<crate::people::libraries::Library> {
    let seen = people.libraries_seen(sight);
    if seen.len() < 2 {
        return None;
    }
    let folders = seen.iter().filter(|l| l.default).count();
    seen.into_iter().filter(|l| l.default == (folders > 1)).find(|l| library_sight(l).sees(catalog, v))
}

/// Lists `q` for `who` against `lists`' user data and playlists.
pub fn list(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    catalog: &Catalog,
    q: &ListQuery,
    per_page: usize,
) -> Result<Listing, ApiError> {
    let playlist = playlist_of(lists, who, q)?;
    let inputs = lists.user_data.inputs(catalog, who, sight, playlist.as_deref());
    Ok(q.list(&inputs, per_page)?)
}

/// A random video of the listing `q` names (see `ListQuery::random`); on
/// the blocking pool when it needs more than a precomputed order.
pub async fn random(
    q: ListQuery,
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    catalog: Arc<Catalog>,
) -> Result<Arc<crate::catalog::Video>, ApiError> {
    let heavy = q.is_heavy();
    let pick = move |lists: &Lists, who: &Viewer, sight: &Sight| -> Result<_, ApiError> {
        let playlist = playlist_of(lists, who, &q)?;
        Ok(q.random(&lists.user_data.inputs(&catalog, who, sight, playlist.as_deref()))?)
    };
    let found = if !heavy {
        pick(lists, who, sight)?
    } else {
        let turn = cpu_gate().acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
        let (lists, who, sight) = (lists.clone(), who.clone(), sight.clone());
        crate::blocking::spawn(move || {
            let _turn = turn;
            pick(&lists, &who, &sight)
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))??
    };
    found.ok_or_else(|| ApiError::NotFound("no video matches; nothing to pick from".into()))
}

/// The videos of the playlist `q` names, if it names one of `who`'s.
fn playlist_of(lists: &Lists, who: &Viewer, q: &ListQuery) -> Result<Option<Vec<VideoId>>, ApiError> {
    match q.playlist {
        Some(n) => {
            Ok(Some(lists.playlists.get(who, n).ok_or_else(|| ApiError::NotFound("no such playlist".into()))?.items))
        }
        None => Ok(None),
    }
}

/// `list` for a request handler: inline when cheap, else on the
/// blocking pool so the async workers keep serving others. Heavy
/// listings wait their turn at `cpu_gate`, so 50 searches at once run
/// a few at a time, first come first served, instead of 50 threads
/// sharing the cores and all finishing late.
pub async fn run(
    q: ListQuery,
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    catalog: Arc<Catalog>,
    per_page: usize,
) -> Result<(ListQuery, Listing), ApiError> {
    if !q.is_heavy() {
        let listing = list(lists, who, sight, &catalog, &q, per_page)?;
        return Ok((q, listing));
    }
    // A search alone is first tried here: a cached or small one is
    // answered without the two thread hand-offs of the blocking pool
    // (a quarter more searches a second at a million videos).
    if q.is_search_only() {
        if let Some(listing) =
            q.list_within(&lists.user_data.inputs(&catalog, who, sight, None), per_page, Some(search::QUICK))?
        {
            return Ok((q, listing));
        }
    }
    let turn = cpu_gate().acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
    let (lists, who, sight) = (lists.clone(), who.clone(), sight.clone());
    crate::blocking::spawn(move || {
        let _turn = turn;
        let listing = list(&lists, &who, &sight, &catalog, &q, per_page)?;
        Ok((q, listing))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
}
