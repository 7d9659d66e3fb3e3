//! The search index: every word of every listed video's folded path (its
//! folders and file name), sorted once, each with the positions of the
//! videos that have it. A query word finds the words it begins (a range
//! of the sorted vocabulary) and, from four letters on, the words one
//! edit away (a letter dropped, added, changed or two swapped), each a
//! binary search: no pass over the library per query.
//!
//! Layout: the vocabulary in one string (`text`, `ends`), the postings of
//! all words in one array (`postings`, `starts`): a few allocations
//! whatever the library's size.

use std::collections::HashMap;
use std::ops::Range;

use xxhash_rust::xxh3::Xxh3Builder;

/// Shortest query word looked for one edit away.
pub const TYPO_FROM: usize = 4;
/// Longest word kept (longer ones are cut).
const MAX_WORD: usize = 64;

#[derive(Default)]
pub struct WordIndex {
    text: String,
    /// End of each vocabulary word in `text` (its start is the previous end).
    ends: Vec<u32>,
    /// Start of each word's postings in `postings` (one more than words).
    starts: Vec<u32>,
    postings: Vec<u32>,
}

/// Whether `c` is written without spaces between words: Chinese
/// characters, hiragana and katakana. Such text is split into overlapping
/// pairs of characters for search (`words::tokens`).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // hiragana, katakana
        | 0x31F0..=0x31FF // katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF66..=0xFF9F // half-width katakana
        | 0x20000..=0x2FA1F) // extensions B to F, compatibility supplement
}

/// The words of a folded text, as search splits them: runs of letters and
/// digits; within them, Chinese and Japanese script (written without
/// spaces) as overlapping pairs of characters, each run's last character
/// alone too, so that any part of it is found by the pairs it holds.
pub fn tokens(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).flat_map(|w| Pieces { rest: w }).map(|w| {
        match w.char_indices().nth(MAX_WORD) {
            Some((cut, _)) => &w[..cut],
            None => w,
        }
    })
}

/// The pieces of one run of letters and digits (`tokens`).
struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let first = self.rest.chars().next()?;
        if self.rest.is_ascii() {
            return Some(std::mem::take(&mut self.rest));
        }
        if !is_cjk(first) {
            // Up to the next Chinese or Japanese character.
            let end = self.rest.char_indices().find(|&(_, c)| is_cjk(c)).map_or(self.rest.len(), |(i, _)| i);
            let (piece, rest) = self.rest.split_at(end);
            self.rest = rest;
            return Some(piece);
        }
        let second = first.len_utf8();
        let end = match self.rest[second..].chars().next() {
            Some(c) if is_cjk(c) => second + c.len_utf8(),
            _ => second,
        };
        let piece = &self.rest[..end];
        self.rest = &self.rest[second..];
        Some(piece)
    }
}

impl std::fmt::Debug for WordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordIndex({} words, {} postings)", self.ends.len(), self.postings.len())
    }
}

impl WordIndex {
    /// Indexes `folded[i]` as video position `i`. Each word gets a number
    /// as first seen; the postings are then placed by counting (no list per
    /// word) and the vocabulary alone is sorted.
    pub fn build(folded: &super::texts::Texts) -> WordIndex {
        // About one new word a video (a number, a date, a name) is common
        // in large libraries: sized for that, the map is not rebuilt as it grows.
        let guess = folded.len();
        let mut numbers: HashMap<&str, u32, Xxh3Builder> = HashMap::with_capacity_and_hasher(guess, Xxh3Builder::new());
        let mut vocabulary: Vec<&str> = Vec::with_capacity(guess);
        // The last video each word was counted for: a word twice in one
        // path is listed once.
        let mut last: Vec<u32> = Vec::with_capacity(guess);
        let mut counts: Vec<u32> = Vec::with_capacity(guess);
        let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(folded.len() * 4);
        for (i, path) in folded.iter().enumerate() {
            let i = i as u32;
            for w in tokens(path) {
                let n = *numbers.entry(w).or_insert_with(|| {
                    vocabulary.push(w);
                    last.push(u32::MAX);
                    counts.push(0);
                    vocabulary.len() as u32 - 1
                });
                if last[n as usize] != i {
                    last[n as usize] = i;
                    counts[n as usize] += 1;
                    pairs.push((n, i));
                }
            }
        }
        drop((numbers, last));
        let mut sorted: Vec<u32> = (0..vocabulary.len() as u32).collect();
        sorted.sort_unstable_by_key(|&n| vocabulary[n as usize]);
        let mut index = WordIndex {
            text: String::with_capacity(vocabulary.iter().map(|w| w.len()).sum()),
            ends: Vec::with_capacity(vocabulary.len()),
            starts: Vec::with_capacity(vocabulary.len() + 1),
            postings: vec![0; pairs.len()],
        };
        // Where the next posting of each word goes.
        let mut next = vec![0u32; vocabulary.len()];
        index.starts.push(0);
        for &n in &sorted {
            index.text.push_str(vocabulary[n as usize]);
            index.ends.push(index.text.len() as u32);
            next[n as usize] = *index.starts.last().expect("starts begins with 0");
            index.starts.push(next[n as usize] + counts[n as usize]);
        }
        // Pairs come in video order, so each word's postings stay ascending.
        for (n, i) in pairs {
            index.postings[next[n as usize] as usize] = i;
            next[n as usize] += 1;
        }
        index
    }

    fn word(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text[start..self.ends[k] as usize]
    }

    /// The bytes of word `k`: for comparing, without the character
    /// boundary checks of slicing a `str` (a typo lookup makes thousands).
    fn bytes_of(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize };
        &self.text.as_bytes()[start..self.ends[k] as usize]
    }

    fn postings_of(&self, k: usize) -> &[u32] {
        &self.postings[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    /// The vocabulary words that begin with `w` (a run in sorted order).
    fn prefixed(&self, w: &str) -> Range<usize> {
        self.lower_bound(w)..self.lower_bound(&format!("{w}\u{10FFFF}"))
    }

    fn lower_bound(&self, w: &str) -> usize {
        self.first_in(0..self.ends.len(), |k| self.bytes_of(k) >= w.as_bytes())
    }

    /// How many postings the words beginning with `w` have (an upper bound
    /// of the videos it finds).
    pub fn count(&self, w: &str) -> usize {
        let r = self.prefixed(w);
        if r.is_empty() {
            return 0;
        }
        (self.starts[r.end] - self.starts[r.start]) as usize
    }

    /// The positions of videos with a word beginning with `w`, sorted.
    pub fn beginning(&self, w: &str) -> Vec<u32> {
        let r = self.prefixed(w);
        let mut out: Vec<u32> = r.flat_map(|k| self.postings_of(k).iter().copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The words (by number) one edit away from `w`; none for words
    /// shorter than `TYPO_FROM` or outside a–z, 0–9. Look them up once a
    /// query and pass them to `near_count` and `near_postings`.
    ///
    /// The edits at position `i` keep `w`'s first `i` letters, so they are
    /// looked for among the words beginning with them (`edits_at`), a run
    /// that narrows as `i` grows; once the run is short, its words are
    /// checked directly (which finds the edits at `i` and after).
    pub fn near_words(&self, w: &str) -> Vec<usize> {
        if w.len() < TYPO_FROM || w.len() > MAX_WORD || !w.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Vec::new();
        }
        const CHECK_BELOW: usize = 128;
        let mut found: Vec<usize> = Vec::new();
        let mut run = 0..self.ends.len();
        for i in 0..=w.len() {
            if run.len() < CHECK_BELOW {
                found.extend(run.filter(|&k| plain(self.word(k)) && one_edit(self.word(k), w)));
                break;
            }
            run = self.edits_at(run, w.as_bytes(), i, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Adds to `found` the words of `run` (all beginning with `w[..i]`)
    /// that are `w` edited at position `i`, and returns the words beginning
    /// with `w[..=i]` (the run for the next position).
    ///
    /// Each such word is `w[..i]`, a letter `c`, then a tail that depends on
    /// the edit. The run is walked by its letter at `i` (a binary search on
    /// one byte per group), and in each group only the tails that `c`
    /// allows are looked for, comparing from `i + 1` on.
    fn edits_at(&self, run: Range<usize>, w: &[u8], i: usize, found: &mut Vec<usize>) -> Range<usize> {
        let letter = |k: usize| self.bytes_of(k).get(i).copied();
        let mut k = run.start;
        if k < run.end && letter(k).is_none() {
            // `w[..i]` itself: `w` with its last letter dropped.
            if i + 1 == w.len() {
                found.push(k);
            }
            k += 1;
        }
        let mut next = run.end..run.end;
        let swapped: Vec<u8> = w.get(i).into_iter().chain(w.get(i + 2..).unwrap_or_default()).copied().collect();
        while let Some(c) = (k < run.end).then(|| letter(k)).flatten() {
            let group = k..self.first_in(k..run.end, |j| letter(j) > Some(c));
            k = group.end;
            if w.get(i) == Some(&c) {
                next = group.clone();
            }
            if !(c.is_ascii_lowercase() || c.is_ascii_digit()) {
                continue;
            }
            let mut look = |tail: &[u8]| found.extend(self.tail_in(group.clone(), i + 1, tail));
            if i < w.len() && w[i] != c {
                look(&w[i + 1..]); // `w[i]` changed to `c`
            }
            look(&w[i..]); // `c` put before `w[i]`
            if w.get(i + 1) == Some(&c) {
                look(&w[i + 2..]); // `w[i]` dropped
                if w[i] != c {
                    look(&swapped); // `w[i]` and `w[i + 1]` swapped
                }
            }
        }
        next
    }

    /// The word of `group` whose bytes from `from` on are `tail` (all its
    /// words are longer than `from` and agree before it).
    fn tail_in(&self, group: Range<usize>, from: usize, tail: &[u8]) -> Option<usize> {
        let rest = |k: usize| &self.bytes_of(k)[from..];
        let k = self.first_in(group.clone(), |k| rest(k) >= tail);
        (k < group.end && rest(k) == tail).then_some(k)
    }

    /// The first `k` of `run` for which `past` holds (`past` false, then true).
    fn first_in(&self, run: Range<usize>, past: impl Fn(usize) -> bool) -> usize {
        let (mut lo, mut hi) = (run.start, run.end);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if past(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// How many postings the words `near` (from `near_words`) have.
    pub fn near_count(&self, near: &[usize]) -> usize {
        near.iter().map(|&k| self.postings_of(k).len()).sum()
    }

    /// The positions of videos with one of the words `near`, sorted.
    pub fn near_postings(&self, near: &[usize]) -> Vec<u32> {
        let mut out: Vec<u32> = near.iter().flat_map(|&k| self.postings_of(k).iter().copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The positions of videos with a word one edit away from `w`, sorted.
    pub fn near(&self, w: &str) -> Vec<u32> {
        self.near_postings(&self.near_words(w))
    }

    /// Words in the vocabulary.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.text.len() + 4 * (self.ends.len() + self.starts.len() + self.postings.len())
    }
}

/// Whether `a` is one edit from `b` (a letter dropped, added, changed, or
/// two neighbours swapped), for words of `TYPO_FROM` letters or more.
pub fn one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if b.len() < TYPO_FROM || a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[head..], &b[head..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Less => ra == &rb[1..],
        std::cmp::Ordering::Greater => &ra[1..] == rb,
    }
}

/// Whether a vocabulary word is made of the letters typos are looked for
/// in (a–z, 0–9).
fn plain(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(paths: &[&str]) -> WordIndex {
        WordIndex::build(&paths.iter().collect())
    }

    #[test]
    fn finds_words_by_their_beginning_and_one_edit_away() {
        let i = index(&["trips/beach day.mp4", "trips/2019/cats.mkv", "cat videos/concatenate.mp4", "beach/beach.mp4"]);
        assert_eq!(i.beginning("cat"), [1, 2]);
        assert_eq!(i.beginning("beach"), [0, 3]);
        assert_eq!(i.beginning("trips"), [0, 1]);
        assert!(i.beginning("zebra").is_empty());
        assert!(i.beginning("each").is_empty(), "words are found by their beginning");
        assert_eq!(i.near("baech"), [0, 3], "two letters swapped");
        assert_eq!(i.near("bech"), [0, 3], "a letter dropped");
        assert_eq!(i.near("beachh"), [0, 3], "a letter added");
        assert_eq!(i.near("beack"), [0, 3], "a letter changed");
        assert!(i.near("bch").is_empty(), "too short to guess");
        assert_eq!(i.count("cat"), 2);
        assert_eq!(i.len(), 10);
    }

    #[test]
    fn one_edit_away() {
        assert!(one_edit("beach", "baech") && one_edit("bech", "beach") && one_edit("beachh", "beach"));
        assert!(one_edit("beack", "beach") && !one_edit("beach", "beach") && !one_edit("bxxch", "beach"));
        assert!(!one_edit("cat", "cut"), "too short");
        assert!(!one_edit("abcdef", "abcd"));
    }

    #[test]
    fn empty_and_odd_input() {
        let i = index(&[]);
        assert!(i.beginning("a").is_empty() && i.near("abcd").is_empty() && i.is_empty());
        let i = index(&["ünï/日本語 映画.mkv", "", "---"]);
        assert_eq!(i.beginning("日本"), [0]);
        assert!(i.near("日本語映").is_empty());
    }

    /// The narrowing runs find exactly the words one edit away: compared
    /// with checking every word, on vocabularies large enough to narrow.
    #[test]
    fn near_words_are_every_word_one_edit_away() {
        let mut rng = fastrand::Rng::with_seed(7);
        let letters = b"abc01";
        let word = |rng: &mut fastrand::Rng| -> String {
            (0..rng.usize(3..8)).map(|_| letters[rng.usize(..letters.len())] as char).collect()
        };
        let mut paths: Vec<String> = (0..3000).map(|_| format!("{} {}", word(&mut rng), word(&mut rng))).collect();
        paths.push("caf\u{e9}s abca".into());
        let idx = WordIndex::build(&paths.iter().collect());
        let all: Vec<usize> = (0..idx.len()).collect();
        for _ in 0..400 {
            let w = word(&mut rng);
            let expected: Vec<usize> =
                all.iter().copied().filter(|&k| plain(idx.word(k)) && one_edit(idx.word(k), &w)).collect();
            assert_eq!(idx.near_words(&w), expected, "{w}");
        }
    }
}
