//! Full-text search over titles, paths and tags: case- and
//! accent-insensitive, every word must begin a word somewhere (or, from
//! four letters on, be one edit away from one), ranked.
//!
//! Score per query word: 4 when a word of the title begins with it, 3 for
//! a tag, 2 for a folder's name, 1 for a word one edit away (a typo).
//! Ties keep the listing's order. Candidates come from the word index
//! (`words`), so a search looks at the videos its rarest word finds, not
//! at the whole library; a word so common that it finds most videos is
//! checked on each candidate instead.

use std::sync::Arc;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use memchr::memmem::Finder;

use super::fold::fold;
use super::query::{directed, filtered, Filter, Source};
use super::words::{is_cjk, one_edit, tokens};
use super::{Order, Sort, Video};
use crate::library::ids::VideoId;

/// Whether `word` occurs in `hay` at the start of a word.
fn starts_a_word(hay: &[u8], word: &Finder) -> bool {
    // Chinese and Japanese have no spaces: their pairs match anywhere.
    let anywhere = std::str::from_utf8(word.needle()).ok().and_then(|w| w.chars().next()).is_some_and(is_cjk);
    word.find_iter(hay)
        .any(|i| anywhere || i == 0 || !char_before(hay, i).is_some_and(|c| c.is_alphanumeric() && !is_cjk(c)))
}

fn char_before(hay: &[u8], i: usize) -> Option<char> {
    std::str::from_utf8(&hay[..i]).ok()?.chars().next_back()
}

/// The folded tags and titles of every video that has some.
type Extras = Arc<HashMap<VideoId, Extra>>;

/// What users added to a video that search looks at, folded.
#[derive(Default)]
struct Extra {
    tags: Vec<String>,
    title: Option<String>,
}

/// The score of one video, `None` when a word matches nothing. `near`:
/// whether the video has a word one edit away from each query word.
fn score(folded_path: &str, extra: Option<&Extra>, words: &[Finder], near: impl Fn(usize) -> bool) -> Option<u32> {
    let path = folded_path.as_bytes();
    let title = match extra.and_then(|e| e.title.as_deref()) {
        Some(t) => t.as_bytes(),
        None => folded_path.rsplit('/').next().unwrap_or(folded_path).as_bytes(),
    };
    let tags = extra.map_or(&[][..], |e| &e.tags[..]);
    let mut total = 0;
    for (k, w) in words.iter().enumerate() {
        total += if starts_a_word(title, w) {
            4
        } else if tags.iter().any(|t| starts_a_word(t.as_bytes(), w)) {
            3
        } else if starts_a_word(path, w) {
            2
        } else if near(k) {
            1
        } else {
            return None;
        };
    }
    Some(total)
}

/// Recent searches, so that paging through results does not search again.
/// Valid while the catalog, user data and the query are the same.
#[derive(Default)]
pub struct SearchCache {
    recent: Mutex<VecDeque<(CacheKey, Arc<[u32]>)>>,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Tags and titles people gave, folded, for the user data's version.
    extras: Mutex<Option<(u64, Extras)>>,
    /// Ranks in the orders in use (listings with filters share them).
    pub ranks: super::query::Ranks,
}

impl SearchCache {
    /// Searches answered from the cache, and searched anew.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }

    /// The extras of the current user data, if already built.
    fn extras_if_current(&self, users: &super::user::UserCache) -> Option<Extras> {
        let slot = self.extras.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().filter(|(v, _)| *v == users.version()).map(|(_, e)| e.clone())
    }

    fn extras(&self, users: &super::user::UserCache) -> Extras {
        let version = users.version();
        let mut slot = self.extras.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, e)) = slot.as_ref().filter(|(v, _)| *v == version) {
            return e.clone();
        }
        let built: Extras = Arc::new(users.with(|m| {
            m.iter()
                .filter(|(_, d)| !d.tags.is_empty() || d.title.is_some())
                .map(|(id, d)| {
                    (*id, Extra { tags: d.tags.iter().map(|t| fold(t)).collect(), title: d.title.as_deref().map(fold) })
                })
                .collect()
        }));
        *slot = Some((version, built.clone()));
        built
    }
}

#[derive(PartialEq, Eq, Clone)]
struct CacheKey {
    words: Vec<String>,
    filter: Filter,
    sort: u8,
    order: Order,
    generation: u64,
    users_version: u64,
    who: super::personal::Viewer,
}

/// Searches kept.
const CACHED: usize = 16;

/// At most this many query words of at most so many bytes (each byte a
/// level of the typo lookup), and this many postings for the rarest word
/// (its typos included) plus videos with tags or titles of their own, let
/// a search run on an async worker: about a millisecond of work at most (a
/// new number in a million videos takes a quarter of that).
pub const QUICK: Quick = Quick { words: 3, word_bytes: 16, candidates: 2_000 };

/// The bounds of a quick search (`QUICK`).
#[derive(Debug, Clone, Copy)]
pub struct Quick {
    pub words: usize,
    pub word_bytes: usize,
    pub candidates: usize,
}

/// One page of the matches of `words` among the videos `filter` lets
/// through, best first; and how many match in all.
///
/// With `quick`, only a search that is cached or within it is answered;
/// a larger one gives `None` after at most the index lookups (run it
/// without `quick` on the blocking pool then). Without, always `Some`.
#[allow(clippy::too_many_arguments)]
pub fn search(
    cache: &SearchCache,
    src: &Source,
    sort: Sort,
    filter: &Filter,
    words: &[String],
    offset: usize,
    limit: usize,
    quick: Option<Quick>,
) -> Option<(Vec<Arc<Video>>, usize)> {
    let key = CacheKey {
        words: words.to_vec(),
        filter: filter.clone(),
        sort: sort as u8,
        order: src.order,
        generation: src.catalog.generation,
        users_version: src.users.version(),
        who: src.who.clone(),
    };
    let cached = cache.recent.lock().ok().and_then(|r| r.iter().find(|(k, _)| *k == key).map(|(_, h)| h.clone()));
    let hits = match cached {
        Some(hits) => {
            cache.hits.fetch_add(1, Relaxed);
            hits
        }
        None => {
            let hits: Arc<[u32]> = ranked(cache, src, filter, words, sort == Sort::Relevance, quick)?.into();
            cache.misses.fetch_add(1, Relaxed);
            if let Ok(mut recent) = cache.recent.lock() {
                if recent.len() >= CACHED {
                    recent.pop_back();
                }
                recent.push_front((key, hits.clone()));
            }
            hits
        }
    };
    let videos = src.catalog.videos();
    let page = hits.iter().skip(offset).take(limit).map(|&i| videos[i as usize].clone()).collect();
    Some((page, hits.len()))
}

/// Every match: best first when `by_score` (ties in the listing's
/// order), else in the listing's order. `None` when the search exceeds
/// `quick`.
fn ranked(
    cache: &SearchCache,
    src: &Source,
    filter: &Filter,
    words: &[String],
    by_score: bool,
    quick: Option<Quick>,
) -> Option<Vec<u32>> {
    let over =
        |q: Quick| words.len() > q.words || words.iter().any(|w| w.len() > q.word_bytes) || filter.beyond_sight();
    if quick.is_some_and(over) {
        return None;
    }
    let videos = src.catalog.videos();
    let folded = src.catalog.folded_paths();
    let index = src.catalog.word_index();
    let finders: Vec<Finder> = words.iter().map(|w| Finder::new(w.as_bytes()).into_owned()).collect();
    // A quick search builds neither the extras (that reads every user
    // record) nor the ranks of an order (a pass over the library).
    let (extra, kept_ranks) = match quick {
        Some(_) => (cache.extras_if_current(src.users)?, Some(src.ranks.kept(src.idx)?)),
        None => (cache.extras(src.users), None),
    };
    // How many videos each word may find, from the index (cheap): the
    // rarest one's videos are the candidates, unless even it finds most
    // of the library (then every video is checked).
    // The words one edit away, looked up once per query word.
    let near_words: Vec<Vec<usize>> = words.iter().map(|w| index.near_words(w)).collect();
    let counts: Vec<usize> =
        words.iter().zip(&near_words).map(|(w, near)| index.count(w) + index.near_count(near)).collect();
    let rarest = (0..words.len()).filter(|&k| counts[k] <= videos.len() / 8 + 1000).min_by_key(|&k| counts[k]);
    if let Some(q) = quick {
        if rarest.is_none_or(|k| counts[k] + extra.len() > q.candidates) {
            return None;
        }
    }
    // A word one edit away: looked up in the index for the rarest word,
    // checked on the candidate's own words for the others.
    let rarest_near: Vec<u32> = rarest.map(|k| index.near_postings(&near_words[k])).unwrap_or_default();
    let score_of = |i: u32| {
        let v = &videos[i as usize];
        let e = if extra.is_empty() { None } else { extra.get(&v.id) };
        let path = folded.get(i as usize);
        let near = |k: usize| {
            if Some(k) == rarest {
                return rarest_near.binary_search(&i).is_ok();
            }
            let w = words[k].as_str();
            let theirs = e.into_iter().flat_map(|e| e.tags.iter().map(String::as_str).chain(e.title.as_deref()));
            tokens(path).chain(theirs.flat_map(tokens)).any(|t| one_edit(t, w))
        };
        score(path, e, &finders, near)
    };
    // (score, position) in the listing's order, so a stable sort by score
    // keeps that order among equals.
    let mut hits: Vec<(u32, u32)> = match rarest {
        None if !filter.beyond_sight() => {
            let idx = src.order_within(filter.within.as_ref());
            directed(&idx, src.order).filter_map(|i| score_of(i).map(|s| (s, i))).collect()
        }
        None => filtered(src, filter).into_iter().filter_map(|i| score_of(i).map(|s| (s, i))).collect(),
        Some(k) => {
            // The rarest word's videos, and those with tags or titles (they may match there).
            let mut candidates: Vec<u32> = index.beginning(&words[k]);
            candidates.extend_from_slice(&rarest_near);
            candidates
                .extend(extra.keys().filter_map(|id| src.catalog.get(*id)).map(|v| v.pos).filter(|&p| p != u32::MAX));
            candidates.sort_unstable();
            candidates.dedup();
            candidates.retain(|&i| filter.sees(i));
            if !filter.beyond_sight() {
                let rank = kept_ranks.unwrap_or_else(|| src.ranks.of(src.idx));
                let mut hits: Vec<(u32, u32)> =
                    candidates.into_iter().filter_map(|i| score_of(i).map(|s| (s, i))).collect();
                let at = |i: u32| rank.get(i as usize).copied().unwrap_or(u32::MAX);
                match src.order {
                    Order::Asc => hits.sort_unstable_by_key(|h| at(h.1)),
                    Order::Desc => hits.sort_unstable_by_key(|h| std::cmp::Reverse(at(h.1))),
                }
                hits
            } else {
                filtered(src, filter)
                    .into_iter()
                    .filter(|i| candidates.binary_search(i).is_ok())
                    .filter_map(|i| score_of(i).map(|s| (s, i)))
                    .collect()
            }
        }
    };
    if by_score {
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    }
    Some(hits.into_iter().map(|(_, i)| i).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::fold::words;

    fn finders(q: &str) -> Vec<Finder<'static>> {
        words(q).iter().map(|w| Finder::new(w.as_bytes()).into_owned()).collect()
    }

    #[test]
    fn ranks_title_words_first() {
        let w = finders("cat");
        let none = |_| false;
        assert_eq!(score("pets/cat video", None, &w, none), Some(4));
        assert_eq!(score("pets/concatenate", None, &w, none), None, "words are matched by their beginning");
        assert_eq!(score("cats/dog", None, &w, none), Some(2));
        assert_eq!(score("x/dog", None, &w, none), None);
        assert_eq!(score("x/dog", None, &w, |_| true), Some(1), "one edit away");
        let tagged = Extra { tags: vec![fold("Cats")], title: None };
        assert_eq!(score("x/dog", Some(&tagged), &w, none), Some(3));
        assert_eq!(score("x/dog", Some(&tagged), &finders("cat dog"), none), Some(7));
        assert_eq!(score("x/dog", Some(&tagged), &finders("cat bird"), none), None);
        let renamed = Extra { tags: vec![], title: Some(fold("Kitten")) };
        assert_eq!(score("x/dog", Some(&renamed), &finders("kit"), none), Some(4));
        // Japanese and Chinese are found anywhere in a run, by their pairs.
        let anime = fold("番組/新しいアニメ映画.mp4");
        assert_eq!(score(&anime, None, &finders("アニメ"), none), Some(12));
        assert_eq!(score(&anime, None, &finders("映画"), none), Some(8));
        assert_eq!(score(&anime, None, &finders("アメ"), none), None);
        assert_eq!(score(&anime, None, &finders("番組"), none), Some(4), "the folder");
    }

    /// A quick search answers as the full one does, or steps aside when it
    /// would look at too many videos; a cached answer is always quick.
    #[test]
    fn a_quick_search_answers_as_the_full_one_or_steps_aside() {
        use crate::catalog::{Catalog, ScanStats, VideoFile, Viewer};
        let video = |n: u64| {
            let rel = format!("f{}/clip {n:04}.mp4", n % 10).into_bytes();
            let file = VideoFile { root: 0, rel, size: 1, mtime_ns: 0, dev: 0, ino: 0 };
            Arc::new(Video {
                id: VideoId(n + 1),
                files: smallvec::smallvec![file],
                added: 0,
                info: None,
                broken: None,
                pos: 0,
            })
        };
        let catalog = Catalog::new((0..3000).map(video).collect(), vec![], Default::default(), ScanStats::default());
        let (users, cache, ranks) =
            (super::super::user::UserCache::default(), SearchCache::default(), Default::default());
        let idx = catalog.base_order(Sort::Added).unwrap();
        let src = Source {
            catalog: &catalog,
            users: &users,
            who: &Viewer::Household,
            idx: &idx,
            order: Order::Asc,
            ranks: &ranks,
        };
        let find_in = |cache: &SearchCache, q: &str, quick| {
            let found = search(cache, &src, Sort::Relevance, &Filter::default(), &words(q), 0, 5, quick);
            found.map(|(videos, total)| (videos.iter().map(|v| v.id.0).collect::<Vec<_>>(), total))
        };
        let find = |q: &str, quick| find_in(&cache, q, quick);
        // Each full search with its own cache: computed, not remembered.
        let full = |q: &str| find_in(&SearchCache::default(), q, None).unwrap();
        // The extras (tags and titles of their own) are built by a full search first.
        assert_eq!(find("1234", Some(QUICK)), None);
        assert_eq!(find("1234", None).unwrap().0[0], 1235, "exact first, then typos");
        assert_eq!(find("1235", Some(QUICK)), Some(full("1235")), "a rare word");
        let no_ranks = Default::default();
        let unranked = Source { ranks: &no_ranks, ..src };
        let q = words("1236");
        assert!(search(&cache, &unranked, Sort::Relevance, &Filter::default(), &q, 0, 5, Some(QUICK)).is_none());
        assert_eq!(find("f3 1243", Some(QUICK)), Some(full("f3 1243")), "the rarest word decides");
        assert_eq!(find("clip", Some(QUICK)), None, "every video");
        assert_eq!(find("clip", None).unwrap().1, 3000);
        assert_eq!(find("clip", Some(QUICK)).map(|f| f.1), Some(3000), "cached");
        assert_eq!(find("1 2 3 4", Some(QUICK)), None, "too many words");
        assert_eq!(find("12345678901234567", Some(QUICK)), None, "a long word");
        let few = Quick { candidates: 5, ..QUICK };
        assert_eq!(find("clip 12", Some(few)), None, "more candidates than allowed");
        assert_eq!(find("clip 12", Some(QUICK)), Some(full("clip 12")));
    }
}
