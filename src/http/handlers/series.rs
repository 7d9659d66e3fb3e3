//! Series: the index page and one series' page, and the same as JSON
//! (`/api/v1/series`); films as posters (`/films`). Who: anyone who may watch; only the episodes the
//! person may see are shown, and a series with none is not there. How
//! much: the catalog's series index is built once (one pass over the
//! names, on the blocking pool); a page then reads at most one series'
//! episodes, or one page of the index.

use std::path::PathBuf;
use std::sync::Arc;

use hyper::{Response, StatusCode};
use serde_json::json;

use super::api::VideoJson;
use super::{html, json, redirect, ApiError};
use crate::catalog::series::{Ep, Film, Series, Show};
use crate::catalog::{names, Catalog, Sight, UserData, Video, Viewer, Visible};
use crate::http::body::Body;
use crate::http::listing::Lists;
use crate::http::pages::layout::Visitor;
use crate::http::pages::series::{self as page, FilmTile, FilmsView, SeriesIndexView, SeriesView, Tile};
use crate::http::pages::watch::InSeries;
use crate::media::thumbs::Thumbs;

/// Series a page of the index shows.
const TILES_PER_PAGE: usize = 96;
/// Episodes a page of a series shows (a folder of thousands is one series).
const EPISODES_PER_PAGE: usize = 200;
/// Most series one API page lists.
const MAX_PER_PAGE: usize = 500;
/// Folders of one series looked in for its poster.
const MAX_POSTER_DIRS: usize = 4;
/// Longest key one may ask for, in bytes (names are far shorter).
const MAX_KEY: usize = 512;

/// What these pages and routes take from the query string.
#[derive(serde::Deserialize)]
struct Asked {
    page: Option<usize>,
    per_page: Option<usize>,
    sort: Option<String>,
}

impl Asked {
    /// `per_page`, else `default`; at most `MAX_PER_PAGE`.
    fn per_page(&self, default: usize) -> Result<usize, ApiError> {
        let n = self.per_page.unwrap_or(default);
        if !(1..=MAX_PER_PAGE).contains(&n) {
            return Err(ApiError::BadRequest(format!("per_page must be from 1 to {MAX_PER_PAGE}")));
        }
        Ok(n)
    }
}

/// The current catalog, its series index (built on the blocking pool when
/// it is not yet), and what of it `sight` may see.
async fn opened(lists: &Lists, sight: &Sight) -> Result<(Arc<Catalog>, Arc<Series>, Option<Arc<Visible>>), ApiError> {
    let catalog = lists.library.catalog();
    let series = match catalog.series_ready() {
        Some(s) => s,
        None => {
            let c = catalog.clone();
            crate::blocking::spawn(move || c.series()).await.map_err(|e| ApiError::Internal(e.into()))?
        }
    };
    let within = sight.visible(&catalog);
    Ok((catalog, series, within))
}

/// The series index when it is built; else `None`, and its building is
/// started in the background (so a later page has it). A page never waits.
fn ready(catalog: &Arc<Catalog>) -> Option<Arc<Series>> {
    let ready = catalog.series_ready();
    if ready.is_none() && catalog.claim_series_build() {
        let c = catalog.clone();
        drop(crate::blocking::spawn(move || c.series()));
    }
    ready
}

/// The years a gallery offers to filter by: none until the series index
/// is built.
pub fn years(catalog: &Arc<Catalog>, sight: &Sight) -> Arc<[u16]> {
    ready(catalog).map_or_else(|| Arc::from([]), |s| s.year_list(sight.visible(catalog).as_ref()))
}

/// Where `video` sits in its series, for its watch page: the series, the
/// episode's label and own title, and the episodes before and after it
/// that the person may see. `None` when it is no episode (or the index
/// is not built yet).
pub fn placed(lists: &Lists, sight: &Sight, catalog: &Arc<Catalog>, video: &Video) -> Option<InSeries> {
    if video.pos == u32::MAX {
        return None;
    }
    let series = ready(catalog)?;
    let show = series.show_at(video.pos)?;
    let within = sight.visible(catalog);
    let shown: Vec<&Ep> = show.visible(within.as_deref()).collect();
    let i = shown.iter().position(|e| e.pos == video.pos)?;
    let videos = catalog.videos();
    // A neighbour as its link names it: the person's title, else the
    // episode's label and own title, else the file's.
    let named = |e: &Ep| {
        let v = videos.get(e.pos as usize)?.clone();
        let t = match (lists.user_data.data.get(v.id).title, &e.title) {
            (Some(t), _) => t,
            (None, Some(own)) => format!("{} · {own}", e.label()),
            (None, None) => v.title().into_owned(),
        };
        Some((v, t))
    };
    let e = shown[i];
    Some(InSeries {
        key: show.key.clone(),
        name: show.display(),
        label: e.label(),
        title: e.title.as_deref().map(str::to_string),
        prev: i.checked_sub(1).and_then(|p| named(shown[p])),
        next: shown.get(i + 1).and_then(|n| named(n)),
    })
}

/// A series' key as the path gives it (percent-encoded).
fn key_of(raw: &str) -> Result<String, ApiError> {
    if raw.len() > MAX_KEY {
        return Err(ApiError::NotFound("no such series".into()));
    }
    let key = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::BadRequest("a series key is UTF-8 text".into()))?;
    Ok(key.into_owned())
}

/// The series `key`, with the episodes `within` lets through (404 when
/// there is no such series or none of it may be seen).
fn find<'a>(series: &'a Series, key: &str, within: Option<&'a Visible>) -> Result<(&'a Show, Vec<&'a Ep>), ApiError> {
    let show = series.show(key).ok_or_else(|| ApiError::NotFound("no such series".into()))?;
    let shown: Vec<&Ep> = show.visible(within).collect();
    if shown.is_empty() {
        return Err(ApiError::NotFound("no such series".into()));
    }
    Ok((show, shown))
}

/// `shown` with what `who` made of each, and the place of the next one.
pub(super) fn with_user_data<'a>(
    lists: &Lists,
    who: &Viewer,
    catalog: &Catalog,
    shown: &[&'a Ep],
) -> (Vec<(&'a Ep, UserData)>, Option<usize>) {
    let videos = catalog.videos();
    let data: Vec<(&Ep, UserData)> = lists.user_data.data.view(who, |view| {
        shown
            .iter()
            .map(|e| {
                (
                    *e,
                    videos.get(e.pos as usize).and_then(|v| view.get(v.id)).map(|d| d.into_owned()).unwrap_or_default(),
                )
            })
            .collect()
    });
    let next = Show::next(&data, who);
    (data, next)
}

/// Series this person is in the middle of, the latest first: for each,
/// the episode to watch next when it is a new one (a begun one is in
/// *Continue watching*). Only when the series index is built (a gallery
/// never waits for it); one pass over the person's own data, then at most
/// `NEXT_UP` series' episodes.
pub fn next_up(lists: &Lists, who: &Viewer, sight: &Sight, catalog: &Catalog) -> Vec<(Arc<Video>, UserData)> {
    const NEXT_UP: usize = 8;
    let Some(series) = catalog.series_ready() else { return Vec::new() };
    let within = sight.visible(catalog);
    let sees = sight.seer(catalog);
    let mut recent: Vec<(i64, &Show)> = lists.user_data.data.view(who, |view| {
        let mut out = Vec::new();
        view.for_each(|id, d| {
            let touched = d.position_ms.is_some() || !d.unwatched_by(who);
            let Some(v) = catalog.get(id).filter(|v| touched && v.pos != u32::MAX && sees(v)) else { return };
            if let Some(show) = series.show_at(v.pos) {
                out.push((d.position_at.max(d.last_viewed).unwrap_or(0), show));
            }
        });
        out
    });
    recent.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    let videos = catalog.videos();
    for (_, show) in recent {
        if seen.contains(&show.key.as_str()) {
            continue;
        }
        seen.push(&show.key);
        let shown: Vec<&Ep> = show.visible(within.as_deref()).collect();
        let (data, next) = with_user_data(lists, who, catalog, &shown);
        if let Some((e, d)) = next.map(|i| &data[i]).filter(|(_, d)| d.position_ms.is_none()) {
            if let Some(v) = videos.get(e.pos as usize) {
                out.push((v.clone(), d.clone()));
            }
        }
        if out.len() == NEXT_UP || seen.len() == 4 * NEXT_UP {
            break;
        }
    }
    out
}

/// A series' poster tile, as much of it as `within` lets be seen.
fn tile(s: &Show, within: Option<&Visible>, catalog: &Catalog, thumbs: &Thumbs) -> Tile {
    let videos = catalog.videos();
    let shown: Vec<&Ep> = s.visible(within).collect();
    let pictured =
        !s.dirs(within).is_empty() || shown.iter().filter_map(|e| videos.get(e.pos as usize)).any(|v| thumbs.has(v.id));
    let mut seasons: Vec<u16> = shown.iter().map(|e| e.season).filter(|&n| n > 0).collect();
    seasons.dedup();
    Tile { key: s.key.clone(), name: s.display(), episodes: shown.len(), seasons: seasons.len(), pictured }
}

/// The series whose names hold every word of a search (a few, for the
/// top of its results); none while the series index is still being built.
pub fn matching(lists: &Lists, thumbs: &Thumbs, sight: &Sight, q: &str) -> Vec<Tile> {
    const MOST: usize = 6;
    let words = crate::catalog::fold::words(q);
    let catalog = lists.library.catalog();
    let Some(series) = ready(&catalog).filter(|_| !words.is_empty()) else { return Vec::new() };
    let within = sight.visible(&catalog);
    let named = |s: &&Show| {
        let name = crate::catalog::fold::fold(&s.display());
        words.iter().all(|w| name.contains(w.as_str()))
    };
    series
        .visible(within.as_deref())
        .filter(named)
        .take(MOST)
        .map(|s| tile(s, within.as_deref(), &catalog, thumbs))
        .collect()
}

/// `GET /series?page=n`.
pub async fn index(
    lists: &Lists,
    thumbs: &Thumbs,
    sight: &Sight,
    visitor: &Visitor,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let asked: Asked = super::parse_query(query)?;
    let (catalog, series, within) = opened(lists, sight).await?;
    let visible: Vec<&Show> = series.visible(within.as_deref()).collect();
    let (page, pages) = match super::paging(asked.page, visible.len(), TILES_PER_PAGE) {
        Ok(p) => p,
        Err(last) => return Ok(redirect(StatusCode::SEE_OTHER, &format!("/series?page={last}"))),
    };
    let tiles = visible
        .iter()
        .skip((page - 1) * TILES_PER_PAGE)
        .take(TILES_PER_PAGE)
        .map(|s| tile(s, within.as_deref(), &catalog, thumbs))
        .collect();
    let view = SeriesIndexView { tiles, total: visible.len(), page, pages, visitor: visitor.clone() };
    Ok(html(page::index(&view)))
}

/// `GET /films?sort=title|year&page=n`: the films, as posters.
pub async fn films(
    lists: &Lists,
    thumbs: &Thumbs,
    who: &Viewer,
    sight: &Sight,
    visitor: &Visitor,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let asked: Asked = super::parse_query(query)?;
    let by_year = match asked.sort.as_deref() {
        None | Some("title") => false,
        Some("year") => true,
        Some(_) => return Err(ApiError::BadRequest("sort must be title or year".into())),
    };
    let (catalog, series, within) = opened(lists, sight).await?;
    let mut visible: Vec<&Film> =
        series.films.iter().filter(|f| within.as_deref().is_none_or(|w| w.has(f.pos))).collect();
    if by_year {
        // Stable: titles stay in order within a year.
        visible.sort_by_key(|f| std::cmp::Reverse(f.year));
    }
    let (page, pages) = match super::paging(asked.page, visible.len(), TILES_PER_PAGE) {
        Ok(p) => p,
        Err(last) => {
            let to = if by_year { format!("/films?sort=year&page={last}") } else { format!("/films?page={last}") };
            return Ok(redirect(StatusCode::SEE_OTHER, &to));
        }
    };
    let videos = catalog.videos();
    let shown: Vec<(&Film, &Arc<crate::catalog::Video>)> = visible
        .iter()
        .skip((page - 1) * TILES_PER_PAGE)
        .take(TILES_PER_PAGE)
        .filter_map(|f| Some((*f, videos.get(f.pos as usize)?)))
        .collect();
    let users: Vec<UserData> = lists.user_data.data.view(who, |view| {
        shown.iter().map(|(_, v)| view.get(v.id).map(|d| d.into_owned()).unwrap_or_default()).collect()
    });
    let tiles = shown
        .into_iter()
        .zip(users)
        .map(|((f, v), user)| FilmTile {
            video: v.clone(),
            title: f.title.to_string(),
            year: f.year,
            thumb: thumbs.has(v.id),
            user,
        })
        .collect();
    let view = FilmsView { tiles, total: visible.len(), page, pages, by_year, visitor: visitor.clone() };
    Ok(html(page::films(&view)))
}

/// `GET /series/{key}`.
pub async fn show(
    lists: &Lists,
    thumbs: &Thumbs,
    who: &Viewer,
    sight: &Sight,
    visitor: &Visitor,
    raw_key: &str,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let asked: Asked = super::parse_query(query)?;
    let key = key_of(raw_key)?;
    let (catalog, series, within) = opened(lists, sight).await?;
    let (show, shown) = find(&series, &key, within.as_deref())?;
    let (data, next) = with_user_data(lists, who, &catalog, &shown);
    let videos = catalog.videos();
    let next = next.and_then(|i| {
        let (e, d) = &data[i];
        Some((videos.get(e.pos as usize)?.clone(), e.label(), d.position_ms.is_some()))
    });
    let (page, pages) = match super::paging(asked.page, data.len(), EPISODES_PER_PAGE) {
        Ok(p) => p,
        Err(last) => return Ok(redirect(StatusCode::SEE_OTHER, &format!("{}?page={last}", page::link(&show.key)))),
    };
    let mut seasons: Vec<page::Season> = Vec::new();
    for (e, d) in data.into_iter().skip((page - 1) * EPISODES_PER_PAGE).take(EPISODES_PER_PAGE) {
        let Some(v) = videos.get(e.pos as usize) else { continue };
        if seasons.last().is_none_or(|s| s.number != e.season) {
            seasons.push(page::Season { number: e.season, poster: false, episodes: Vec::new() });
        }
        if let Some(season) = seasons.last_mut() {
            // Its own title, else its number (its series' name is the page's).
            let name = match (&e.title, e.episode) {
                (Some(t), _) => Some(t.to_string()),
                (None, 0) => Some(v.title().into_owned()),
                (None, n) => Some(format!("Episode {n}")),
            };
            season.episodes.push((v.clone(), name, d));
        }
    }
    // Which of this page's seasons have a picture in their folder (a few
    // files opened, on the blocking pool).
    let asked: Vec<(u16, Vec<(usize, PathBuf)>)> =
        seasons.iter().map(|s| (s.number, season_dirs(&catalog, &shown, s.number))).collect();
    let c = catalog.clone();
    let pictured: Vec<u16> = crate::blocking::spawn(move || {
        asked
            .into_iter()
            .filter(|(_, dirs)| dirs.iter().any(|(root, dir)| Thumbs::has_folder_poster(c.sources(), *root, dir)))
            .map(|(n, _)| n)
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    for s in &mut seasons {
        s.poster = pictured.contains(&s.number);
    }
    let all = seasons.iter().flat_map(|s| s.episodes.iter().map(|(v, _, _)| v.id));
    let thumbs_had = all.clone().filter(|id| thumbs.has(*id)).collect();
    let sprites = all.filter_map(|id| Some((id, thumbs.sprite(id)?))).collect();
    let view = SeriesView {
        key: show.key.clone(),
        name: show.display(),
        count: shown.len(),
        seasons,
        next,
        page,
        pages,
        thumbs: thumbs_had,
        sprites,
        visitor: visitor.clone(),
    };
    Ok(html(page::show(&view)))
}

/// `GET /series/{key}/poster.jpg`: the series' folder's picture
/// (`poster.jpg`, `folder.jpg`, `cover.jpg`) cropped to 2:3, made once on
/// the blocking pool; else the thumbnail of its first episode that has
/// one (the page crops it).
pub async fn poster(
    lists: &Lists,
    thumbs: &Arc<Thumbs>,
    sight: &Sight,
    raw_key: &str,
    headers: &hyper::HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let key = key_of(raw_key)?;
    let (catalog, series, within) = opened(lists, sight).await?;
    let (show, shown) = find(&series, &key, within.as_deref())?;
    // Only folders of episodes the person may see (at most a few).
    let dirs = show.dirs(within.as_deref()).into_iter().take(MAX_POSTER_DIRS).map(|(r, d)| (*r, PathBuf::from(d)));
    if let Some(path) = first_folder_poster(thumbs, &catalog, dirs.collect()).await? {
        return super::images::image_file(path, headers).await;
    }
    let videos = catalog.videos();
    let id = shown
        .iter()
        .filter_map(|e| videos.get(e.pos as usize))
        .map(|v| v.id)
        .find(|id| thumbs.has(*id))
        .ok_or_else(|| ApiError::NotFound("no picture for this series yet".into()))?;
    super::images::poster(thumbs, id, headers).await
}

/// The folders of season `season` of `shown` (each once, at most
/// `MAX_POSTER_DIRS`): where its episodes lie when that folder is named
/// for the season (`Season 1`, `Specials`).
fn season_dirs(catalog: &Catalog, shown: &[&Ep], season: u16) -> Vec<(usize, PathBuf)> {
    let videos = catalog.videos();
    let mut out: Vec<(usize, PathBuf)> = Vec::new();
    for e in shown.iter().filter(|e| e.season == season) {
        let Some(file) = videos.get(e.pos as usize).map(|v| v.primary()) else { continue };
        let Some(dir) = file.rel_path().parent() else { continue };
        let named = dir.file_name().and_then(|n| n.to_str()).and_then(names::season_of_folder) == Some(season);
        if named && !out.iter().any(|(r, d)| *r == file.root && d == dir) {
            out.push((file.root, dir.to_path_buf()));
            if out.len() == MAX_POSTER_DIRS {
                break;
            }
        }
    }
    out
}

/// `GET /series/{key}/season/{n}/poster.jpg`: the picture in a season's
/// folder (`poster.jpg`, `folder.jpg`, `cover.jpg`) cropped to 2:3. Who:
/// anyone who may see an episode of that season. How much: at most
/// `MAX_POSTER_DIRS` folders looked in, one poster made at a time.
pub async fn season_poster(
    lists: &Lists,
    thumbs: &Arc<Thumbs>,
    sight: &Sight,
    raw_key: &str,
    season: u64,
    headers: &hyper::HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let key = key_of(raw_key)?;
    let season = u16::try_from(season).map_err(|_| ApiError::NotFound("no such season".into()))?;
    let (catalog, series, within) = opened(lists, sight).await?;
    let (_, shown) = find(&series, &key, within.as_deref())?;
    match first_folder_poster(thumbs, &catalog, season_dirs(&catalog, &shown, season)).await? {
        Some(path) => super::images::image_file(path, headers).await,
        None => Err(ApiError::NotFound("no picture for this season".into())),
    }
}

/// The poster made of the first of `dirs` (root, folder) whose picture
/// makes one, on the blocking pool; a broken picture is passed over for
/// the next folder's.
async fn first_folder_poster(
    thumbs: &Arc<Thumbs>,
    catalog: &Arc<Catalog>,
    dirs: Vec<(usize, PathBuf)>,
) -> Result<Option<PathBuf>, ApiError> {
    for (root, dir) in dirs {
        let (t, c) = (thumbs.clone(), catalog.clone());
        let made = crate::blocking::spawn(move || t.folder_poster(c.sources(), root, &dir))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        match made {
            Ok(Some(path)) => return Ok(Some(path)),
            Ok(None) => {}
            Err(e) => tracing::debug!("a folder's poster could not be made: {e}"),
        }
    }
    Ok(None)
}

/// `GET /api/v1/series?page=&per_page=`: the series, by name.
pub async fn api_list(lists: &Lists, sight: &Sight, query: &str) -> Result<Response<Body>, ApiError> {
    let asked: Asked = super::parse_query(query)?;
    let per_page = asked.per_page(100)?;
    let (_, series, within) = opened(lists, sight).await?;
    let visible: Vec<&Show> = series.visible(within.as_deref()).collect();
    let page = asked.page.unwrap_or(1).max(1);
    let listed: Vec<serde_json::Value> = visible
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|s| {
            let shown: Vec<&Ep> = s.visible(within.as_deref()).collect();
            let mut seasons: Vec<u16> = shown.iter().map(|e| e.season).collect();
            seasons.dedup();
            json!({
                "key": s.key,
                "name": s.name,
                "year": s.year,
                "title": s.display(),
                "episodes": shown.len(),
                "seasons": seasons,
                "url": page::link(&s.key),
            })
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({ "series": listed, "total": visible.len(), "page": page, "per_page": per_page })))
}

/// `GET /api/v1/series/{key}`: one series, season by season, and the
/// episode the asking person would watch next.
pub async fn api_one(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    raw_key: &str,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    let asked: Asked = super::parse_query(query)?;
    let per_page = asked.per_page(MAX_PER_PAGE)?;
    let page = asked.page.unwrap_or(1).max(1);
    let key = key_of(raw_key)?;
    let (catalog, series, within) = opened(lists, sight).await?;
    let (show, shown) = find(&series, &key, within.as_deref())?;
    let (data, next) = with_user_data(lists, who, &catalog, &shown);
    let videos = catalog.videos();
    let mut seasons: Vec<(u16, Vec<serde_json::Value>)> = Vec::new();
    let mut next_json = serde_json::Value::Null;
    if let Some((e, d)) = next.map(|i| &data[i]) {
        if let Some(v) = videos.get(e.pos as usize) {
            next_json = serde_json::to_value(VideoJson::new(v, d, within.as_deref()))
                .map_err(|e| ApiError::Internal(e.into()))?;
        }
    }
    let total = data.len();
    for (e, d) in data.iter().skip((page - 1).saturating_mul(per_page)).take(per_page) {
        let Some(v) = videos.get(e.pos as usize) else { continue };
        let video =
            serde_json::to_value(VideoJson::new(v, d, within.as_deref())).map_err(|e| ApiError::Internal(e.into()))?;
        let item = json!({ "season": e.season, "episode": e.episode, "last_episode": e.last, "label": e.label(), "title": e.title, "video": video });
        match seasons.last_mut() {
            Some((n, items)) if *n == e.season => items.push(item),
            _ => seasons.push((e.season, vec![item])),
        }
    }
    let seasons: Vec<serde_json::Value> =
        seasons.into_iter().map(|(n, episodes)| json!({ "season": n, "episodes": episodes })).collect();
    Ok(json(
        StatusCode::OK,
        &json!({
            "key": show.key, "name": show.name, "year": show.year, "title": show.display(), "seasons": seasons,
            "next": next_json, "episodes": total, "page": page, "per_page": per_page,
        }),
    ))
}
