//! Listing the library: an order (precomputed by the catalog for file
//! facts, derived here from user data for rating and views), filters, and
//! paging; plus neighbours and random picks over the same view.
//!
//! Orders by user data are rebuilt when the catalog changed, or when user
//! data changed and the order is older than `LIVE_REBUILD`: under a stream
//! of writes the order may lag by that much, while the values shown are
//! always current.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::personal::Viewer;
use super::user::{UserCache, UserData};
use super::{Catalog, Order, Sort, Video, Visible};
use crate::library::ids::VideoId;

pub const LIVE_REBUILD: Duration = Duration::from_millis(500);

/// Which videos a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub favorites: bool,
    pub min_rating: Option<u8>,
    /// Every one of these tags (compared case-insensitively).
    pub tags: Vec<String>,
    /// Only videos the asking person has not watched, has begun, or has
    /// watched.
    pub watch: Option<Watch>,
    /// Only videos at least (at most) this long, in milliseconds.
    pub min_ms: Option<u64>,
    pub max_ms: Option<u64>,
    /// Only videos of this year (`series::Series::years`: a film's, a series', a date's
    /// in the name).
    pub year: Option<Year>,
    /// Only the videos the asking person may see (`None`: all).
    pub within: Option<Arc<Visible>>,
}

/// A year asked for, with every listed video's year to compare with
/// (`series::Series::years`, by position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Year {
    pub year: u16,
    pub years: Arc<[u16]>,
}

impl Year {
    fn admits(&self, v: &Video) -> bool {
        v.pos != u32::MAX && self.years.get(v.pos as usize) == Some(&self.year)
    }
}

/// Where the asking person is with a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    Unwatched,
    /// Begun and not finished: a resume position is kept.
    InProgress,
    Watched,
}

impl Watch {
    /// From `show=` (`unwatched`, `in_progress`, `watched`; `all`: none).
    pub fn parse(s: &str) -> Result<Option<Watch>, &'static str> {
        match s {
            "" | "all" => Ok(None),
            "unwatched" => Ok(Some(Watch::Unwatched)),
            "in_progress" => Ok(Some(Watch::InProgress)),
            "watched" => Ok(Some(Watch::Watched)),
            _ => Err("show must be all, unwatched, in_progress or watched"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Watch::Unwatched => "unwatched",
            Watch::InProgress => "in_progress",
            Watch::Watched => "watched",
        }
    }
}

impl Filter {
    /// Whether every video passes.
    pub fn is_empty(&self) -> bool {
        self.within.is_none() && !self.beyond_sight()
    }

    /// Whether it asks more than what the person may see (so a listing
    /// is more than a slice of an order).
    pub fn beyond_sight(&self) -> bool {
        self.favorites
            || self.min_rating.is_some()
            || !self.tags.is_empty()
            || self.watch.is_some()
            || self.min_ms.is_some()
            || self.max_ms.is_some()
            || self.year.is_some()
    }

    /// Whether a video without user data may pass (so every video is
    /// looked at, not only those with user data).
    pub fn every_video(&self) -> bool {
        let needs_data = self.favorites
            || self.min_rating.is_some()
            || !self.tags.is_empty()
            || matches!(self.watch, Some(Watch::InProgress | Watch::Watched));
        self.watch == Some(Watch::Unwatched)
            || self.year.is_some()
            || self.min_ms.is_some()
            || self.max_ms.is_some()
            || (self.within.is_some() && !needs_data)
    }

    /// Whether the listed video at `pos` may be seen.
    pub fn sees(&self, pos: u32) -> bool {
        self.within.as_ref().is_none_or(|w| w.has(pos))
    }

    /// Whether `v`, with the user data `d` that `who` sees, passes.
    pub fn matches(&self, v: &Video, d: Option<&UserData>, who: &Viewer) -> bool {
        if self.within.as_ref().is_some_and(|w| !w.admits(v)) {
            return false;
        }
        if self.year.as_ref().is_some_and(|y| !y.admits(v)) {
            return false;
        }
        let length = v.duration_ms();
        if self.min_ms.is_some_and(|m| length.is_none_or(|l| l < m))
            || self.max_ms.is_some_and(|m| length.is_none_or(|l| l > m))
        {
            return false;
        }
        let Some(d) = d else {
            return !self.favorites
                && self.min_rating.is_none()
                && self.tags.is_empty()
                && self.watch.is_none_or(|w| w == Watch::Unwatched);
        };
        (!self.favorites || d.favorite)
            && self.min_rating.is_none_or(|m| d.rating.unwrap_or(0) >= m)
            && self.tags.iter().all(|t| d.has_tag(t))
            && match self.watch {
                None => true,
                Some(Watch::Unwatched) => d.unwatched_by(who),
                Some(Watch::InProgress) => d.position_ms.is_some(),
                Some(Watch::Watched) => !d.unwatched_by(who),
            }
    }
}

/// Every tag in use on a listed video `within` lets through, with how
/// many videos carry it; most used first.
pub fn tag_counts(catalog: &Catalog, users: &UserCache, within: Option<&Visible>) -> Vec<(String, usize)> {
    let mut counts: std::collections::HashMap<String, (String, usize)> = std::collections::HashMap::new();
    users.with(|m| {
        for (id, d) in m {
            if catalog.get(*id).is_none_or(|v| v.broken.is_some() || within.is_some_and(|w| !w.has(v.pos))) {
                continue;
            }
            for t in &d.tags {
                counts.entry(t.to_lowercase()).or_insert_with(|| (t.clone(), 0)).1 += 1;
            }
        }
    });
    let mut out: Vec<(String, usize)> = counts.into_values().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase())));
    out
}

/// One shared order by user data, with what it was built from.
struct Live {
    generation: u64,
    users_version: u64,
    built: Instant,
    order: Arc<[u32]>,
}

/// The orders by user data everyone shares, each built when first asked
/// for (a sort nobody uses costs nothing, and an edit rebuilds only the
/// orders in use).
#[derive(Clone, Copy)]
enum LiveSort {
    /// By the household's rating.
    Rating,
    /// By the mean of everyone's ratings.
    Average,
    /// By title as shown (user titles over file titles).
    Title,
    Views,
}

/// One person's order by their own rating.
struct Mine {
    generation: u64,
    users_version: u64,
    built: Instant,
    rating: Arc<[u32]>,
}

/// The orders by user data, cached.
#[derive(Default)]
pub struct LiveOrders {
    /// By `LiveSort`.
    live: Mutex<[Option<Live>; 4]>,
    mine: Mutex<HashMap<Viewer, Mine>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// Whether an order built at `built` for (`generation`, `version`) may
/// still be served.
fn fresh(generation: u64, version: u64, built: Instant, catalog: &Catalog, users: &UserCache) -> bool {
    generation == catalog.generation && (version == users.version() || built.elapsed() < LIVE_REBUILD)
}

/// Where the order for a sort comes from.
enum Pick {
    /// One of the catalog's own.
    Base(Arc<[u32]>),
    /// By the viewer's own ratings.
    Mine,
    Live(LiveSort),
}

fn pick(catalog: &Catalog, users: &UserCache, sort: Sort, who: &Viewer) -> Pick {
    let by_user_title = sort == Sort::Title && users.titled() > 0;
    if let (Some(base), false) = (catalog.base_order(sort), by_user_title) {
        return Pick::Base(base);
    }
    // Guests see no one's ratings, the household's mean included.
    let own_rating = sort == Sort::Rating || (sort == Sort::Household && *who == Viewer::Guest);
    if own_rating && *who != Viewer::Household {
        return Pick::Mine;
    }
    Pick::Live(match sort {
        Sort::Rating => LiveSort::Rating,
        Sort::Household => LiveSort::Average,
        Sort::Title => LiveSort::Title,
        _ => LiveSort::Views,
    })
}

impl LiveOrders {
    /// The ascending order for `sort` over `catalog`, as `who` sees it.
    pub fn order(&self, catalog: &Catalog, users: &UserCache, sort: Sort, who: &Viewer) -> Arc<[u32]> {
        let which = match pick(catalog, users, sort, who) {
            Pick::Base(order) => return order,
            Pick::Mine => return self.mine(catalog, users, who),
            Pick::Live(which) => which,
        };
        let mut live = lock(&self.live);
        let slot = &mut live[which as usize];
        match slot.as_ref().filter(|l| fresh(l.generation, l.users_version, l.built, catalog, users)) {
            Some(l) => {
                self.hits.fetch_add(1, Relaxed);
                l.order.clone()
            }
            None => {
                self.misses.fetch_add(1, Relaxed);
                let users_version = users.version();
                let order = build_live(which, catalog, users);
                let built = Instant::now();
                *slot = Some(Live { generation: catalog.generation, users_version, built, order: order.clone() });
                order
            }
        }
    }

    /// `order` when it is at hand (one of the catalog's, or an order by
    /// user data still fresh), without building one.
    pub fn ready(&self, catalog: &Catalog, users: &UserCache, sort: Sort, who: &Viewer) -> Option<Arc<[u32]>> {
        match pick(catalog, users, sort, who) {
            Pick::Base(order) => Some(order),
            Pick::Mine => None,
            Pick::Live(which) => lock(&self.live)[which as usize]
                .as_ref()
                .filter(|l| fresh(l.generation, l.users_version, l.built, catalog, users))
                .map(|l| l.order.clone()),
        }
    }

    fn mine(&self, catalog: &Catalog, users: &UserCache, who: &Viewer) -> Arc<[u32]> {
        let mut mine = lock(&self.mine);
        if let Some(m) = mine.get(who).filter(|m| fresh(m.generation, m.users_version, m.built, catalog, users)) {
            self.hits.fetch_add(1, Relaxed);
            return m.rating.clone();
        }
        self.misses.fetch_add(1, Relaxed);
        let version = users.version();
        let ratings: HashMap<VideoId, u8> = users.view(who, |v| {
            let mut out = HashMap::new();
            v.for_each(|id, d| {
                if let Some(r) = d.rating {
                    out.insert(id, r);
                }
            });
            out
        });
        let videos = catalog.videos();
        let rating = by_key(catalog, &|i| u64::from(ratings.get(&videos[i].id).copied().unwrap_or(0)));
        if mine.len() >= MAX_PEOPLE_ORDERS {
            mine.clear();
        }
        let m = Mine { generation: catalog.generation, users_version: version, built: Instant::now(), rating };
        let out = m.rating.clone();
        mine.insert(who.clone(), m);
        out
    }

    /// Orders by user data reused, and built anew.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }
}

/// People whose own rating order is kept at once.
const MAX_PEOPLE_ORDERS: usize = 64;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(l) => l,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The positions of the catalog's videos ascending by `key` (a position),
/// ties in title order.
fn by_key(catalog: &Catalog, key: &dyn Fn(usize) -> u64) -> Arc<[u32]> {
    let titles = catalog.base_order(Sort::Title).expect("title is a base order");
    let mut rank = vec![0u32; titles.len()];
    for (pos, &i) in titles.iter().enumerate() {
        rank[i as usize] = pos as u32;
    }
    let mut idx: Vec<u32> = (0..titles.len() as u32).collect();
    idx.sort_by_key(|&i| (key(i as usize), std::cmp::Reverse(rank[i as usize])));
    idx.into()
}

fn build_live(which: LiveSort, catalog: &Catalog, users: &UserCache) -> Arc<[u32]> {
    let videos = catalog.videos();
    match which {
        LiveSort::Rating => {
            let keys: Vec<u8> =
                users.with(|m| videos.iter().map(|v| m.get(&v.id).and_then(|d| d.rating).unwrap_or(0)).collect());
            by_key(catalog, &|i| u64::from(keys[i]))
        }
        LiveSort::Views => {
            let keys: Vec<u64> = users.with(|m| videos.iter().map(|v| m.get(&v.id).map_or(0, |d| d.views)).collect());
            by_key(catalog, &|i| keys[i])
        }
        LiveSort::Average => {
            // The mean in hundredths of a star.
            let sums = users.all_ratings();
            by_key(catalog, &|i| sums.get(&videos[i].id).map_or(0, |&(sum, n)| u64::from(sum * 100 / n.max(1))))
        }
        LiveSort::Title => {
            let titles = catalog.base_order(Sort::Title).expect("title is a base order");
            if users.titled() == 0 {
                return titles;
            }
            let mut rank = vec![0u32; videos.len()];
            for (pos, &i) in titles.iter().enumerate() {
                rank[i as usize] = pos as u32;
            }
            let shown: Vec<String> = users.with(|m| {
                videos
                    .iter()
                    .map(|v| {
                        m.get(&v.id)
                            .and_then(|d| d.title.as_deref())
                            .map_or_else(|| super::fold::fold(&v.title()), super::fold::fold)
                    })
                    .collect()
            });
            let mut idx: Vec<u32> = (0..videos.len() as u32).collect();
            idx.sort_by(|&a, &b| {
                shown[a as usize].cmp(&shown[b as usize]).then(rank[a as usize].cmp(&rank[b as usize]))
            });
            idx.into()
        }
    }
}

/// Iterates an ascending order in the requested direction.
pub(super) fn directed(idx: &[u32], order: Order) -> Box<dyn Iterator<Item = u32> + '_> {
    match order {
        Order::Asc => Box::new(idx.iter().copied()),
        Order::Desc => Box::new(idx.iter().rev().copied()),
    }
}

/// What a listing draws from: the catalog, user data, and an ascending
/// order read in a direction.
pub struct Source<'a> {
    pub catalog: &'a Catalog,
    pub users: &'a UserCache,
    /// Whose ratings and favorites filters look at.
    pub who: &'a Viewer,
    pub idx: &'a Arc<[u32]>,
    pub order: Order,
    /// Where the ranks in `idx` are kept (`SearchCache::ranks`).
    pub ranks: &'a Ranks,
}

/// Each position's rank in an order (the order's inverse), kept for the
/// few orders in use: filtered listings and searches put their matches in
/// order through it, without a pass over the library per request.
#[derive(Default)]
pub struct Ranks {
    /// (order, its ranks), newest first. Holding the order keeps its
    /// address from being reused by another while its ranks are kept.
    kept: Mutex<std::collections::VecDeque<(Order32, Order32)>>,
    /// (order, visible videos, the order's visible positions), newest first.
    scoped: Mutex<std::collections::VecDeque<(Order32, Arc<Visible>, Order32)>>,
}

type Order32 = Arc<[u32]>;

/// Orders whose ranks are kept at once.
const RANKS_KEPT: usize = 4;

impl Ranks {
    /// The ranks of `order` if they are kept (`of` without building them).
    pub fn kept(&self, order: &Arc<[u32]>) -> Option<Arc<[u32]>> {
        lock(&self.kept).iter().find(|(o, _)| Arc::ptr_eq(o, order)).map(|(_, ranks)| ranks.clone())
    }

    /// The positions of `order` that `within` lets through, in order
    /// (kept for the few pairs in use).
    pub fn scoped(&self, order: &Arc<[u32]>, within: &Arc<Visible>) -> Arc<[u32]> {
        let mut kept = lock(&self.scoped);
        if let Some((_, _, s)) = kept.iter().find(|(o, w, _)| Arc::ptr_eq(o, order) && **w == **within) {
            return s.clone();
        }
        let s: Arc<[u32]> = order.iter().copied().filter(|&p| within.has(p)).collect();
        if kept.len() >= RANKS_KEPT * 4 {
            kept.pop_back();
        }
        kept.push_front((order.clone(), within.clone(), s.clone()));
        s
    }

    pub fn of(&self, order: &Arc<[u32]>) -> Arc<[u32]> {
        let mut kept = lock(&self.kept);
        if let Some((_, ranks)) = kept.iter().find(|(o, _)| Arc::ptr_eq(o, order)) {
            return ranks.clone();
        }
        let mut ranks = vec![0u32; order.len()];
        for (r, &i) in order.iter().enumerate() {
            if let Some(slot) = ranks.get_mut(i as usize) {
                *slot = r as u32;
            }
        }
        let ranks: Arc<[u32]> = ranks.into();
        if kept.len() >= RANKS_KEPT {
            kept.pop_back();
        }
        kept.push_front((order.clone(), ranks.clone()));
        ranks
    }
}

impl Source<'_> {
    /// Positions in the listing's order.
    pub fn ordered(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        directed(self.idx, self.order)
    }

    /// The listing's order with only the videos `within` lets through.
    pub fn order_within(&self, within: Option<&Arc<Visible>>) -> Arc<[u32]> {
        match within {
            None => self.idx.clone(),
            Some(w) => self.ranks.scoped(self.idx, w),
        }
    }
}

/// One page of a listing, and how many videos the listing holds in all.
pub fn page(src: &Source, filter: &Filter, offset: usize, limit: usize) -> (Vec<Arc<Video>>, usize) {
    let videos = src.catalog.videos();
    if !filter.beyond_sight() {
        let idx = src.order_within(filter.within.as_ref());
        let page = directed(&idx, src.order).skip(offset).take(limit).map(|i| videos[i as usize].clone()).collect();
        return (page, idx.len());
    }
    let matching = filtered(src, filter);
    let page = matching.iter().skip(offset).take(limit).map(|&i| videos[i as usize].clone()).collect();
    (page, matching.len())
}

/// The positions of the videos a (non-empty) filter lets through, in the
/// listing's order. Most filters need user data, so only videos that have
/// some are looked at; they are then put in order through the order's
/// ranks (`Ranks`, kept between requests). Filters a video without user
/// data may pass (unwatched, length) walk the order itself.
pub fn filtered(src: &Source, filter: &Filter) -> Vec<u32> {
    let videos = src.catalog.videos();
    if filter.every_video() {
        // A video without user data may pass: every one is looked at, in
        // order (of those the person may see).
        let idx = src.order_within(filter.within.as_ref());
        return src.users.view(src.who, |view| {
            directed(&idx, src.order)
                .filter(|&i| {
                    let v = &videos[i as usize];
                    filter.matches(v, view.get(v.id).as_deref(), src.who)
                })
                .collect()
        });
    }
    let mut matching: Vec<u32> = src.users.view(src.who, |view| {
        let mut out = Vec::new();
        view.for_each(|id, d| {
            if let Some(v) = src.catalog.get(id).filter(|v| v.pos != u32::MAX) {
                if filter.matches(v, Some(d), src.who) {
                    out.push(v.pos);
                }
            }
        });
        out
    });
    if matching.len() > 1 {
        let ranks = src.ranks.of(src.idx);
        matching.sort_unstable_by_key(|&p| ranks.get(p as usize).copied().unwrap_or(u32::MAX));
    }
    if src.order == Order::Desc {
        matching.reverse();
    }
    matching
}

/// The videos before and after `id` in a listing (for previous/next).
pub fn neighbours(
    catalog: &Catalog,
    idx: &[u32],
    order: Order,
    id: VideoId,
) -> (Option<Arc<Video>>, Option<Arc<Video>>) {
    let videos = catalog.videos();
    let ordered: Vec<u32> = directed(idx, order).collect();
    let Some(pos) = ordered.iter().position(|&i| videos[i as usize].id == id) else {
        return (None, None);
    };
    let at = |p: Option<usize>| p.and_then(|p| ordered.get(p)).map(|&i| videos[i as usize].clone());
    (at(pos.checked_sub(1)), at(pos.checked_add(1)))
}

/// A video picked uniformly among those the filter lets through.
pub fn random(catalog: &Catalog, users: &UserCache, who: &Viewer, filter: &Filter) -> Option<Arc<Video>> {
    let videos = catalog.videos();
    if filter.is_empty() {
        return (!videos.is_empty()).then(|| videos[fastrand::usize(..videos.len())].clone());
    }
    if let (false, Some(w)) = (filter.beyond_sight(), &filter.within) {
        let pos = w.nth(fastrand::usize(..w.count().max(1)))?;
        return videos.get(pos as usize).cloned();
    }
    let matching: Vec<&Arc<Video>> =
        users.view(who, |view| videos.iter().filter(|v| filter.matches(v, view.get(v.id).as_deref(), who)).collect());
    (!matching.is_empty()).then(|| matching[fastrand::usize(..matching.len())].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_invert_an_order_and_are_kept_by_order() {
        let ranks = Ranks::default();
        let order: Arc<[u32]> = vec![2, 0, 3, 1].into();
        let r = ranks.of(&order);
        assert_eq!(&*r, &[1, 3, 0, 2]);
        assert!(Arc::ptr_eq(&r, &ranks.of(&order)), "kept");
        // An equal order that is another allocation gets its own ranks.
        let same: Arc<[u32]> = vec![2, 0, 3, 1].into();
        assert!(!Arc::ptr_eq(&r, &ranks.of(&same)));
        for n in 0..RANKS_KEPT as u32 {
            ranks.of(&vec![n].into());
        }
        assert!(!Arc::ptr_eq(&r, &ranks.of(&order)), "the oldest is let go");
    }
}
