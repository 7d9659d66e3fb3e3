//! Page handlers: read the catalog, build a view, render it.

use std::sync::Arc;

use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use percent_encoding::utf8_percent_encode;

use super::{html, redirect, ApiError};
use crate::catalog::listing::{ListQuery, QUERY_VALUE};
use crate::catalog::query;
use crate::catalog::query::Filter;
use crate::catalog::{Catalog, RootState, Sight, UserData, Video, Viewer};
use crate::http::body::Body;
use crate::http::listing::Lists;
use crate::http::pages::folders::{folders as folders_page, FoldersView};
use crate::http::pages::layout::Visitor;
use crate::http::pages::playlists::{playlists as playlists_page, Listed};
use crate::http::pages::tags::tags as tags_page;
use crate::http::pages::{gallery::gallery as gallery_page, watch::watch as watch_page};
use crate::http::pages::{gallery::GalleryView, gallery::Row, watch::UpNext, watch::WatchView};
use crate::http::route::VideoKey;
use crate::library::ids::VideoId;
use crate::media::inside::cache::Inside;
use crate::media::thumbs::Thumbs;
use crate::people::People;

pub const PER_PAGE: usize = 48;

/// Which listing a gallery page shows.
pub enum Shelf {
    All,
    Favorites,
    BestOf,
    Tag(String),
    Playlist(u64),
}

#[allow(clippy::too_many_arguments)]
pub async fn gallery(
    lists: &Lists,
    people: &People,
    thumbs: &Thumbs,
    who: &Viewer,
    sight: &Sight,
    visitor: &Visitor,
    shelf: Shelf,
    mut q: ListQuery,
) -> Result<Response<Body>, ApiError> {
    let (heading, path) = match shelf {
        Shelf::All => ("Library".to_string(), "/".to_string()),
        Shelf::Favorites => {
            q.favorites = true;
            ("Favorites".into(), "/favorites".into())
        }
        Shelf::BestOf => {
            q.min_rating = Some(q.min_rating.unwrap_or(4).max(4));
            // The best first, unless another order was asked for.
            q.sort = q.sort.or(Some(crate::catalog::Sort::Rating));
            ("Best of".into(), "/best-of".into())
        }
        Shelf::Tag(tag) => {
            let tag = tag.trim().trim_start_matches('#').to_string();
            let path = format!("/tag/{}", utf8_percent_encode(&tag, QUERY_VALUE));
            q.tag = Some(match q.tag.take() {
                Some(more) if !more.is_empty() => format!("{tag},{more}"),
                _ => tag.clone(),
            });
            (format!("#{tag}"), path)
        }
        Shelf::Playlist(n) => {
            let list = lists.playlists.get(who, n).ok_or_else(|| ApiError::NotFound("no such playlist".into()))?;
            q = ListQuery { playlist: Some(n), page: q.page, ..ListQuery::default() };
            (list.name, format!("/playlists/{n}"))
        }
    };
    // A library named: the listing runs within it.
    let everything = sight;
    let narrowed = crate::http::listing::narrowed(people, sight, &mut q)?;
    let sight = &narrowed;
    let heading = match q.library() {
        Some(l) if path == "/" => l.to_string(),
        Some(l) => format!("{heading} in {l}"),
        None => heading,
    };
    let mut visitor = visitor.clone();
    let heading = match q.q.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(words) => {
            visitor.search = words.to_string();
            format!("{heading}: “{words}”")
        }
        None => heading,
    };
    let catalog = lists.library.catalog();
    let (q, listing) = crate::http::listing::run(q, lists, who, sight, catalog.clone(), PER_PAGE).await?;
    if q.page.is_some_and(|asked| asked > listing.pages) {
        // A page past the end (an old link): said by going to the last one.
        let to = format!("{path}?{}", q.with_page(listing.pages));
        return Ok(redirect(StatusCode::SEE_OTHER, &to));
    }
    // The rows above the listing only over the library in its first order:
    // another sort is asked for to see the listing so sorted.
    let plain = path == "/" && listing.page == 1 && q.is_plain() && q.library().is_none();
    let continue_watching = if plain { continue_watching(lists, who, sight, &catalog) } else { Vec::new() };
    let next_up = if plain { super::series::next_up(lists, who, sight, &catalog) } else { Vec::new() };
    let latest = if plain { latest(lists, people, who, everything, &catalog).await? } else { Vec::new() };
    let series = match q.q.as_deref() {
        Some(words) if listing.page == 1 && path == "/" && q.is_search_only() && q.library().is_none() => {
            super::series::matching(lists, thumbs, sight, words)
        }
        _ => Vec::new(),
    };
    let in_rows = continue_watching.iter().chain(&next_up).chain(latest.iter().flat_map(|(_, row)| row));
    let shown = listing.videos.iter().chain(in_rows.map(|(v, _)| v));
    let shown: Vec<&Arc<Video>> = shown.collect();
    let with_thumbs = shown.iter().filter(|v| thumbs.has(v.id)).map(|v| v.id).collect();
    let sprites = shown.iter().filter_map(|v| Some((v.id, thumbs.sprite(v.id)?))).collect();
    let users = lists.user_data.data.view(who, |view| {
        listing.videos.iter().map(|v| view.get(v.id).map(|d| d.into_owned()).unwrap_or_default()).collect()
    });
    let sees = sight.seer(&catalog);
    let editor = q.playlist.and_then(|n| {
        let list = lists.playlists.get(who, n)?;
        let items: Vec<(VideoId, String)> = list
            .items
            .iter()
            .filter_map(|id| catalog.get(*id).filter(|v| sees(v)))
            .map(|v| (v.id, crate::http::pages::gallery::link_title(v, &lists.user_data.data.get(v.id))))
            .collect();
        Some(crate::http::pages::playlists::editor(n, &list.name, &items))
    });
    let view = GalleryView {
        heading,
        path,
        query: q,
        listing,
        users,
        thumbs: with_thumbs,
        sprites,
        continue_watching,
        next_up,
        latest,
        series,
        scanning: !lists.library.is_ready(),
        offline_roots: catalog
            .roots
            .iter()
            .filter(|r| matches!(r.state, RootState::Offline(_)))
            .map(|r| r.path.display().to_string())
            .collect(),
        years: super::series::years(&catalog, sight),
        editor,
        visitor,
    };
    Ok(html(gallery_page(&view)))
}

/// `GET /playlists`: the asking person's playlists.
pub fn playlists(lists: &Lists, thumbs: &Thumbs, who: &Viewer, sight: &Sight, visitor: &Visitor) -> Response<Body> {
    let catalog = lists.library.catalog();
    let sees = sight.seer(&catalog);
    let listed: Vec<Listed> = lists
        .playlists
        .list(who)
        .into_iter()
        .map(|(n, rec)| {
            // A video its owner may no longer see stays in the list, unshown.
            let present: Vec<VideoId> =
                rec.items.iter().copied().filter(|id| catalog.get(*id).is_some_and(|v| sees(v))).collect();
            // The cover: the first video with a picture.
            let cover = present.iter().copied().find(|id| thumbs.has(*id));
            Listed { n, name: rec.name, count: present.len(), first: present.first().copied(), cover }
        })
        .collect();
    html(playlists_page(&listed, visitor, !matches!(who, Viewer::Guest)))
}

/// Videos with a remembered position, most recently watched first.
fn continue_watching(lists: &Lists, who: &Viewer, sight: &Sight, catalog: &Catalog) -> Vec<(Arc<Video>, UserData)> {
    const ROW: usize = 8;
    let sees = sight.seer(catalog);
    let mut started: Vec<(i64, Arc<Video>, UserData)> = lists.user_data.data.view(who, |view| {
        let mut out = Vec::new();
        view.for_each(|id, d| {
            if let Some(v) = catalog.get(id).filter(|v| d.position_ms.is_some() && sees(v)) {
                out.push((d.position_at.unwrap_or(0), v.clone(), d.clone()));
            }
        });
        out
    });
    started.sort_by_key(|s| std::cmp::Reverse(s.0));
    started.into_iter().take(ROW).map(|(_, v, d)| (v, d)).collect()
}

/// The newest videos of each library `sight` sees (the first `MOST`),
/// for the home page's rows (none when there is only one library to see:
/// the page's own grid is its newest). Each library's order is made once
/// per catalog and kept (`Ranks::scoped`); the first runs on the blocking
/// pool.
async fn latest(
    lists: &Lists,
    people: &People,
    who: &Viewer,
    sight: &Sight,
    catalog: &Arc<Catalog>,
) -> Result<Vec<(String, Row)>, ApiError> {
    const ROW: usize = 12;
    const MOST: usize = 10;
    let seen = people.libraries_seen(sight);
    if seen.len() < 2 {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    for library in seen.into_iter().take(MOST) {
        let within = crate::http::listing::library_sight(&library);
        let q = ListQuery { library: Some(library.name), ..ListQuery::default() };
        let (q, listing) = crate::http::listing::run(q, lists, who, &within, catalog.clone(), ROW).await?;
        let users = lists.user_data.data.view(who, |view| {
            listing
                .videos
                .iter()
                .map(|v| view.get(v.id).map(|d| d.into_owned()).unwrap_or_default())
                .collect::<Vec<_>>()
        });
        rows.push((q.library.unwrap_or_default(), listing.videos.into_iter().zip(users).collect::<Vec<_>>()));
    }
    // Rows of libraries with nothing in them say nothing; one row alone
    // repeats the grid under it.
    rows.retain(|(_, row)| !row.is_empty());
    if rows.len() < 2 {
        rows.clear();
    }
    Ok(rows)
}

/// `GET /tags`: every tag with its count.
pub fn tags(lists: &Lists, sight: &Sight, visitor: &Visitor) -> Result<Response<Body>, ApiError> {
    let catalog = lists.library.catalog();
    let tags = query::tag_counts(&catalog, &lists.user_data.data, sight.visible(&catalog).as_deref());
    Ok(html(tags_page(&tags, visitor)))
}

/// `GET /random`: a redirect to a random video's watch page, among those
/// the query's filters and search let through.
pub async fn random(lists: &Lists, who: &Viewer, sight: &Sight, q: ListQuery) -> Result<Response<Body>, ApiError> {
    let video = crate::http::listing::random(q, lists, who, sight, lists.library.catalog()).await?;
    let mut res = super::redirect(StatusCode::FOUND, &format!("/watch/{}", video.id));
    res.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Finds a video by id or by the original's root-relative file name, if
/// `sight` lets it be seen (a hidden one is not found).
pub fn lookup(catalog: &Catalog, sight: &Sight, key: &VideoKey) -> Result<Arc<Video>, ApiError> {
    match key {
        VideoKey::Id(id) => catalog.get(*id),
        VideoKey::Path(rel) => catalog.by_rel_path(rel),
    }
    .filter(|v| sight.sees(catalog, v))
    .cloned()
    .ok_or_else(ApiError::not_found)
}

/// Most videos of a filtered or searched listing looked through for a
/// watch page's neighbours.
const UP_NEXT_SCAN: usize = 10_000;

/// The listing a watch page came from (its query string: sort, filters,
/// search), and whether it is shuffled. A query that names no valid
/// listing is the whole library.
fn watch_context(query: &str) -> (ListQuery, bool) {
    let q: ListQuery = serde_urlencoded::from_str(query).unwrap_or_default();
    let q = if q.filter().is_ok() {
        ListQuery { page: None, per_page: None, ids: None, ..q }
    } else {
        ListQuery::default()
    };
    let shuffle = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .is_ok_and(|pairs| pairs.iter().any(|(k, v)| k == "shuffle" && v == "1"));
    (q, shuffle)
}

/// The videos before and after `id` in the listing `q` (after: a random
/// other one of it when shuffling).
async fn neighbours(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    catalog: &Arc<Catalog>,
    q: &ListQuery,
    id: VideoId,
    shuffle: bool,
) -> Result<(Option<Arc<Video>>, Option<Arc<Video>>), ApiError> {
    if !q.is_heavy() {
        let within = sight.visible(catalog);
        let mut idx = lists.user_data.orders.order(catalog, &lists.user_data.data, q.sort(), who);
        if let Some(w) = &within {
            idx = lists.user_data.searches.ranks.scoped(&idx, w);
        }
        let (prev, next) = query::neighbours(catalog, &idx, q.order(), id);
        if !shuffle {
            return Ok((prev, next));
        }
        let anything = Filter { within, ..Filter::default() };
        let pick =
            (0..8).find_map(|_| query::random(catalog, &lists.user_data.data, who, &anything).filter(|v| v.id != id));
        return Ok((prev, pick));
    }
    let (_, listing) = crate::http::listing::run(q.clone(), lists, who, sight, catalog.clone(), UP_NEXT_SCAN).await?;
    let list = listing.videos;
    let pos = list.iter().position(|v| v.id == id);
    let prev = pos.and_then(|p| p.checked_sub(1)).and_then(|p| list.get(p)).cloned();
    let next = if shuffle {
        let others: Vec<&Arc<Video>> = list.iter().filter(|v| v.id != id).collect();
        (!others.is_empty()).then(|| others[fastrand::usize(..others.len())].clone())
    } else {
        list.get(pos.map_or(0, |p| p + 1)).cloned()
    };
    Ok((prev, next))
}

#[allow(clippy::too_many_arguments)]
pub async fn watch(
    lists: &Lists,
    people: &People,
    streaming: &super::video::Streaming,
    thumbs: &Thumbs,
    inside: &Arc<Inside>,
    who: &Viewer,
    sight: &Sight,
    visitor: &Visitor,
    key: &VideoKey,
    query: &str,
    tv: bool,
) -> Result<Response<Body>, ApiError> {
    let catalog = lists.library.catalog();
    let video = lookup(&catalog, sight, key)?;
    let (mut list, shuffle) = watch_context(query);
    // A listing of a library goes on within it (a library no longer seen:
    // within everything).
    let mut list_sight = crate::http::listing::narrowed(people, sight, &mut list).unwrap_or_else(|_| {
        list.library = None;
        sight.clone()
    });
    let series = super::series::placed(lists, sight, &catalog, &video);
    // Opened from no listing, a video that is no episode goes on within
    // its own library (a film among films, not home videos).
    if list.is_plain() && !shuffle && series.is_none() {
        if let Some(own) = crate::http::listing::own_library(people, sight, &catalog, &video) {
            list_sight = crate::http::listing::library_sight(&own);
            list.library = Some(own.name);
        }
    }
    let (prev, next) = match &series {
        // An episode opened from no listing goes on in its series' order.
        Some(s) if list.is_plain() && !shuffle => (s.prev.clone(), s.next.clone()),
        _ => {
            // A listing that is gone (a removed playlist) leaves the page without neighbours.
            let (prev, next) =
                neighbours(lists, who, &list_sight, &catalog, &list, video.id, shuffle).await.unwrap_or((None, None));
            let titled = |v: Option<Arc<Video>>| {
                v.map(|v| {
                    let t = crate::http::pages::gallery::link_title(&v, &lists.user_data.data.get(v.id));
                    (v, t)
                })
            };
            (titled(prev), titled(next))
        }
    };
    let base = if list.is_plain() { String::new() } else { list.context() };
    let with = |shuffle: bool| match (base.is_empty(), shuffle) {
        (true, false) => String::new(),
        (true, true) => "?shuffle=1".to_string(),
        (false, false) => format!("?{base}"),
        (false, true) => format!("?{base}&shuffle=1"),
    };
    let up_next = UpNext { context: with(shuffle), shuffle, toggle_shuffle: with(!shuffle) };
    let user = lists.user_data.data.get_for(who, video.id);
    let poster = thumbs.has(video.id);
    let sprite = thumbs.sprite(video.id);
    let tracks = super::subtitles::tracks(inside, &catalog, &video).await?;
    let subtitles = tracks.offered(video.id);
    let inside = tracks.inside;
    let play_url = super::play::play_url(&video);
    let transcodes = streaming.transcodes.available();
    let by_copy = super::play::starts_by_copy(streaming, &video).await;
    let alternative = super::play::alternative(&video);
    let paths = crate::catalog::sight::paths(&video, sight.visible(&catalog).as_deref());
    Ok(html(watch_page(&WatchView {
        paths,
        video,
        prev,
        next,
        user,
        poster,
        sprite,
        subtitles,
        inside,
        up_next,
        series,
        play_url,
        alternative,
        tv,
        transcodes,
        by_copy,
        visitor: visitor.clone(),
    })))
}

/// `GET /folders?in=a/b&page=n`: one folder of the library as it lies on
/// disk. Who: anyone who may watch; only what they may see is counted.
/// How much: one pass over the catalog, on the blocking pool.
pub async fn folders(
    lists: &Lists,
    thumbs: &Thumbs,
    who: &Viewer,
    sight: &Sight,
    visitor: &Visitor,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Asked {
        #[serde(default, rename = "in")]
        at: String,
        page: Option<usize>,
    }
    let asked: Asked = super::parse_query(query)?;
    let at = crate::catalog::folders::parse(&asked.at).map_err(|e| ApiError::BadRequest(e.into()))?;
    let catalog = lists.library.catalog();
    let within = sight.visible(&catalog);
    let (c, looked_for) = (catalog.clone(), at.clone());
    let found = crate::blocking::spawn(move || crate::catalog::folders::folder(&c, within.as_deref(), &looked_for))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let folder = found.ok_or_else(|| ApiError::NotFound("no such folder (or nothing in it you may see)".into()))?;
    let (page, pages) = match super::paging(asked.page, folder.videos.len(), PER_PAGE) {
        Ok(p) => p,
        Err(last) => return Ok(redirect(StatusCode::SEE_OTHER, &crate::http::pages::folders::link(&at, last))),
    };
    let shown: Vec<&Arc<Video>> = folder.videos.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
    let samples = folder.folders.iter().map(|s| s.sample);
    let thumbs_had = shown.iter().map(|v| v.id).chain(samples).filter(|id| thumbs.has(*id)).collect();
    let sprites = shown.iter().filter_map(|v| Some((v.id, thumbs.sprite(v.id)?))).collect();
    let users = lists
        .user_data
        .data
        .view(who, |view| shown.iter().map(|v| view.get(v.id).map(|d| d.into_owned()).unwrap_or_default()).collect());
    let view = FoldersView {
        at,
        folder,
        page,
        pages,
        per_page: PER_PAGE,
        users,
        thumbs: thumbs_had,
        sprites,
        visitor: visitor.clone(),
    };
    Ok(html(folders_page(&view)))
}
