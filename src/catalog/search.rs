//! Full-text search over titles, paths and tags: case- and
//! accent-insensitive, every word must match somewhere, ranked.
//!
//! Score per query word: 4 when a word of the title starts with it, 3 for
//! a tag that does, 2 for anywhere in the title, 1 for anywhere in the path.
//! Ties keep the listing's order.

use std::sync::Arc;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use memchr::memmem::Finder;

use super::fold::fold;
use super::query::{filtered, Filter, Source};
use super::{Order, Sort, Video};
use crate::library::ids::VideoId;

/// Whether `word` occurs in `hay` at the start of a word.
fn starts_a_word(hay: &[u8], word: &Finder) -> bool {
    word.find_iter(hay).any(|i| i == 0 || !char_before(hay, i).is_some_and(char::is_alphanumeric))
}

fn char_before(hay: &[u8], i: usize) -> Option<char> {
    std::str::from_utf8(&hay[..i]).ok()?.chars().next_back()
}

/// What users added to a video that search looks at, folded.
#[derive(Default)]
struct Extra {
    tags: Vec<String>,
    title: Option<String>,
}

/// The score of one video, `None` when a word matches nothing.
fn score(folded_path: &str, extra: Option<&Extra>, words: &[Finder]) -> Option<u32> {
    let path = folded_path.as_bytes();
    let title = match extra.and_then(|e| e.title.as_deref()) {
        Some(t) => t.as_bytes(),
        None => folded_path.rsplit('/').next().unwrap_or(folded_path).as_bytes(),
    };
    let tags = extra.map_or(&[][..], |e| &e.tags[..]);
    let mut total = 0;
    for w in words {
        // Most videos match no word: one scan of the path rules them out.
        if extra.is_none() && w.find(path).is_none() {
            return None;
        }
        total += if starts_a_word(title, w) {
            4
        } else if tags.iter().any(|t| starts_a_word(t.as_bytes(), w)) {
            3
        } else if w.find(title).is_some() {
            2
        } else if w.find(path).is_some() {
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
}

impl SearchCache {
    /// Searches answered from the cache, and searched anew.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
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

/// One page of the matches of `words` among the videos `filter` lets
/// through, best first; and how many match in all.
pub fn search(
    cache: &SearchCache,
    src: &Source,
    sort: Sort,
    filter: &Filter,
    words: &[String],
    offset: usize,
    limit: usize,
) -> (Vec<Arc<Video>>, usize) {
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
            cache.misses.fetch_add(1, Relaxed);
            let hits: Arc<[u32]> = ranked(src, filter, words, sort == Sort::Relevance).into();
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
    (page, hits.len())
}

/// Every match: best first when `by_score` (ties in the listing's
/// order), else in the listing's order.
fn ranked(src: &Source, filter: &Filter, words: &[String], by_score: bool) -> Vec<u32> {
    let videos = src.catalog.videos();
    let folded = src.catalog.folded_paths();
    let finders: Vec<Finder> = words.iter().map(|w| Finder::new(w.as_bytes()).into_owned()).collect();
    let extra: HashMap<VideoId, Extra> = src.users.with(|m| {
        m.iter()
            .filter(|(_, d)| !d.tags.is_empty() || d.title.is_some())
            .map(|(id, d)| {
                (*id, Extra { tags: d.tags.iter().map(|t| fold(t)).collect(), title: d.title.as_deref().map(fold) })
            })
            .collect()
    });
    let score_of = |i: u32| {
        let v = &videos[i as usize];
        let e = if extra.is_empty() { None } else { extra.get(&v.id) };
        score(&folded[i as usize], e, &finders)
    };
    // (score, position), collected in the listing's order, so a stable sort
    // by score keeps that order among equals.
    let mut hits: Vec<(u32, u32)> = if filter.is_empty() {
        src.ordered().filter_map(|i| score_of(i).map(|s| (s, i))).collect()
    } else {
        filtered(src, filter).into_iter().filter_map(|i| score_of(i).map(|s| (s, i))).collect()
    };
    if by_score {
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    }
    hits.into_iter().map(|(_, i)| i).collect()
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
        assert_eq!(score("pets/cat video", None, &w), Some(4));
        assert_eq!(score("pets/concatenate", None, &w), Some(2));
        assert_eq!(score("cats/dog", None, &w), Some(1));
        assert_eq!(score("x/dog", None, &w), None);
        let tagged = Extra { tags: vec![fold("Cats")], title: None };
        assert_eq!(score("x/dog", Some(&tagged), &w), Some(3));
        assert_eq!(score("x/dog", Some(&tagged), &finders("cat dog")), Some(7));
        assert_eq!(score("x/dog", Some(&tagged), &finders("cat bird")), None);
        let renamed = Extra { tags: vec![], title: Some(fold("Kitten")) };
        assert_eq!(score("x/dog", Some(&renamed), &finders("kit")), Some(4));
    }
}
