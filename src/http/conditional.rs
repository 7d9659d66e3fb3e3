//! Conditional and range requests (RFC 9110 §13.1, §13.2.2, §14), once for
//! every response that carries a validator: a video's bytes, its remuxed
//! stream, thumbnails, preview strips, subtitles and API lists.
//!
//! Order of evaluation: If-Match, else If-Unmodified-Since (412);
//! If-None-Match, else If-Modified-Since (304); then, for a resource with
//! ranges, If-Range and Range. Pure: headers and validators in, a decision
//! out; the handler makes the response.

use std::time::SystemTime;

use hyper::header::{
    HeaderMap, HeaderValue, ETAG, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE,
    LAST_MODIFIED, RANGE,
};

use super::range::{parse_range, ByteRange, RangeOutcome};

/// What identifies one version of a representation.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// An entity tag, quotes included; weak when it starts with `W/`.
    pub etag: &'a str,
    /// When it last changed (whole seconds count), if that is known.
    pub modified: Option<SystemTime>,
}

/// What to answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// 304: the client's copy is current.
    NotModified,
    /// 412: a precondition of the client's failed.
    PreconditionFailed,
    /// 200 with the whole representation.
    Full,
    /// 206 with these ranges (in the order asked, overlaps coalesced).
    Ranges(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */LEN`.
    Unsatisfiable,
}

/// Decides a GET or HEAD of a representation with validators `v`; `len`
/// is its length when it answers ranges (`None`: whole bodies only).
pub fn evaluate(h: &HeaderMap, v: &Validators, len: Option<u64>) -> Answer {
    let date = |name| text(h, name).and_then(|t| httpdate::parse_http_date(t).ok());
    let modified = v.modified.map(whole_seconds);
    if let Some(list) = joined(h, IF_MATCH) {
        if !list_matches(&list, v.etag, Compare::Strong) {
            return Answer::PreconditionFailed;
        }
    } else if let (Some(since), Some(m)) = (date(IF_UNMODIFIED_SINCE), modified) {
        if m > since {
            return Answer::PreconditionFailed;
        }
    }
    if let Some(list) = joined(h, IF_NONE_MATCH) {
        if list_matches(&list, v.etag, Compare::Weak) {
            return Answer::NotModified;
        }
    } else if let (Some(since), Some(m)) = (date(IF_MODIFIED_SINCE), modified) {
        if m <= since {
            return Answer::NotModified;
        }
    }
    let Some(len) = len else { return Answer::Full };
    let Some(range) = text(h, RANGE) else { return Answer::Full };
    if let Some(cond) = h.get(IF_RANGE) {
        if !if_range_matches(cond, v) {
            return Answer::Full;
        }
    }
    match parse_range(range, len) {
        RangeOutcome::Full => Answer::Full,
        RangeOutcome::Unsatisfiable => Answer::Unsatisfiable,
        RangeOutcome::Partial(ranges) => Answer::Ranges(ranges),
    }
}

/// Whether the client's copy of a whole body tagged `etag` is current
/// (304), for bodies without ranges or dates (lists, images, subtitles).
pub fn unchanged(h: &HeaderMap, etag: &str) -> bool {
    evaluate(h, &Validators { etag, modified: None }, None) == Answer::NotModified
}

/// Adds the validators to a response's headers (`ETag`, `Last-Modified`).
pub fn add_validators(h: &mut HeaderMap, v: &Validators) {
    if let Ok(tag) = HeaderValue::from_str(v.etag) {
        h.insert(ETAG, tag);
    }
    if let Some(m) = v.modified {
        h.insert(LAST_MODIFIED, HeaderValue::from_str(&httpdate::fmt_http_date(m)).expect("an HTTP date is ASCII"));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// Both tags strong and equal (If-Match, If-Range).
    Strong,
    /// Equal once `W/` is set aside (If-None-Match).
    Weak,
}

fn text(h: &HeaderMap, name: hyper::header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Every line of a list header, joined (a list may come in several lines).
fn joined(h: &HeaderMap, name: hyper::header::HeaderName) -> Option<String> {
    let mut lines = h.get_all(name).iter().filter_map(|v| v.to_str().ok()).peekable();
    lines.peek()?;
    Some(lines.collect::<Vec<_>>().join(","))
}

/// `*` or a comma-separated list of entity tags holding `ours`.
fn list_matches(list: &str, ours: &str, how: Compare) -> bool {
    let ours_weak = ours.starts_with("W/");
    let bare_ours = ours.trim_start_matches("W/");
    list.trim() == "*"
        || list.split(',').map(str::trim).any(|t| {
            let weak = t.starts_with("W/");
            let bare = t.trim_start_matches("W/");
            match how {
                Compare::Strong => !weak && !ours_weak && bare == bare_ours,
                Compare::Weak => bare == bare_ours,
            }
        })
}

/// `If-Range` with an entity tag needs a strong match; with a date, an
/// exact match of `Last-Modified` (a date is never a strong validator of
/// a representation without one).
fn if_range_matches(cond: &HeaderValue, v: &Validators) -> bool {
    let Ok(cond) = cond.to_str() else { return false };
    let cond = cond.trim();
    if cond.starts_with('"') || cond.starts_with("W/") {
        list_matches(cond, v.etag, Compare::Strong) && !cond.contains(',')
    } else {
        match (httpdate::parse_http_date(cond), v.modified) {
            (Ok(d), Some(m)) => d == whole_seconds(m),
            _ => false,
        }
    }
}

/// HTTP dates have whole seconds: compare at that precision.
fn whole_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(d.as_secs()),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TAG: &str = "\"abc\"";

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn ask(pairs: &[(&str, &str)], v: Validators, len: Option<u64>) -> Answer {
        let mut h = HeaderMap::new();
        for (k, val) in pairs {
            h.append(hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(val).unwrap());
        }
        evaluate(&h, &v, len)
    }

    #[test]
    fn preconditions_in_the_rfcs_order() {
        let v = Validators { etag: TAG, modified: Some(at(1_000_000)) };
        let date = |s| httpdate::fmt_http_date(at(s));
        assert_eq!(ask(&[], v, Some(10)), Answer::Full);
        assert_eq!(ask(&[("if-match", "\"x\"")], v, Some(10)), Answer::PreconditionFailed);
        assert_eq!(ask(&[("if-match", "\"x\", \"abc\"")], v, Some(10)), Answer::Full);
        assert_eq!(ask(&[("if-match", "W/\"abc\"")], v, Some(10)), Answer::PreconditionFailed, "strong");
        // If-Match wins over If-Unmodified-Since.
        assert_eq!(ask(&[("if-match", "*"), ("if-unmodified-since", &date(5))], v, Some(10)), Answer::Full);
        assert_eq!(ask(&[("if-unmodified-since", &date(5))], v, Some(10)), Answer::PreconditionFailed);
        assert_eq!(ask(&[("if-none-match", "W/\"abc\"")], v, Some(10)), Answer::NotModified, "weak");
        assert_eq!(ask(&[("if-none-match", "\"x\""), ("if-none-match", "\"abc\"")], v, None), Answer::NotModified);
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(ask(&[("if-none-match", "\"x\""), ("if-modified-since", &date(2_000_000))], v, None), Answer::Full);
        assert_eq!(ask(&[("if-modified-since", &date(1_000_000))], v, None), Answer::NotModified);
        assert_eq!(ask(&[("if-modified-since", &date(999_999))], v, None), Answer::Full);
        // Sub-second modification times compare as whole seconds.
        let fine = Validators { etag: TAG, modified: Some(at(1_000_000) + Duration::from_millis(700)) };
        assert_eq!(ask(&[("if-modified-since", &date(1_000_000))], fine, None), Answer::NotModified);
        // Without a date, date conditions are ignored.
        let no_date = Validators { etag: TAG, modified: None };
        assert_eq!(ask(&[("if-modified-since", &date(2_000_000))], no_date, None), Answer::Full);
    }

    #[test]
    fn ranges_and_if_range() {
        let v = Validators { etag: TAG, modified: Some(at(1_000_000)) };
        let date = httpdate::fmt_http_date(at(1_000_000));
        let first = |a: Answer| match a {
            Answer::Ranges(r) => (r[0].start, r[0].end),
            other => panic!("{other:?}"),
        };
        assert_eq!(first(ask(&[("range", "bytes=-3")], v, Some(10))), (7, 10));
        assert_eq!(ask(&[("range", "bytes=20-")], v, Some(10)), Answer::Unsatisfiable);
        assert_eq!(ask(&[("range", "bytes=0-1")], v, None), Answer::Full, "no ranges here");
        assert_eq!(first(ask(&[("range", "bytes=0-1"), ("if-range", TAG)], v, Some(10))), (0, 2));
        assert_eq!(first(ask(&[("range", "bytes=0-1"), ("if-range", &date)], v, Some(10))), (0, 2));
        assert_eq!(ask(&[("range", "bytes=0-1"), ("if-range", "\"old\"")], v, Some(10)), Answer::Full);
        assert_eq!(ask(&[("range", "bytes=0-1"), ("if-range", "W/\"abc\"")], v, Some(10)), Answer::Full);
        let weak = Validators { etag: "W/\"abc\"", modified: None };
        assert_eq!(ask(&[("range", "bytes=0-1"), ("if-range", "W/\"abc\"")], weak, Some(10)), Answer::Full);
        assert_eq!(ask(&[("range", "bytes=0-1"), ("if-range", &date)], weak, Some(10)), Answer::Full);
    }
}
