//! HTML pages rendered with maud: a view struct in, `Markup` out. Pages do
//! no I/O, and nothing a user or a file name controls is ever `PreEscaped`.

pub mod accounts;
pub mod admin;
pub mod error;
pub mod folders;
pub mod gallery;
pub mod layout;
pub mod login;
pub mod player;
pub mod playlists;
pub mod series;
pub mod tags;
pub mod watch;

/// Text escaped as maud escapes it (`&`, `<`, `>`, `"`), a run of plain
/// bytes at a time rather than a byte at a time: a gallery page escapes
/// each card's title eight times.
pub struct Text<'a>(pub &'a str);

impl maud::Render for Text<'_> {
    fn render_to(&self, out: &mut String) {
        let mut plain = 0;
        for (i, b) in self.0.bytes().enumerate() {
            let with = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => continue,
            };
            out.push_str(&self.0[plain..i]);
            out.push_str(with);
            plain = i + 1;
        }
        out.push_str(&self.0[plain..]);
    }
}

/// A video id as it is printed: hex digits, nothing to escape.
impl maud::Render for crate::library::ids::VideoId {
    fn render_to(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "{self}");
    }
}

/// A video's length, `1:02:03` or `4:05`, to the nearest second (59.96 s
/// is `1:00`, as a player shows it once it has the stream).
pub fn duration(ms: u64) -> String {
    clock(ms.saturating_add(500))
}

/// A moment of a video (a chapter's start), `1:02:03` or `4:05`: the
/// second it is in.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `4 Jul 2019` (UTC), for seconds since 1970.
pub fn day(unix: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!("{} {} {}", t.day(), MONTHS[usize::from(u8::from(t.month())) - 1], t.year()),
        Err(_) => String::new(),
    }
}

/// `512 B`, `1.5 MB`, `4.2 GB` (decimal units, as file managers show).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::duration(0), "0:00");
        assert_eq!(super::duration(65_432), "1:05");
        assert_eq!(super::duration(59_960), "1:00");
        assert_eq!(super::clock(59_960), "0:59");
        assert_eq!(super::duration(3_723_000), "1:02:03");
        assert_eq!(super::size(999), "999 B");
        assert_eq!(super::size(1_500_000), "1.5 MB");
        assert_eq!(super::size(5_368_709_120), "5.4 GB");
    }

    #[test]
    fn text_is_escaped_as_maud_escapes_it() {
        for s in ["", "plain", "<b>\"x\" & 'y'</b>", "é&", "&&<<>>\"\"", "ends with <"] {
            let ours = maud::html! { (super::Text(s)) }.into_string();
            let theirs = maud::html! { (s) }.into_string();
            assert_eq!(ours, theirs, "{s}");
        }
    }
}
