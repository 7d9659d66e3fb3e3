//! The library as people think of it: series (with their seasons and
//! episodes in order) and each video's year, recognised from names and
//! folders (`names`). Built in one pass at the first call and kept with
//! the catalog's contents, like the folder tree; callers run that pass on
//! the blocking pool. Only what the asking person may see is shown:
//! callers pass their `Visible`.

use std::collections::HashMap;
use std::sync::Arc;

use super::names::{self, Kind};
use super::user::UserData;
use super::{Catalog, Video, Visible};

/// Every series, and every listed video's year.
#[derive(Debug, Default)]
pub struct Series {
    /// By name, case-insensitively.
    pub shows: Vec<Show>,
    by_key: HashMap<String, usize>,
    /// Each listed video's year, by position (0: none known).
    years: Arc<[u16]>,
    /// The series (an index into `shows`) each listed video is an episode
    /// of, by position (`u32::MAX`: none).
    show_of: Vec<u32>,
    /// The films: positions of listed videos, by title (then year).
    pub films: Vec<Film>,
    /// The years of every listed video, newest first.
    all_years: Arc<[u16]>,
    /// The same for the few sets of folders people are limited to.
    seen_years: std::sync::Mutex<Vec<SeenYears>>,
}

#[derive(Debug)]
pub struct Show {
    /// What links name it by (`names::key`).
    pub key: String,
    pub name: String,
    pub year: Option<u16>,
    /// In order: by season (specials last), episode, then title.
    pub episodes: Vec<Ep>,
    /// The folders (root, path below it) that name it, each once
    /// (`Ep::dir` points here).
    dirs: Vec<(usize, String)>,
}

/// A film: its position in the catalog, its title and year as its name
/// says them.
#[derive(Debug, Clone)]
pub struct Film {
    pub pos: u32,
    pub title: Box<str>,
    pub year: u16,
}

#[derive(Debug, Clone)]
pub struct Ep {
    /// The video's position in the catalog.
    pub pos: u32,
    pub season: u16,
    pub episode: u16,
    pub last: Option<u16>,
    pub title: Option<Box<str>>,
    /// Its series' folder, when a folder names the series: an index into
    /// `Show::dirs`.
    pub dir: Option<u16>,
}

impl Ep {
    /// `S1 E2`, `Special 3`.
    pub fn label(&self) -> String {
        names::Episode { season: self.season, episode: self.episode, last: self.last, ..Ep::blank() }.label()
    }

    fn blank() -> names::Episode {
        names::Episode {
            show: String::new(),
            year: None,
            from_folder: false,
            season: 0,
            episode: 0,
            last: None,
            title: None,
        }
    }
}

impl Show {
    /// `Doctor Who (2005)`, or the name alone.
    pub fn display(&self) -> String {
        names::Episode { show: self.name.clone(), year: self.year, ..Ep::blank() }.series()
    }

    /// Its episodes `within` lets through.
    pub fn visible<'a>(&'a self, within: Option<&'a Visible>) -> impl Iterator<Item = &'a Ep> + 'a {
        self.episodes.iter().filter(move |e| within.is_none_or(|w| w.has(e.pos)))
    }

    /// The episode to watch next of `shown` (in order, with what the
    /// person made of each): after the one touched last (begun or
    /// watched, by when), or that one when it is begun and not finished;
    /// the first when none is. Specials count only in a series of nothing
    /// else. `None` when the last one touched was the last and is watched.
    pub fn next(shown: &[(&Ep, UserData)], who: &super::Viewer) -> Option<usize> {
        let regular: Vec<usize> = (0..shown.len()).filter(|&i| shown[i].0.season > 0).collect();
        let order: Vec<usize> = if regular.is_empty() { (0..shown.len()).collect() } else { regular };
        let touched = |d: &UserData| d.position_ms.is_some() || !d.unwatched_by(who);
        let when = |d: &UserData| d.position_at.max(d.last_viewed).unwrap_or(0);
        // The latest touched; on a tie (no times), the one latest in order.
        let latest = order
            .iter()
            .enumerate()
            .filter(|(_, &i)| touched(&shown[i].1))
            .max_by_key(|(k, &i)| (when(&shown[i].1), *k));
        match latest {
            None => order.first().copied(),
            Some((_, &i)) if shown[i].1.position_ms.is_some() => Some(i),
            Some((k, _)) => order.get(k + 1).copied(),
        }
    }

    /// Its folders (root, path below it) that hold an episode `within`
    /// lets through, each once, in episode order: where its poster is
    /// looked for.
    pub fn dirs(&self, within: Option<&Visible>) -> Vec<&(usize, String)> {
        let mut out: Vec<&(usize, String)> = Vec::new();
        for d in self.visible(within).filter_map(|e| e.dir).filter_map(|d| self.dirs.get(usize::from(d))) {
            if !out.contains(&d) {
                out.push(d);
            }
            if out.len() == self.dirs.len() {
                break;
            }
        }
        out
    }
}

impl Series {
    /// One pass over the catalog's listed videos.
    pub fn build(catalog: &Catalog) -> Series {
        let this_year = names::this_year();
        let videos = catalog.videos();
        let mut years = vec![0u16; videos.len()];
        let mut shows: Vec<Show> = Vec::new();
        let mut by_key: HashMap<String, usize> = HashMap::new();
        // Whether a show's name came from a folder (kept over a file's).
        let mut named_by_folder: Vec<bool> = Vec::new();
        let mut films: Vec<Film> = Vec::new();
        for (pos, v) in videos.iter().enumerate() {
            let kind = recognise(v, this_year);
            years[pos] = kind.year().unwrap_or(0);
            match kind {
                Kind::Film(f) => films.push(Film { pos: pos as u32, title: f.title.into_boxed_str(), year: f.year }),
                Kind::Other(_) => {}
                Kind::Episode(e) => {
                    let show_key = e.series_key();
                    let at = *by_key.entry(show_key.clone()).or_insert_with(|| {
                        shows.push(Show {
                            key: show_key,
                            name: e.show.clone(),
                            year: e.year,
                            episodes: Vec::new(),
                            dirs: Vec::new(),
                        });
                        named_by_folder.push(e.from_folder);
                        shows.len() - 1
                    });
                    if e.from_folder && !named_by_folder[at] {
                        shows[at].name = e.show.clone();
                        named_by_folder[at] = true;
                    }
                    let show = &mut shows[at];
                    let dir = e.from_folder.then(|| show_dir(v)).flatten().and_then(|d| {
                        let n = show.dirs.iter().position(|x| *x == d).unwrap_or_else(|| {
                            show.dirs.push(d);
                            show.dirs.len() - 1
                        });
                        u16::try_from(n).ok()
                    });
                    show.episodes.push(Ep {
                        pos: pos as u32,
                        season: e.season,
                        episode: e.episode,
                        last: e.last,
                        title: e.title.map(String::into_boxed_str),
                        dir,
                    });
                }
            }
        }
        for show in &mut shows {
            // Specials after the seasons; then by number, then title.
            show.episodes.sort_by(|a, b| {
                (a.season == 0, a.season, a.episode, &a.title, a.pos).cmp(&(
                    b.season == 0,
                    b.season,
                    b.episode,
                    &b.title,
                    b.pos,
                ))
            });
        }
        let mut order: Vec<usize> = (0..shows.len()).collect();
        order.sort_by_cached_key(|&i| (shows[i].name.to_lowercase(), shows[i].year));
        let mut slots: Vec<Option<Show>> = shows.into_iter().map(Some).collect();
        let shows: Vec<Show> = order.iter().filter_map(|&i| slots[i].take()).collect();
        let by_key: HashMap<String, usize> = shows.iter().enumerate().map(|(i, s)| (s.key.clone(), i)).collect();
        let mut show_of = vec![u32::MAX; videos.len()];
        for (i, show) in shows.iter().enumerate() {
            for e in &show.episodes {
                show_of[e.pos as usize] = i as u32;
            }
        }
        let mut all_years: Vec<u16> = years.iter().copied().filter(|&y| y != 0).collect();
        all_years.sort_unstable_by(|a, b| b.cmp(a));
        all_years.dedup();
        films.sort_by_cached_key(|f| (f.title.to_lowercase(), f.year, f.pos));
        Series {
            shows,
            by_key,
            years: years.into(),
            show_of,
            films,
            all_years: all_years.into(),
            seen_years: Default::default(),
        }
    }

    /// The series the listed video at `pos` is an episode of.
    pub fn show_at(&self, pos: u32) -> Option<&Show> {
        let i = *self.show_of.get(pos as usize)?;
        self.shows.get(i as usize)
    }

    pub fn show(&self, key: &str) -> Option<&Show> {
        self.by_key.get(key).map(|&i| &self.shows[i])
    }

    /// The shows with at least one episode `within` lets through.
    pub fn visible<'a>(&'a self, within: Option<&'a Visible>) -> impl Iterator<Item = &'a Show> + 'a {
        self.shows.iter().filter(move |s| s.visible(within).next().is_some())
    }

    /// Each listed video's year, by position (0: none known).
    pub fn years(&self) -> Arc<[u16]> {
        self.years.clone()
    }

    /// The years videos `within` lets through are from, newest first
    /// (one pass for each set of folders, then kept).
    pub fn year_list(&self, within: Option<&Arc<Visible>>) -> Arc<[u16]> {
        let Some(within) = within else { return self.all_years.clone() };
        let kept = || self.seen_years.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, y)) = kept().iter().find(|(v, _)| Arc::ptr_eq(v, within)) {
            return y.clone();
        }
        let mut seen = std::collections::BTreeSet::new();
        for (pos, &y) in self.years.iter().enumerate() {
            if y != 0 && within.has(pos as u32) {
                seen.insert(y);
            }
        }
        let list: Arc<[u16]> = seen.into_iter().rev().collect();
        let mut kept = kept();
        if kept.len() >= MAX_KEPT_SIGHTS {
            kept.remove(0);
        }
        kept.push((within.clone(), list.clone()));
        list
    }
}

/// The years one set of folders lets through.
type SeenYears = (Arc<Visible>, Arc<[u16]>);

/// Sets of folders whose years are kept at once.
const MAX_KEPT_SIGHTS: usize = 16;

/// The folder of the series `v` is an episode of, named by a folder: the
/// one it lies in, or the one above its season's folder.
fn show_dir(v: &Video) -> Option<(usize, String)> {
    let file = v.primary();
    let rel = std::str::from_utf8(&file.rel).ok()?;
    let (mut dir, _) = rel.rsplit_once('/')?;
    if dir.rsplit('/').next().and_then(names::season_of_folder).is_some() {
        dir = dir.rsplit_once('/').map_or("", |(above, _)| above);
    }
    (!dir.is_empty()).then(|| (file.root, dir.to_string()))
}

/// What `v`'s primary path says it is; a home video whose name has no
/// date is of the year its metadata says it was recorded.
pub fn recognise(v: &Video, this_year: u16) -> Kind {
    match names::recognise(&String::from_utf8_lossy(&v.primary().rel), this_year) {
        Kind::Other(None) => Kind::Other(v.taken().and_then(year_of)),
        k => k,
    }
}

/// The year (UTC) of a time in seconds since 1970.
fn year_of(unix: i64) -> Option<u16> {
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| u16::try_from(t.year()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::folders::tests::catalog;
    use crate::catalog::Viewer;

    #[test]
    fn series_are_grouped_and_ordered() {
        let c = catalog(&[
            "Fargo.S01E02.mkv",
            "TV/Fargo/Season 1/Fargo.S01E01.mkv",
            "TV/Fargo/Specials/Making of.mkv",
            "TV/Fargo/Season 2/01 - Waiting for Dutch.mkv",
            "Alien (1979).mkv",
            "Home/2019-07-04 Fireworks.mov",
            "beach.mp4",
        ]);
        let series = Series::build(&c);
        assert_eq!(series.shows.len(), 1);
        let fargo = series.show("fargo").expect("grouped by key");
        let first = c.videos().iter().position(|v| v.title() == "Fargo.S01E01").unwrap();
        assert_eq!(series.show_at(first as u32).map(|s| s.key.as_str()), Some("fargo"));
        let alien = c.videos().iter().position(|v| v.title() == "Alien (1979)").unwrap();
        assert!(series.show_at(alien as u32).is_none());
        assert_eq!(fargo.name, "Fargo");
        assert_eq!(fargo.dirs(None), [&(0, "TV/Fargo".to_string())], "its folder, above the seasons'");
        let labels: Vec<String> = fargo.episodes.iter().map(Ep::label).collect();
        assert_eq!(labels, ["S1 E1", "S1 E2", "S2 E1", "Special"]);
        assert_eq!(fargo.episodes[2].title.as_deref(), Some("Waiting for Dutch"));
        assert_eq!(series.films.iter().map(|f| (&*f.title, f.year)).collect::<Vec<_>>(), [("Alien", 1979)]);
        assert_eq!(&*series.year_list(None), [2019, 1979]);
        let years = series.years();
        let year_of = |title: &str| years[c.videos().iter().position(|v| v.title() == title).unwrap()];
        assert_eq!((year_of("Alien (1979)"), year_of("beach")), (1979, 0));
    }

    #[test]
    fn the_next_episode_follows_what_was_watched() {
        let eps: Vec<Ep> =
            (1..=3).map(|n| Ep { pos: n, season: 1, episode: n as u16, last: None, title: None, dir: None }).collect();
        let who = Viewer::Household;
        let fresh = UserData::default();
        let watched = UserData { views: 1, last_viewed: Some(1), ..Default::default() };
        let begun = UserData { position_ms: Some(5_000), ..Default::default() };
        let shown =
            |d: [&UserData; 3]| -> Vec<(&Ep, UserData)> { eps.iter().zip(d).map(|(e, d)| (e, d.clone())).collect() };
        assert_eq!(Show::next(&shown([&fresh, &fresh, &fresh]), &who), Some(0));
        assert_eq!(Show::next(&shown([&watched, &fresh, &fresh]), &who), Some(1));
        assert_eq!(Show::next(&shown([&watched, &begun, &fresh]), &who), Some(1), "the one begun");
        assert_eq!(Show::next(&shown([&fresh, &watched, &fresh]), &who), Some(2), "after the last watched");
        assert_eq!(Show::next(&shown([&watched, &watched, &watched]), &who), None);
        assert_eq!(Show::next(&[], &who), None);
        // Watching it again: the one begun since is the one to go on with.
        let again = UserData { position_ms: Some(9_000), position_at: Some(50), ..watched.clone() };
        assert_eq!(Show::next(&shown([&again, &watched, &watched]), &who), Some(0));
        // By when: the one watched latest, not the latest in order.
        let early = UserData { views: 1, last_viewed: Some(10), ..Default::default() };
        let late = UserData { views: 1, last_viewed: Some(20), ..Default::default() };
        assert_eq!(Show::next(&shown([&late, &fresh, &early]), &who), Some(1));
        // A special watched does not end the series.
        let mut with_special = eps.clone();
        with_special[2].season = 0;
        let list: Vec<(&Ep, UserData)> =
            with_special.iter().zip([&watched, &fresh, &late]).map(|(e, d)| (e, d.clone())).collect();
        assert_eq!(Show::next(&list, &who), Some(1));
    }
}
