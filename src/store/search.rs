//! Full-text search over titles, paths and tags: case- and
//! accent-insensitive, every word must match somewhere, ranked.
//!
//! Score per query word: 4 when a word of the title starts with it, 3 for
//! a tag that does, 2 for anywhere in the title, 1 for anywhere in the path.
//! Ties keep the listing's order.

use std::sync::Arc;

use unicode_normalization::UnicodeNormalization;

use super::cache::Video;
use super::query::{Filter, Source};
use super::records::UserData;

/// Words of a query looked at, at most.
const MAX_WORDS: usize = 12;

/// Lowercase, accents removed (NFD, combining marks dropped).
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The words of a query, folded.
pub fn words(q: &str) -> Vec<String> {
    fold(q).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(MAX_WORDS).map(String::from).collect()
}

fn starts_a_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(i, _)| i == 0 || !hay[..i].chars().next_back().is_some_and(char::is_alphanumeric))
}

/// The score of one video, `None` when a word matches nothing.
fn score(folded_path: &str, tags: Option<&UserData>, words: &[String]) -> Option<u32> {
    let user_title = tags.and_then(|d| d.title.as_deref()).map(fold);
    let title = user_title.as_deref().unwrap_or_else(|| folded_path.rsplit('/').next().unwrap_or(folded_path));
    let tags: Vec<String> = tags.map(|d| d.tags.iter().map(|t| fold(t)).collect()).unwrap_or_default();
    let mut total = 0;
    for w in words {
        let s = if starts_a_word(title, w) {
            4
        } else if tags.iter().any(|t| starts_a_word(t, w)) {
            3
        } else if title.contains(w.as_str()) {
            2
        } else if folded_path.contains(w.as_str()) {
            1
        } else {
            return None;
        };
        total += s;
    }
    Some(total)
}

/// One page of the matches of `words` among the videos `filter` lets
/// through, best first; and how many match in all.
pub fn search(
    src: &Source,
    filter: &Filter,
    words: &[String],
    offset: usize,
    limit: usize,
) -> (Vec<Arc<Video>>, usize) {
    let videos = src.catalog.videos();
    let folded = src.catalog.folded_paths();
    let mut hits: Vec<(u32, usize, u32)> = src.users.with(|m| {
        src.ordered()
            .enumerate()
            .filter_map(|(pos, i)| {
                let v = &videos[i as usize];
                let d = m.get(&v.id);
                if !filter.is_empty() && !filter.matches(d) {
                    return None;
                }
                score(&folded[i as usize], d, words).map(|s| (s, pos, i))
            })
            .collect()
    });
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let total = hits.len();
    let page = hits.iter().skip(offset).take(limit).map(|&(_, _, i)| videos[i as usize].clone()).collect();
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Crème BRÛLÉE"), "creme brulee");
        assert_eq!(fold("Ünïcödé"), "unicode");
        assert_eq!(words("  Hello, wörld!! 2019 "), ["hello", "world", "2019"]);
    }

    #[test]
    fn ranks_title_words_first() {
        let w = words("cat");
        assert_eq!(score("pets/cat video", None, &w), Some(4));
        assert_eq!(score("pets/concatenate", None, &w), Some(2));
        assert_eq!(score("cats/dog", None, &w), Some(1));
        assert_eq!(score("x/dog", None, &w), None);
        let tagged = UserData { tags: vec!["Cats".into()], ..UserData::default() };
        assert_eq!(score("x/dog", Some(&tagged), &w), Some(3));
        assert_eq!(score("x/dog", Some(&tagged), &words("cat dog")), Some(7));
        assert_eq!(score("x/dog", Some(&tagged), &words("cat bird")), None);
    }
}
