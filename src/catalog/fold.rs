//! Text folding for search: lowercase, accents removed, and letters that do
//! not decompose (ø, ł, đ, ß, æ, …) transliterated, so that a query typed on
//! any keyboard finds the name as written.

use deunicode::deunicode_char;

use super::words::is_cjk;

/// Words of a query looked at, at most.
pub const MAX_WORDS: usize = 12;

/// Folds `s` for comparison: ASCII lowercase; each other letter or digit
/// replaced by its transliteration when that is plain ASCII letters or
/// digits (`é` → `e`, `ø` → `o`, `ß` → `ss`, Hangul syllables too);
/// combining marks dropped; anything else (Chinese and Japanese script,
/// written without spaces and searched by pairs of characters, and
/// symbols) kept, lowercased, so such names stay searchable as written.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        match deunicode_char(c) {
            // Only letters and digits are transliterated; punctuation and
            // symbols stay themselves (they separate words).
            Some(t)
                if c.is_alphanumeric()
                    && !is_cjk(c)
                    && !t.is_empty()
                    && t.chars().all(|x| x.is_ascii_alphanumeric()) =>
            {
                out.extend(t.chars().map(|x| x.to_ascii_lowercase()))
            }
            _ if unicode_normalization::char::is_combining_mark(c) => {}
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// A sort key of folded text in which runs of digits compare as numbers
/// (`clip 2` before `clip 10`, `s01e02` with `s1e2`): each run, without
/// its leading zeros, is led by a mark and its length, which sort before
/// any letter, so a shorter number comes first.
pub fn natural(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() + 4);
    let mut rest = folded;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
        let digits = run[..end].trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        out.push('\u{1}');
        // A length past the mark's range compares as the longest (such
        // numbers are rare and then keep their digits' order).
        out.push(char::from(digits.len().min(0x7e) as u8 + 1));
        out.push_str(digits);
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// The words of a query, folded, split as the search index splits text.
pub fn words(q: &str) -> Vec<String> {
    super::words::tokens(&fold(q)).take(MAX_WORDS).map(String::from).collect()
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
    fn folds_letters_that_do_not_decompose() {
        assert_eq!(fold("Ærøskøbing"), "aeroskobing");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Đakovo"), "dakovo");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(words("Smørrebrød, Œuvre"), ["smorrebrod", "oeuvre"]);
        // Decomposed input (e + combining acute) folds like composed input.
        assert_eq!(fold("Cafe\u{301}"), "cafe");
    }

    #[test]
    fn numbers_compare_as_numbers() {
        let mut names = ["clip 10", "clip 2", "clip 1b", "clip", "s01e10", "s1e2", "a", "2 fast", "clip 007"];
        names.sort_by_key(|n| natural(n));
        assert_eq!(names, ["2 fast", "a", "clip", "clip 1b", "clip 2", "clip 007", "clip 10", "s1e2", "s01e10"]);
        assert_eq!(natural("s01e02"), natural("s1e2"));
        assert_eq!(natural("x 000"), natural("x 0"));
    }

    #[test]
    fn chinese_and_japanese_are_searched_by_pairs_of_characters() {
        assert_eq!(fold("新しいアニメ"), "新しいアニメ");
        assert_eq!(words("アニメ"), ["アニ", "ニメ", "メ"]);
        assert_eq!(words("Ep1 新作アニメ!"), ["ep1", "新作", "作ア", "アニ", "ニメ", "メ"]);
        assert_eq!(words("第2話"), ["第", "2", "話"]);
    }
}
