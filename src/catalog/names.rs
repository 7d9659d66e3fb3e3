//! What a file's path says it is: an episode of a series (`Show S01E02`,
//! `Show 1x02`, `Show/Season 1/02 - Title`), a film with its year
//! (`Film (1987)`, `Film.1987.1080p.BluRay`, `Film (1987)/film.mkv`), or
//! neither (home videos, clips; a date in the name still gives a year).
//! Pure and quick: run over every video when the catalog's series
//! (`series`) is built, and over the few on a page when they are shown.

/// What a path was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Episode(Episode),
    Film(Film),
    /// Neither; with the year of a date in its name (`2023-05-12 Beach`,
    /// `VID_20230512_…`) when there is one.
    Other(Option<u16>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    /// The series' name as shown, without its year.
    pub show: String,
    /// The series' year when its name carries one (`Doctor Who (2005)`).
    pub year: Option<u16>,
    /// From the folder when the series has one (it names the series
    /// better than a file name does).
    pub from_folder: bool,
    /// 0: specials.
    pub season: u16,
    /// 0: not numbered (a file in a season's folder with no number).
    pub episode: u16,
    /// The last episode of a file holding several (`S01E01-E02`).
    pub last: Option<u16>,
    /// The episode's own title, when the name has one.
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Film {
    pub title: String,
    pub year: u16,
}

impl Kind {
    /// The year people would file it under: a film's, a series', or a
    /// date's in the name.
    pub fn year(&self) -> Option<u16> {
        match self {
            Kind::Episode(e) => e.year,
            Kind::Film(f) => Some(f.year),
            Kind::Other(y) => *y,
        }
    }
}

impl Episode {
    /// The series as shown: `Doctor Who (2005)`, or its name alone.
    pub fn series(&self) -> String {
        match self.year {
            Some(y) => format!("{} ({y})", self.show),
            None => self.show.clone(),
        }
    }

    /// The key its series is grouped by (`key` of `series`).
    pub fn series_key(&self) -> String {
        key(&self.series())
    }

    /// `S1 E2`, `S1 E2–3`, `Special 4`.
    pub fn label(&self) -> String {
        let range = match self.last {
            Some(l) => format!("{}–{l}", self.episode),
            None => self.episode.to_string(),
        };
        match (self.season, self.episode) {
            (0, 0) => "Special".into(),
            (0, _) => format!("Special {range}"),
            (s, 0) => format!("Season {s}"),
            (s, _) => format!("S{s} E{range}"),
        }
    }
}

/// Earliest year taken as a film's.
const FIRST_YEAR: u16 = 1888;

/// What `rel` (a path below a video folder, `/`-separated) is, with
/// years after `this_year + 1` not taken as years (`Blade Runner 2049`).
pub fn recognise(rel: &str, this_year: u16) -> Kind {
    let mut parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let Some(file) = parts.pop() else { return Kind::Other(None) };
    let stem = file.rsplit_once('.').map_or(file, |(s, ext)| if ext.len() <= 5 { s } else { file });
    let latest = this_year.saturating_add(1);
    let dated = date_year(stem, latest);
    // A season's folder names the series above it.
    let season_folder = parts.last().and_then(|p| season_of_folder(p));
    let show_folder = match season_folder {
        Some(_) if parts.len() >= 2 => Some(parts[parts.len() - 2]),
        Some(_) => None,
        None => parts.last().copied(),
    };
    if let Some(m) = episode_marker(stem) {
        let before = clean(&stem[..m.start]);
        let from_stem = (!before.is_empty()).then_some(before);
        let folder_name = show_folder.map(clean).filter(|f| !f.is_empty());
        // The folder names the series when the file is in a season's
        // folder, when the file does not name it, or when both say the
        // same (the folder is usually better written).
        let (show, from_folder) = match (from_stem, folder_name) {
            (_, Some(f)) if season_folder.is_some() => (f, true),
            (None, Some(f)) => (f, true),
            (Some(s), Some(f)) if same_name(&s, &f, latest) => (f, true),
            (Some(s), _) => (s, false),
            (None, None) => return Kind::Other(dated),
        };
        let (show, year) = strip_year(&show, latest);
        // A name of symbols alone names nothing one could link to.
        if key(&show).is_empty() {
            return Kind::Other(dated);
        }
        let title = episode_title(&stem[m.end..]);
        return Kind::Episode(Episode {
            show,
            year,
            from_folder,
            season: m.season,
            episode: m.episode,
            last: m.last,
            title,
        });
    }
    if let (Some(season), Some(folder)) = (season_folder, show_folder) {
        let (show, year) = strip_year(&clean(folder), latest);
        if !key(&show).is_empty() {
            let (episode, title) = numbered(stem);
            return Kind::Episode(Episode { show, year, from_folder: true, season, episode, last: None, title });
        }
    }
    // `[Group] Show - 01 (1080p) [ABCD1234]`, as fansubs name episodes.
    if let Some((show, episode, title)) = tagged(stem).filter(|(show, _, _)| !key(show).is_empty()) {
        let (show, year) = strip_year(&show, latest);
        return Kind::Episode(Episode { show, year, from_folder: false, season: 1, episode, last: None, title });
    }
    // `Cowboy Bebop/Cowboy Bebop - 01 - Asteroid Blues`: numbered
    // from the start, in a folder of the series' name.
    if let Some(folder) = parts.last().filter(|_| dated.is_none()) {
        if let Some((episode, title)) = absolute(stem, folder) {
            let (show, year) = strip_year(&clean(folder), latest);
            return Kind::Episode(Episode { show, year, from_folder: true, season: 1, episode, last: None, title });
        }
    }
    if dated.is_some() {
        return Kind::Other(dated);
    }
    if let Some((film, bare)) = film(stem, latest) {
        // `Birthday 2024`, `Christmas 2019`: a year alone after a name is
        // how people name home videos, unless the file is among films.
        if bare && !parts.iter().any(|p| films_folder(p)) {
            return Kind::Other(Some(film.year));
        }
        return Kind::Film(film);
    }
    // `Film (1987)/film.mkv`: a folder whose name says film and year (in
    // brackets, as people and tools name them).
    if let Some((f, _)) = parts.last().and_then(|p| film(p, latest)).filter(|_| bracketed_year(parts[parts.len() - 1]))
    {
        return Kind::Film(f);
    }
    Kind::Other(None)
}

/// The key a series is grouped by (and named by in links): its folded
/// words joined by `-` (`The Office (US)` → `the-office-us`).
pub fn key(name: &str) -> String {
    let folded = super::fold::fold(name);
    let mut out = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    out
}

/// Whether a file's and a folder's names of a series are the same, with
/// or without a year on either (`Breaking.Bad` in `Breaking Bad (2008)`).
fn same_name(file: &str, folder: &str, latest: u16) -> bool {
    let bare = |n: &str| key(&strip_year(n, latest).0);
    key(file) == key(folder) || bare(file) == bare(folder)
}

/// Where an episode marker was found, and what it says.
struct Marker {
    start: usize,
    end: usize,
    season: u16,
    episode: u16,
    last: Option<u16>,
}

/// Digits at the start of `s`: (value, how many), at most `max` of them.
fn digits(s: &[u8], max: usize) -> Option<(u16, usize)> {
    let n = s.iter().take(max + 1).take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > max {
        return None;
    }
    std::str::from_utf8(&s[..n]).ok()?.parse().ok().map(|v| (v, n))
}

fn boundary_before(b: &[u8], i: usize) -> bool {
    i == 0 || !b[i - 1].is_ascii_alphanumeric()
}

fn boundary_at(b: &[u8], i: usize) -> bool {
    i >= b.len() || !b[i].is_ascii_alphanumeric()
}

/// The first `S01E02` (`s1e2`, `S01.E02`, `S01E01-E02`, `S01E01E02`) or
/// `1x02` in `stem`.
fn episode_marker(stem: &str) -> Option<Marker> {
    let b = stem.as_bytes();
    for i in 0..b.len() {
        if !boundary_before(b, i) {
            continue;
        }
        if let Some(m) = sxxexx(b, i) {
            return Some(m);
        }
        if let Some(m) = nxnn(b, i) {
            return Some(m);
        }
    }
    None
}

fn sxxexx(b: &[u8], i: usize) -> Option<Marker> {
    if !b[i].eq_ignore_ascii_case(&b's') {
        return None;
    }
    let (season, n) = digits(&b[i + 1..], 4)?;
    let mut j = i + 1 + n;
    if j < b.len() && matches!(b[j], b'.' | b' ' | b'_' | b'-') {
        j += 1;
    }
    if j >= b.len() || !b[j].eq_ignore_ascii_case(&b'e') {
        return None;
    }
    let (episode, n) = digits(&b[j + 1..], 4)?;
    j += 1 + n;
    // A second episode in the same file: `E02`, `-E02`, `-02`.
    let mut last = None;
    let mut k = j;
    if k < b.len() && b[k] == b'-' {
        k += 1;
    }
    if k < b.len() && b[k].eq_ignore_ascii_case(&b'e') {
        k += 1;
    }
    if k > j {
        if let Some((l, n)) = digits(&b[k..], 3).filter(|&(l, n)| l > episode && boundary_at(b, k + n)) {
            last = Some(l);
            j = k + n;
        }
    }
    boundary_at(b, j).then_some(Marker { start: i, end: j, season, episode, last })
}

fn nxnn(b: &[u8], i: usize) -> Option<Marker> {
    let (season, n) = digits(&b[i..], 2)?;
    let x = i + n;
    if x >= b.len() || !b[x].eq_ignore_ascii_case(&b'x') {
        return None;
    }
    let (episode, n) = digits(&b[x + 1..], 3).filter(|&(_, n)| n >= 2)?;
    let mut end = x + 1 + n;
    // `10x17-18`: two episodes in one file.
    let mut last = None;
    if b.get(end) == Some(&b'-') {
        if let Some((l, n)) = digits(&b[end + 1..], 3).filter(|&(l, n)| l > episode && boundary_at(b, end + 1 + n)) {
            last = Some(l);
            end += 1 + n;
        }
    }
    boundary_at(b, end).then_some(Marker { start: i, end, season, episode, last })
}

/// The season a folder's name says (`Season 1`, `Series 02`, `S01`,
/// `Staffel 3`, `Saison 2`, `Temporada 1`; `Specials`: 0).
pub fn season_of_folder(name: &str) -> Option<u16> {
    let lower = name.trim().to_ascii_lowercase();
    if lower == "specials" {
        return Some(0);
    }
    for word in ["season", "series", "staffel", "saison", "temporada", "stagione", "book", "s"] {
        if let Some(rest) = lower.strip_prefix(word) {
            let rest = rest.trim_start_matches([' ', '.', '_', '-']);
            if let Some((n, len)) = digits(rest.as_bytes(), 3) {
                if rest[len..].trim().is_empty() {
                    return Some(n);
                }
            }
        }
    }
    None
}

/// `[Group] Show - 01 (1080p) [ABCD1234]`, `[Group] Show - 12v2 - Title`:
/// (show, episode, title).
fn tagged(stem: &str) -> Option<(String, u16, Option<String>)> {
    let (_, rest) = stem.strip_prefix('[')?.split_once(']')?;
    rest.match_indices(" - ").find_map(|(at, sep)| {
        let show = clean(&rest[..at]);
        let after = &rest[at + sep.len()..];
        let b = after.as_bytes();
        let (n, len) = digits(b, 4)?;
        // `01`, `01v2`, then a space, a bracket or the end.
        let end =
            if b.get(len) == Some(&b'v') && b.get(len + 1).is_some_and(u8::is_ascii_digit) { len + 2 } else { len };
        if show.is_empty() || !boundary_at(b, end) {
            return None;
        }
        let title = episode_title(after[end..].split(['[', '(']).next().unwrap_or(""));
        Some((show, n, title))
    })
}

/// `Show - 01 - Title` in the folder `Show`: (episode, title).
fn absolute(stem: &str, folder: &str) -> Option<(u16, Option<String>)> {
    let wanted = key(folder);
    if wanted.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let b = stem.as_bytes();
    (1..b.len()).find_map(|i| {
        if !boundary_before(b, i) || !b[i].is_ascii_digit() {
            return None;
        }
        let (n, len) = digits(&b[i..], 3).filter(|&(_, len)| boundary_at(b, i + len))?;
        (key(&stem[..i]) == wanted).then(|| (n, episode_title(&stem[i + len..])))
    })
}

/// A file in a season's folder: its episode number (`02 - Title`,
/// `Episode 2`, `E02`, `Ep. 2`) and title.
fn numbered(stem: &str) -> (u16, Option<String>) {
    let b = stem.as_bytes();
    if let Some((n, len)) = digits(b, 3).filter(|&(_, len)| boundary_at(b, len)) {
        return (n, episode_title(&stem[len..]));
    }
    let lower = stem.to_ascii_lowercase();
    for word in ["episode", "ep", "e"] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(word).map(|a| a + from) {
            from = at + word.len();
            if !boundary_before(b, at) {
                continue;
            }
            let rest = lower[from..].trim_start_matches([' ', '.', '_']);
            let skip = lower.len() - from - rest.len();
            if let Some((n, len)) = digits(rest.as_bytes(), 3).filter(|&(_, len)| boundary_at(rest.as_bytes(), len)) {
                return (n, episode_title(&stem[from + skip + len..]));
            }
        }
    }
    (0, episode_title(stem))
}

/// The words of a release that are not a title.
const JUNK: &[&str] = &[
    "2160p",
    "1080p",
    "1080i",
    "720p",
    "576p",
    "480p",
    "4k",
    "uhd",
    "hdr",
    "hdr10",
    "dv",
    "x264",
    "x265",
    "h264",
    "h265",
    "hevc",
    "avc",
    "xvid",
    "divx",
    "av1",
    "hdtv",
    "pdtv",
    "web",
    "webrip",
    "webdl",
    "web-dl",
    "bluray",
    "blu-ray",
    "bdrip",
    "brrip",
    "dvdrip",
    "dvd",
    "remux",
    "proper",
    "repack",
    "internal",
    "10bit",
    "8bit",
    "aac",
    "ac3",
    "dts",
    "dd5",
    "ddp5",
    "eac3",
    "truehd",
    "atmos",
    "multi",
    "subbed",
    "dubbed",
    "extended",
    "unrated",
    "remastered",
    "imax",
    "amzn",
    "nf",
    "dsnp",
    "hmax",
    "atvp",
    "english",
    "french",
    "german",
    "italian",
    "spanish",
    "japanese",
    "korean",
    "chinese",
    "vostfr",
];

fn is_junk(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    JUNK.contains(&w.as_str())
        || (w.ends_with('p') && w.len() >= 4 && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()))
}

/// The part of a release name before its first junk word, as words.
fn before_junk(s: &str) -> &str {
    let mut end = s.len();
    let mut at = 0;
    for word in s.split(['.', ' ', '_', '[', '(']) {
        if !word.is_empty() && is_junk(word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')) {
            end = at;
            break;
        }
        at += word.len() + 1;
    }
    &s[..end.min(s.len())]
}

/// An episode's title from what follows its marker (`- Pilot`,
/// `.Pilot.720p.HDTV`), when there is one.
fn episode_title(after: &str) -> Option<String> {
    let t = clean(before_junk(after));
    (!t.is_empty() && !t.bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

/// A name as people write it: dots and underscores of a release name as
/// spaces (when it has no spaces of its own), runs of spaces as one, and
/// no separators at the ends.
fn clean(s: &str) -> String {
    let spaced = !s.contains(' ');
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = if c == '_' || (spaced && c == '.') { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '.' | '_' | '[' | '(' | ',' | '–' | ':'))
        .to_string()
}

/// A year at the end of a name (`Doctor Who (2005)`, `Doctor Who 2005`)
/// taken off it: (name, year).
fn strip_year(name: &str, latest: u16) -> (String, Option<u16>) {
    let trimmed = name.trim_end_matches([')', ']', ' ']);
    let b = trimmed.as_bytes();
    if b.len() > 4 {
        let at = b.len() - 4;
        if let Some((y, 4)) = digits(&b[at..], 4) {
            if (FIRST_YEAR..=latest).contains(&y) && boundary_before(b, at) {
                let rest = clean(trimmed[..at].trim_end_matches(['(', '[', ' ', '.']));
                if !rest.is_empty() {
                    return (rest, Some(y));
                }
            }
        }
    }
    (name.to_string(), None)
}

/// Whether a year in `name` is in brackets (`Film (1987)`, `Film [1987]`).
fn bracketed_year(name: &str) -> bool {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(5))
        .any(|i| matches!(b[i], b'(' | b'[') && digits(&b[i + 1..], 4).is_some() && matches!(b[i + 5], b')' | b']'))
}

/// Whether a folder is named as one of films (`Films`, `Movies HD`, `Kino`).
fn films_folder(name: &str) -> bool {
    const NAMES: [&str; 10] =
        ["films", "film", "movies", "movie", "filme", "filmes", "peliculas", "cinema", "cine", "kino"];
    key(name).split('-').next().is_some_and(|first| NAMES.contains(&first))
}

/// A film: a title, then a year (the last one that follows a title:
/// `2001 A Space Odyssey (1968)`, `1917.2019.1080p`), then nothing
/// but release words; and whether its year stands bare at the end after
/// a space (`Mad Max Fury Road 2015`), as home videos' years do too.
fn film(stem: &str, latest: u16) -> Option<(Film, bool)> {
    let b = stem.as_bytes();
    let mut best = None;
    for i in 1..b.len() {
        if !boundary_before(b, i) {
            continue;
        }
        let Some((year, 4)) = digits(&b[i..], 4) else { continue };
        if !(FIRST_YEAR..=latest).contains(&year) || !boundary_at(b, i + 4) {
            continue;
        }
        let title = clean(&stem[..i]);
        let after = &stem[i + 4..];
        let rest = after.trim_start_matches([')', ']', ' ', '.', '_', '-']);
        // Only release words (or nothing, or a bracketed note) may follow;
        // after a year in brackets, anything (`Heat (1995) Director's Cut`).
        let bracketed = matches!(b[i - 1], b'(' | b'[') && matches!(b.get(i + 4), Some(b')' | b']'));
        let tail_ok = bracketed
            || rest.is_empty()
            || before_junk(rest).trim_matches(['.', ' ', '_', '-']).is_empty()
            || rest.starts_with(['[', '(']);
        if !title.is_empty() && title.chars().any(char::is_alphanumeric) && tail_ok {
            let bare = !bracketed && rest.is_empty() && after.is_empty() && b[i - 1] == b' ';
            best = Some((Film { title, year }, bare));
        }
    }
    best
}

/// The year of a date in `stem` (`2023-05-12`, `2023_05_12`, `20230512`,
/// as cameras and phones name files), when there is one.
fn date_year(stem: &str, latest: u16) -> Option<u16> {
    let b = stem.as_bytes();
    (0..b.len()).find_map(|i| {
        if i > 0 && b[i - 1].is_ascii_digit() {
            return None;
        }
        let year = fixed(&b[i..], 4)?;
        let rest = &b[i + 4..];
        let (month, day, end) = match rest {
            [s, _, _, t, ..] if matches!(s, b'-' | b'_' | b'.') && s == t => {
                (fixed(&rest[1..], 2)?, fixed(&rest[4..], 2)?, 6)
            }
            _ => (fixed(rest, 2)?, fixed(&rest[2..], 2)?, 4),
        };
        let ends = rest.get(end).is_none_or(|c| !c.is_ascii_digit());
        ((1970..=latest).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day) && ends)
            .then_some(year)
    })
}

/// Exactly the first `n` bytes of `b` as a number, when they are digits.
fn fixed(b: &[u8], n: usize) -> Option<u16> {
    let d = b.get(..n)?;
    d.iter().all(u8::is_ascii_digit).then(|| d.iter().fold(0u16, |v, c| v * 10 + u16::from(c - b'0')))
}

/// This year, by the system clock (for `recognise`).
pub fn this_year() -> u16 {
    year_of(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The year (UTC) `secs` after 1970 began.
fn year_of(secs: u64) -> u16 {
    let mut days = secs / 86_400;
    let mut year = 1970u16;
    loop {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let length = if leap { 366 } else { 365 };
        if days < length {
            return year;
        }
        days -= length;
        year += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u16 = 2026;

    fn ep(show: &str, year: Option<u16>, season: u16, episode: u16, title: Option<&str>) -> Kind {
        Kind::Episode(Episode {
            show: show.into(),
            year,
            from_folder: false,
            season,
            episode,
            last: None,
            title: title.map(String::from),
        })
    }

    fn film(title: &str, year: u16) -> Kind {
        Kind::Film(Film { title: title.into(), year })
    }

    /// `recognise`, with `from_folder` cleared (checked on its own).
    fn seen(rel: &str) -> Kind {
        match recognise(rel, NOW) {
            Kind::Episode(e) => Kind::Episode(Episode { from_folder: false, ..e }),
            k => k,
        }
    }

    #[test]
    fn episodes_from_their_names() {
        assert_eq!(seen("Breaking Bad S01E02.mkv"), ep("Breaking Bad", None, 1, 2, None));
        assert_eq!(
            seen("Breaking.Bad.S01E02.Cats.in.the.Bag.720p.HDTV.x264.mkv"),
            ep("Breaking Bad", None, 1, 2, Some("Cats in the Bag"))
        );
        assert_eq!(seen("the_office_s2e10.avi"), ep("the office", None, 2, 10, None));
        assert_eq!(seen("Firefly - 1x03 - Bushwhacked.mp4"), ep("Firefly", None, 1, 3, Some("Bushwhacked")));
        assert_eq!(seen("Doctor.Who.2005.S01E01.Rose.mkv"), ep("Doctor Who", Some(2005), 1, 1, Some("Rose")));
        let Kind::Episode(two) = seen("Show S01E01-E02 Double.mkv") else { panic!() };
        assert_eq!((two.episode, two.last, two.label()), (1, Some(2), "S1 E1–2".to_string()));
        assert_eq!(seen("Show.S03E04E05.mkv"), {
            let Kind::Episode(e) = ep("Show", None, 3, 4, None) else { panic!() };
            Kind::Episode(Episode { last: Some(5), ..e })
        });
    }

    #[test]
    fn episodes_from_their_folders() {
        let Kind::Episode(e) = recognise("TV/The Wire/Season 1/01 - The Target.mkv", NOW) else { panic!() };
        assert_eq!((e.show.as_str(), e.season, e.episode, e.title.as_deref()), ("The Wire", 1, 1, Some("The Target")));
        assert!(e.from_folder);
        let Kind::Episode(e) = recognise("The Wire/Season 02/The.Wire.S02E03.Hot.Shots.mkv", NOW) else { panic!() };
        assert_eq!((e.show.as_str(), e.season, e.episode), ("The Wire", 2, 3));
        assert_eq!(seen("Mr Robot/mr.robot.s01e01.mkv"), ep("Mr Robot", None, 1, 1, None));
        assert_eq!(seen("Lost/S02/Episode 5.mkv"), ep("Lost", None, 2, 5, None));
        assert_eq!(
            seen("Sherlock/Specials/The Abominable Bride.mkv"),
            ep("Sherlock", None, 0, 0, Some("The Abominable Bride"))
        );
        assert_eq!(seen("Doctor Who (2005)/Season 1/S01E02.mkv"), ep("Doctor Who", Some(2005), 1, 2, None));
        // A file naming another series than its folder keeps its own.
        assert_eq!(seen("Downloads/Fargo.S01E01.mkv"), ep("Fargo", None, 1, 1, None));
    }

    #[test]
    fn films_with_their_years() {
        assert_eq!(seen("Films/Alien (1979).mkv"), film("Alien", 1979));
        assert_eq!(seen("Heat.1995.1080p.BluRay.x264.mkv"), film("Heat", 1995));
        assert_eq!(seen("2001 A Space Odyssey (1968).mp4"), film("2001 A Space Odyssey", 1968));
        assert_eq!(seen("1917.2019.2160p.mkv"), film("1917", 2019));
        assert_eq!(seen("Blade Runner 2049 (2017).mkv"), film("Blade Runner 2049", 2017));
        assert_eq!(seen("Amélie [2001].mkv"), film("Amélie", 2001));
        assert_eq!(seen("Alien (1979)/movie.mkv"), film("Alien", 1979));
        assert_eq!(seen("Metropolis (1927) [restored].mkv"), film("Metropolis", 1927));
        // Not years: the future, and numbers inside titles.
        assert_eq!(seen("Blade Runner 2049.mkv"), Kind::Other(None));
        // A bare year after a name: a film among films, else a home video's year.
        assert_eq!(seen("Movies HD/Mad Max Fury Road 2015.mkv"), film("Mad Max Fury Road", 2015));
        assert_eq!(seen("Videos/Birthday 2024.mp4"), Kind::Other(Some(2024)));
        assert_eq!(seen("trips of 2019.mp4"), Kind::Other(Some(2019)));
        assert_eq!(seen("Alien 1979 1080p BluRay.mkv"), film("Alien", 1979), "release words make it a film");
        assert_eq!(seen("Apollo 13.mkv"), Kind::Other(None));
        assert_eq!(seen("1984.mkv"), Kind::Other(None), "a year with no title before it is the title");
    }

    #[test]
    fn home_videos_are_neither_but_keep_their_year() {
        assert_eq!(seen("Phone/VID_20230512_123456.mp4"), Kind::Other(Some(2023)));
        assert_eq!(seen("2019-07-04 Fireworks.mov"), Kind::Other(Some(2019)));
        assert_eq!(seen("PXL_20211224_181500123.mp4"), Kind::Other(Some(2021)));
        assert_eq!(seen("Trips/beach.mp4"), Kind::Other(None));
        assert_eq!(seen("IMG_1234.MOV"), Kind::Other(None));
        assert_eq!(seen("clip 1920x1080.mp4"), Kind::Other(None), "a frame size is no episode");
        assert_eq!(seen(""), Kind::Other(None));
    }

    #[test]
    fn keys_group_the_same_series_written_differently() {
        assert_eq!(key("The Office (US)"), "the-office-us");
        assert_eq!(key("The.Office.US"), "the-office-us");
        assert_eq!(key("Amélie"), "amelie");
        assert_eq!(key("  "), "");
    }

    #[test]
    fn odd_names_do_not_panic() {
        for name in
            ["s", "S1", "S01E", "1x", "x01", "(", "[2000", "é.mkv", "S99E999E1000", "....", "2000", "Season 1/", "/"]
        {
            let _ = recognise(name, NOW);
            let _ = recognise(&format!("{name}/{name}/{name}"), NOW);
        }
    }

    #[test]
    fn years_from_the_clock() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(951_782_400), 2000, "2000-02-29");
        assert_eq!(year_of(1_798_761_599), 2026, "the last second of 2026");
        assert_eq!(year_of(1_798_761_600), 2027);
    }

    /// What `recognise` gets right of `tests/data/names.tsv`, real-looking
    /// names as they lie in people's folders (printed; at least 95 %).
    #[test]
    fn accuracy_on_real_looking_names() {
        let corpus = include_str!("../../tests/data/names.tsv");
        let (mut right, mut all, mut misses) = (0, 0, Vec::new());
        for line in corpus.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            let got = recognise(f[0], NOW);
            let ok = match (f[1], &got) {
                ("E", Kind::Episode(e)) => {
                    let show = match e.year {
                        Some(y) => format!("{} {y}", e.show),
                        None => e.show.clone(),
                    };
                    key(&show) == key(f[2]) && e.season.to_string() == f[3] && e.episode.to_string() == f[4]
                }
                ("F", Kind::Film(m)) => m.title == f[2] && m.year.to_string() == f[3],
                ("O", Kind::Other(y)) => y.map_or("-".to_string(), |y| y.to_string()) == f[2],
                _ => false,
            };
            all += 1;
            if ok {
                right += 1;
            } else {
                misses.push(format!("{line}\n    got {got:?}"));
            }
        }
        let share = right as f64 / all as f64;
        println!("names recognised: {right} of {all} ({:.1} %)", share * 100.0);
        for m in &misses {
            println!("  miss: {m}");
        }
        assert!(all >= 90 && share >= 0.95, "{right} of {all}:\n{}", misses.join("\n"));
    }
}
