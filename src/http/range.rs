//! `Range` header parsing per RFC 9110 §14: pure, no I/O.
//!
//! Rules kept here: a header that does not parse, or uses a unit other than
//! `bytes`, is ignored (full response); satisfiable ranges are kept in the
//! order asked; if none is satisfiable the answer is 416; a suffix longer
//! than the file means the whole file; more than `MAX_RANGES` ranges is
//! answered with the whole file (a server may ignore `Range`). Ranges that
//! overlap or touch are coalesced (in file order, as RFC 9110 §14.2
//! allows), so a response is never larger than the file plus at most
//! `MAX_RANGES` part headers, however the ranges repeat.

/// Half-open byte range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    /// The `Content-Range` value for a file of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end - 1, total)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Send the whole representation (200).
    Full,
    /// Send these ranges (206); never empty.
    Partial(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

pub const MAX_RANGES: usize = 32;

pub fn parse_range(header: &str, len: u64) -> RangeOutcome {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeOutcome::Full;
    };
    let mut ranges = Vec::new();
    let mut count = 0;
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue; // RFC 9110 allows empty list elements
        }
        count += 1;
        if count > MAX_RANGES {
            return RangeOutcome::Full;
        }
        let Some((first, last)) = part.split_once('-') else {
            return RangeOutcome::Full;
        };
        let (first, last) = (first.trim(), last.trim());
        let range = if first.is_empty() {
            // suffix: the last N bytes
            let Some(n) = digits(last) else { return RangeOutcome::Full };
            (n > 0 && len > 0).then(|| ByteRange { start: len.saturating_sub(n), end: len })
        } else {
            let Some(start) = digits(first) else { return RangeOutcome::Full };
            let end = if last.is_empty() {
                len
            } else {
                let Some(last) = digits(last) else { return RangeOutcome::Full };
                if last < start {
                    return RangeOutcome::Full; // invalid: the whole header is ignored
                }
                last.saturating_add(1).min(len)
            };
            (start < len).then_some(ByteRange { start, end })
        };
        ranges.extend(range);
    }
    if count == 0 {
        RangeOutcome::Full
    } else if ranges.is_empty() {
        RangeOutcome::Unsatisfiable
    } else {
        RangeOutcome::Partial(coalesce(ranges))
    }
}

/// Merges ranges that overlap or touch; keeps the order asked when none do.
fn coalesce(mut ranges: Vec<ByteRange>) -> Vec<ByteRange> {
    let mut sorted = ranges.clone();
    sorted.sort_by_key(|r| r.start);
    let close = sorted.windows(2).any(|w| w[1].start <= w[0].end);
    if !close {
        return ranges;
    }
    ranges.clear();
    for r in sorted {
        match ranges.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => ranges.push(r),
        }
    }
    ranges
}

/// Only ASCII digits (no sign, no spaces inside), within u64.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::{Full, Partial, Unsatisfiable};
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn table() {
        let cases: &[(&str, u64, RangeOutcome)] = &[
            ("bytes=0-0", 100, Partial(vec![r(0, 1)])),
            ("bytes=10-19", 100, Partial(vec![r(10, 20)])),
            ("bytes=90-", 100, Partial(vec![r(90, 100)])),
            ("bytes=-10", 100, Partial(vec![r(90, 100)])),
            ("bytes=-1000", 100, Partial(vec![r(0, 100)])),
            ("bytes=50-1000", 100, Partial(vec![r(50, 100)])),
            ("bytes=0-1,5-6", 100, Partial(vec![r(0, 2), r(5, 7)])),
            ("bytes= 0-1 , ,-2", 100, Partial(vec![r(0, 2), r(98, 100)])),
            ("bytes=100-", 100, Unsatisfiable),
            ("bytes=100-200", 100, Unsatisfiable),
            ("bytes=-0", 100, Unsatisfiable),
            ("bytes=0-0", 0, Unsatisfiable),
            ("bytes=-5", 0, Unsatisfiable),
            ("bytes=200-300,5-6", 100, Partial(vec![r(5, 7)])),
            ("bytes=5-4", 100, Full),
            ("bytes=a-b", 100, Full),
            ("bytes=+1-2", 100, Full),
            ("bytes=1", 100, Full),
            ("bytes=", 100, Full),
            ("items=0-1", 100, Full),
            ("", 100, Full),
            ("bytes=99999999999999999999999-", 100, Full),
        ];
        for (h, len, want) in cases {
            assert_eq!(&parse_range(h, *len), want, "{h:?} of {len}");
        }
    }

    #[test]
    fn beyond_four_gib() {
        let len = 5 * 1024 * 1024 * 1024u64;
        assert_eq!(parse_range("bytes=4294967296-4294967305", len), Partial(vec![r(4_294_967_296, 4_294_967_306)]));
        assert_eq!(parse_range("bytes=-1", len), Partial(vec![r(len - 1, len)]));
        assert_eq!(r(len - 1, len).content_range(len), format!("bytes {}-{}/{}", len - 1, len - 1, len));
    }

    #[test]
    fn too_many_ranges_gives_the_whole_file() {
        let many = (0..=MAX_RANGES).map(|i| format!("{i}-{i}")).collect::<Vec<_>>().join(",");
        assert_eq!(parse_range(&format!("bytes={many}"), 1000), Full);
    }

    #[test]
    fn overlapping_and_repeated_ranges_are_coalesced() {
        let r = |start, end| ByteRange { start, end };
        assert_eq!(parse_range("bytes=0-,0-,0-,0-", 1000), Partial(vec![r(0, 1000)]));
        assert_eq!(parse_range("bytes=500-599,0-99,550-700", 1000), Partial(vec![r(0, 100), r(500, 701)]));
        assert_eq!(parse_range("bytes=0-9,10-29", 1000), Partial(vec![r(0, 30)]), "touching");
        assert_eq!(parse_range("bytes=900-999,0-9", 1000), Partial(vec![r(900, 1000), r(0, 10)]), "order kept");
        let many = (0..MAX_RANGES).map(|_| "-1000").collect::<Vec<_>>().join(",");
        assert_eq!(parse_range(&format!("bytes={many}"), 1000), Partial(vec![r(0, 1000)]));
    }
}
