//! The query every listing shares (gallery, favorites, API, M3U, random,
//! the watch page's next video): sort, direction, filters, search, ids,
//! a playlist and paging, parsed from the URL into typed values
//! (`ListQuery`), and the engine that answers it from memory (`list`).
//! Pure: no I/O, no waiting; the caller decides where it runs.

use std::sync::Arc;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Deserializer};

use super::query::{self, Filter, LiveOrders, Watch, Year};
use super::search::{self, SearchCache};
use super::user::UserCache;
use super::{Catalog, Order, Sight, Sort, Video, Viewer};
use crate::library::ids::VideoId;

/// Characters escaped in a query value (everything but unreserved ones).
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Why a listing cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query asks for something out of bounds (a client's mistake).
    #[error("{0}")]
    Bad(String),
    #[error("no such playlist")]
    NoPlaylist,
    #[error("a search without bounds gave no answer")]
    Unanswered,
}

/// What a listing reads: the catalog, user data as one person sees it, the
/// derived orders and searches, and the playlist the query names (looked
/// up by the caller, who knows whose playlists there are).
pub struct Inputs<'a> {
    pub catalog: &'a Catalog,
    pub users: &'a UserCache,
    pub orders: &'a LiveOrders,
    pub searches: &'a SearchCache,
    pub who: &'a Viewer,
    /// What the asking person may see of the library.
    pub sight: &'a Sight,
    pub playlist: Option<&'a [VideoId]>,
}

impl Inputs<'_> {
    /// `query`'s filter, with what the asking person may see.
    fn filter(&self, query: &ListQuery) -> Result<Filter, QueryError> {
        let year = query.year.map(|year| Year { year, years: self.catalog.series().years() });
        Ok(Filter { within: self.sight.visible(self.catalog), year, ..query.filter()? })
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ListQuery {
    /// As asked; `sort()` is the one used.
    pub sort: Option<Sort>,
    pub order: Option<Order>,
    #[serde(default, deserialize_with = "number")]
    pub page: Option<usize>,
    #[serde(default, deserialize_with = "number")]
    pub per_page: Option<usize>,
    #[serde(default, deserialize_with = "flag")]
    pub favorites: bool,
    #[serde(default, deserialize_with = "number")]
    pub min_rating: Option<u8>,
    /// Comma-separated tags a video must all carry.
    pub tag: Option<String>,
    /// Only videos the asking person has not watched (as `show=unwatched`).
    #[serde(default, deserialize_with = "flag")]
    pub unwatched: bool,
    /// `unwatched`, `in_progress` or `watched`: where the asking person is
    /// with them (`all`: any).
    pub show: Option<String>,
    /// Only videos at least (at most) this many minutes long.
    #[serde(default, deserialize_with = "number")]
    pub min_minutes: Option<f64>,
    #[serde(default, deserialize_with = "number")]
    pub max_minutes: Option<f64>,
    /// Only videos of this year (a film's, a series', a date's in the name).
    #[serde(default, deserialize_with = "number")]
    pub year: Option<u16>,
    /// Search words (titles, paths, tags).
    pub q: Option<String>,
    /// Comma-separated video ids: just these, in this order (a page
    /// refreshing the cards it shows); sort, filters and search are ignored.
    pub ids: Option<String>,
    /// One of the asking person's playlists, in its order (sort, filters
    /// and search are ignored).
    #[serde(default, deserialize_with = "number")]
    pub playlist: Option<u64>,
    /// Only the videos of this library (`Films`), which the asking person
    /// may see (the handlers narrow the sight to it: `http::libraries`).
    pub library: Option<String>,
}

/// Most videos `ids` may name.
pub const MAX_IDS: usize = 100;

/// A number, or none when left empty (`year=`: a form's blank box).
fn number<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<T>, D::Error>
where
    T::Err: std::fmt::Display,
{
    let s = String::deserialize(d)?;
    match s.trim() {
        "" => Ok(None),
        s => s.parse().map(Some).map_err(|_| {
            let shown: String = s.chars().take(20).collect();
            serde::de::Error::custom(format_args!("“{shown}” is not a number that can be used here"))
        }),
    }
}

/// `1`, `true`, `on`, `yes` (any case) are true; anything else false.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let s = String::deserialize(d)?;
    Ok(matches!(s.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes"))
}

/// Most tags a listing may be filtered by.
pub const MAX_FILTER_TAGS: usize = 20;
/// Longest search text.
pub const MAX_QUERY_CHARS: usize = 500;
/// Largest length filter, in minutes (a week).
pub const MAX_MINUTES: f64 = 7.0 * 24.0 * 60.0;
/// The years one may filter by.
pub const MIN_YEAR: u16 = 1800;
pub const MAX_YEAR: u16 = 2200;

pub struct Listing {
    pub videos: Vec<Arc<Video>>,
    pub total: usize,
    /// 1-based, clamped to the pages there are.
    pub page: usize,
    pub pages: usize,
}

impl ListQuery {
    /// Whether the listing is a search.
    pub fn searching(&self) -> bool {
        self.q.as_deref().is_some_and(|q| !q.trim().is_empty())
    }

    /// The sort used: as asked, else best matches first while searching
    /// and newest first otherwise (best match means nothing without words).
    pub fn sort(&self) -> Sort {
        match (self.sort, self.searching()) {
            (Some(Sort::Relevance), false) | (None, false) => Sort::Added,
            (Some(s), _) => s,
            (None, true) => Sort::Relevance,
        }
    }

    pub fn order(&self) -> Order {
        self.order.unwrap_or(self.sort().default_order())
    }

    /// Where the asking person is with the videos asked for (`show=`, or
    /// `unwatched=1`).
    pub fn watch(&self) -> Result<Option<Watch>, QueryError> {
        let shown = match self.show.as_deref() {
            None => None,
            Some(s) => Watch::parse(s.trim()).map_err(|why| QueryError::Bad(why.into()))?,
        };
        Ok(shown.or(self.unwatched.then_some(Watch::Unwatched)))
    }

    pub fn filter(&self) -> Result<Filter, QueryError> {
        if self.min_rating.is_some_and(|r| !(1..=5).contains(&r)) {
            return Err(QueryError::Bad("min_rating must be from 1 to 5".into()));
        }
        let tags = self.tags();
        if tags.len() > MAX_FILTER_TAGS {
            return Err(QueryError::Bad(format!("at most {MAX_FILTER_TAGS} tags in a filter")));
        }
        if self.q.as_deref().is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(QueryError::Bad(format!("a search is at most {MAX_QUERY_CHARS} characters")));
        }
        if self.year.is_some_and(|y| !(MIN_YEAR..=MAX_YEAR).contains(&y)) {
            return Err(QueryError::Bad(format!("year must be from {MIN_YEAR} to {MAX_YEAR}")));
        }
        let ms = |minutes: Option<f64>, name: &str| match minutes {
            None => Ok(None),
            Some(m) if m.is_finite() && (0.0..=MAX_MINUTES).contains(&m) => Ok(Some((m * 60_000.0) as u64)),
            Some(_) => Err(QueryError::Bad(format!("{name} must be from 0 to {MAX_MINUTES}"))),
        };
        Ok(Filter {
            favorites: self.favorites,
            min_rating: self.min_rating,
            tags,
            watch: self.watch()?,
            min_ms: ms(self.min_minutes, "min_minutes")?,
            max_ms: ms(self.max_minutes, "max_minutes")?,
            // Set by `Inputs::filter`, which has the catalog's years.
            year: None,
            within: None,
        })
    }

    /// The tags of the `tag` parameter, without `#`, empty ones dropped.
    pub fn tags(&self) -> Vec<String> {
        let list = self.tag.as_deref().unwrap_or("");
        list.split(',').map(|t| t.trim().trim_start_matches('#').trim().to_string()).filter(|t| !t.is_empty()).collect()
    }

    /// The query string of this listing at another page (for links).
    pub fn with_page(&self, page: usize) -> String {
        format!("{}&page={page}", self.context())
    }

    /// The query string naming this listing (sort, order, filters, search;
    /// no page): watch pages keep it to continue with the listing's next video.
    pub fn context(&self) -> String {
        if let Some(n) = self.playlist {
            return format!("playlist={n}");
        }
        let order = match self.order() {
            Order::Asc => "asc",
            Order::Desc => "desc",
        };
        let mut s = format!("sort={}&order={order}", self.sort().name());
        if self.favorites {
            s.push_str("&favorites=1");
        }
        if let Some(r) = self.min_rating {
            s.push_str(&format!("&min_rating={r}"));
        }
        if let Ok(Some(w)) = self.watch() {
            s.push_str("&show=");
            s.push_str(w.name());
        }
        if let Some(m) = self.min_minutes {
            s.push_str(&format!("&min_minutes={m}"));
        }
        if let Some(m) = self.max_minutes {
            s.push_str(&format!("&max_minutes={m}"));
        }
        if let Some(y) = self.year {
            s.push_str(&format!("&year={y}"));
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.trim().is_empty()) {
            s.push_str(&format!("&q={}", percent_encoding::utf8_percent_encode(q, QUERY_VALUE)));
        }
        let tags = self.tags();
        if !tags.is_empty() {
            let joined = tags.join(",");
            s.push_str(&format!("&tag={}", percent_encoding::utf8_percent_encode(&joined, QUERY_VALUE)));
        }
        if let Some(l) = self.library() {
            s.push_str(&format!("&library={}", percent_encoding::utf8_percent_encode(l, QUERY_VALUE)));
        }
        s
    }

    /// The library asked for, if any (an empty `library=` asks for none).
    pub fn library(&self) -> Option<&str> {
        self.library.as_deref().map(str::trim).filter(|l| !l.is_empty())
    }

    /// Whether this lists the whole library (any order): no filter, no
    /// search.
    pub fn is_plain_listing(&self) -> Result<bool, QueryError> {
        Ok(self.filter()?.is_empty() && self.year.is_none() && !self.searching())
    }

    /// Whether this is the whole library in the default order (links need
    /// not carry it).
    pub fn is_plain(&self) -> bool {
        !self.is_heavy() && self.sort() == Sort::Added && self.order() == Sort::Added.default_order()
    }

    /// Whether listing needs more than a slice of a precomputed order (a
    /// filter, a search, or a library's first order): then it runs on the
    /// blocking pool (`run`).
    pub fn is_heavy(&self) -> bool {
        self.playlist.is_some()
            || self.library().is_some()
            || self.favorites
            || self.min_rating.is_some()
            || !matches!(self.watch(), Ok(None))
            || self.min_minutes.is_some()
            || self.max_minutes.is_some()
            || self.year.is_some()
            || !self.tags().is_empty()
            || self.q.as_deref().is_some_and(|q| !q.trim().is_empty())
    }

    /// A video picked uniformly among those this listing holds (its
    /// filters, its search, its playlist or ids), or `None` when it holds none.
    pub fn random(&self, inputs: &Inputs) -> Result<Option<Arc<Video>>, QueryError> {
        if !self.searching() && self.playlist.is_none() && self.ids.is_none() {
            let filter = inputs.filter(self)?;
            return Ok(query::random(inputs.catalog, inputs.users, inputs.who, &filter));
        }
        let total = ListQuery { page: Some(1), ..self.clone() }.list(inputs, 1)?.total;
        if total == 0 {
            return Ok(None);
        }
        let pick = ListQuery { page: Some(fastrand::usize(..total) + 1), ..self.clone() }.list(inputs, 1)?;
        Ok(pick.videos.into_iter().next())
    }

    /// Whether this asks only what its shelf adds (favorites, a rating of
    /// four or more): no other filter, year or search.
    pub fn is_shelf_only(&self) -> bool {
        ListQuery { favorites: false, min_rating: self.min_rating.filter(|r| *r > 4), ..self.clone() }
            .is_plain_listing()
            .unwrap_or(false)
    }

    /// Whether this is a search and nothing else (no filter, playlist or ids).
    pub fn is_search_only(&self) -> bool {
        self.ids.is_none()
            && self.playlist.is_none()
            && !self.favorites
            && self.min_rating.is_none()
            && matches!(self.watch(), Ok(None))
            && self.min_minutes.is_none()
            && self.max_minutes.is_none()
            && self.year.is_none()
            && self.tags().is_empty()
            && self.q.as_deref().is_some_and(|q| !q.trim().is_empty())
    }

    /// The requested page of the listing, `per_page` videos a page.
    pub fn list(&self, inputs: &Inputs, per_page: usize) -> Result<Listing, QueryError> {
        self.list_within(inputs, per_page, None)?.ok_or(QueryError::Unanswered)
    }

    /// `list`, or `None` when its search exceeds `quick` (`search::search`).
    pub fn list_within(
        &self,
        inputs: &Inputs,
        per_page: usize,
        quick: Option<search::Quick>,
    ) -> Result<Option<Listing>, QueryError> {
        let Inputs { catalog, users, orders, searches, who, sight, .. } = *inputs;
        let sees = sight.seer(catalog);
        let seen = |v: &&Arc<Video>| sees(v);
        if let Some(ids) = &self.ids {
            let mut videos = Vec::new();
            for raw in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if videos.len() == MAX_IDS {
                    return Err(QueryError::Bad(format!("at most {MAX_IDS} ids")));
                }
                let id = raw.parse().map_err(|_| QueryError::Bad(format!("not a video id: {raw:?}")))?;
                videos.extend(catalog.get(id).filter(seen).cloned());
            }
            return Ok(Some(Listing { total: videos.len(), videos, page: 1, pages: 1 }));
        }
        if self.playlist.is_some() {
            let items = inputs.playlist.ok_or(QueryError::NoPlaylist)?;
            // A playlist keeps a video its owner may no longer see, unshown.
            let videos: Vec<Arc<Video>> =
                items.iter().filter_map(|id| catalog.get(*id).filter(seen).cloned()).collect();
            let total = videos.len();
            let pages = total.div_ceil(per_page).max(1);
            let page = self.page.unwrap_or(1).clamp(1, pages);
            let videos = videos.into_iter().skip((page - 1) * per_page).take(per_page).collect();
            return Ok(Some(Listing { videos, total, page, pages }));
        }
        let filter = inputs.filter(self)?;
        let idx = match quick {
            // A quick search builds no order.
            Some(_) => match orders.ready(catalog, users, self.sort(), who) {
                Some(idx) => idx,
                None => return Ok(None),
            },
            None => orders.order(catalog, users, self.sort(), who),
        };
        let wanted = self.page.unwrap_or(1).max(1);
        let offset = (wanted - 1).saturating_mul(per_page);
        let words = super::fold::words(self.q.as_deref().unwrap_or(""));
        let ranks = &searches.ranks;
        let src = query::Source { catalog, users, who, idx: &idx, order: self.order(), ranks };
        let fetch = |offset| {
            if words.is_empty() {
                Some(query::page(&src, &filter, offset, per_page))
            } else {
                search::search(searches, &src, self.sort(), &filter, &words, offset, per_page, quick)
            }
        };
        let Some((mut videos, total)) = fetch(offset) else { return Ok(None) };
        let pages = total.div_ceil(per_page).max(1);
        let page = wanted.min(pages);
        if page != wanted {
            // Past the end: show the last page instead (the search is cached by now).
            let Some((last, _)) = fetch((page - 1) * per_page) else { return Ok(None) };
            videos = last;
        }
        Ok(Some(Listing { videos, total, page, pages }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forms_blank_boxes_ask_for_nothing() {
        let q: ListQuery =
            serde_urlencoded::from_str("sort=title&order=desc&show=all&year=&min_minutes=+&page=").unwrap();
        assert_eq!((q.year, q.min_minutes, q.page), (None, None, None));
        assert_eq!(q.sort(), Sort::Title);
        let q: ListQuery = serde_urlencoded::from_str("year=1987&page=2&min_minutes=1.5&library=Films").unwrap();
        assert_eq!((q.year, q.page, q.min_minutes, q.library()), (Some(1987), Some(2), Some(1.5), Some("Films")));
        assert!(q.context().ends_with("&year=1987&library=Films"), "{}", q.context());
        // Not a number: still refused.
        assert!(serde_urlencoded::from_str::<ListQuery>("year=soon").is_err());
        assert!(serde_urlencoded::from_str::<ListQuery>("page=-1").is_err());
        assert_eq!(serde_urlencoded::from_str::<ListQuery>("library=+").unwrap().library(), None);
    }
}
