//! Many strings in one allocation, by number: the catalog's folded paths
//! cost their bytes and one offset each, not a heap block (and its header
//! and slack) per video.

/// The strings pushed, in order; `get(i)` is the `i`-th.
#[derive(Debug, Default)]
pub struct Texts {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
}

impl Texts {
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }

    /// The `i`-th string (panics past the end, like indexing a slice).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Adds the strings of `other` after these, in order.
    pub fn append(&mut self, other: &Texts) {
        let offset = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| end + offset));
    }

    /// Gives back spare capacity (after the last push).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl<S: AsRef<str>> FromIterator<S> for Texts {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut texts = Texts::default();
        for s in iter {
            texts.push(s.as_ref());
        }
        texts.shrink_to_fit();
        texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_strings_follow_in_order() {
        let mut a: Texts = ["one", "", "two"].into_iter().collect();
        let b: Texts = ["three", "four"].into_iter().collect();
        a.append(&b);
        a.append(&Texts::default());
        assert_eq!(a.iter().collect::<Vec<_>>(), ["one", "", "two", "three", "four"]);
    }

    #[test]
    fn strings_come_back_by_number() {
        let t: Texts = ["a/b.mp4", "", "ünïcode/c.mkv"].into_iter().collect();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(0), "a/b.mp4");
        assert_eq!(t.get(1), "");
        assert_eq!(t.get(2), "ünïcode/c.mkv");
        assert_eq!(t.iter().collect::<Vec<_>>(), ["a/b.mp4", "", "ünïcode/c.mkv"]);
        assert!(Texts::default().is_empty());
    }
}
