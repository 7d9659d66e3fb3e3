//! User data: what people made of each video (`UserData`), the edits that
//! change it (`Edit`), and `UserCache`, the in-memory copy every read comes
//! from. The store's writer updates the cache right after each commit,
//! before it acknowledges, so a read that follows a 2xx sees the write.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::personal::{Personal, PersonalMap, Viewer};
use crate::library::ids::VideoId;

#[derive(Default)]
pub struct UserCache {
    /// The shared records (with the household's personal fields).
    map: RwLock<HashMap<VideoId, UserData>>,
    /// Everyone else's personal fields.
    personal: RwLock<PersonalMap>,
    /// Bumped on every change (for views that cache derived orders).
    version: AtomicU64,
    /// How many videos have a user-given title (0: title order is the files').
    titled: AtomicUsize,
}

impl UserCache {
    pub fn new(map: HashMap<VideoId, UserData>, personal: PersonalMap) -> Self {
        let titled = map.values().filter(|d| d.title.is_some()).count();
        UserCache {
            map: RwLock::new(map),
            personal: RwLock::new(personal),
            version: AtomicU64::new(0),
            titled: AtomicUsize::new(titled),
        }
    }

    pub fn titled(&self) -> usize {
        self.titled.load(Ordering::Acquire)
    }

    pub fn get(&self, id: VideoId) -> UserData {
        self.map.read().ok().and_then(|m| m.get(&id).cloned()).unwrap_or_default()
    }

    /// One video's data as `who` sees it.
    pub fn get_for(&self, who: &Viewer, id: VideoId) -> UserData {
        if *who == Viewer::Household {
            return self.get(id);
        }
        self.view(who, |v| v.get(id).map(|d| d.into_owned())).unwrap_or_default()
    }

    /// Runs `f` over the data as `who` sees it, under the read locks (hold
    /// them briefly).
    pub fn view<R>(&self, who: &Viewer, f: impl FnOnce(&View) -> R) -> R {
        self.with_all(|shared, personal| f(&View::new(shared, personal, who)))
    }

    /// Runs `f` over the shared records and everyone's own, under the read
    /// locks (a backup).
    pub fn with_all<R>(&self, f: impl FnOnce(&HashMap<VideoId, UserData>, &PersonalMap) -> R) -> R {
        self.with(|shared| {
            let personal = match self.personal.read() {
                Ok(p) => p,
                Err(poisoned) => poisoned.into_inner(),
            };
            f(shared, &personal)
        })
    }

    /// Every person's ratings of each video (the household's included),
    /// for the household average.
    pub fn all_ratings(&self) -> HashMap<VideoId, (u32, u32)> {
        let mut sums: HashMap<VideoId, (u32, u32)> = HashMap::new();
        self.with(|shared| {
            for (id, d) in shared {
                if let Some(r) = d.rating {
                    let s = sums.entry(*id).or_default();
                    *s = (s.0 + u32::from(r), s.1 + 1);
                }
            }
        });
        if let Ok(personal) = self.personal.read() {
            for (id, p) in personal.values().flatten() {
                if let Some(r) = p.rating {
                    let s = sums.entry(*id).or_default();
                    *s = (s.0 + u32::from(r), s.1 + 1);
                }
            }
        }
        sums
    }

    /// Records people's personal data after a commit (`None`: forget a
    /// person, removed with their account).
    pub fn set_personal(&self, changes: impl IntoIterator<Item = (Arc<str>, Option<(VideoId, Personal)>)>) {
        let mut map = match self.personal.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (who, change) in changes {
            match change {
                Some((id, p)) if p.is_empty() => {
                    if let Some(theirs) = map.get_mut(&who) {
                        theirs.remove(&id);
                    }
                }
                Some((id, p)) => {
                    map.entry(who).or_default().insert(id, p);
                }
                None => {
                    map.remove(&who);
                }
            }
        }
        drop(map);
        self.version.fetch_add(1, Ordering::Release);
    }

    /// Runs `f` with the shared records under one read lock (hold it
    /// briefly). For shared fields only (tags, titles, total views); what
    /// one person sees comes from `view`.
    pub fn with<R>(&self, f: impl FnOnce(&HashMap<VideoId, UserData>) -> R) -> R {
        match self.map.read() {
            Ok(m) => f(&m),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    pub fn set_all(&self, changes: impl IntoIterator<Item = (VideoId, UserData)>) {
        let mut map = match self.map.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (id, data) in changes {
            let had = map.get(&id).is_some_and(|d| d.title.is_some());
            match (had, data.title.is_some()) {
                (false, true) => {
                    self.titled.fetch_add(1, Ordering::AcqRel);
                }
                (true, false) => {
                    self.titled.fetch_sub(1, Ordering::AcqRel);
                }
                _ => {}
            }
            map.insert(id, data);
        }
        self.version.fetch_add(1, Ordering::Release);
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}

/// What users made of one video. Fields added later default when absent,
/// so older records stay readable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserData {
    /// 1 to 5 stars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default)]
    pub views: u64,
    /// Unix seconds of the last counted view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_viewed: Option<i64>,
    #[serde(default)]
    pub favorite: bool,
    /// Free tags, without a leading `#`, each once (case-insensitively).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A title given by the user (the file is never renamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where playback stopped, in milliseconds, and when (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_at: Option<i64>,
}

/// One change to a video's user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set (1–5) or clear the rating.
    Rate(Option<u8>),
    /// Count one view at the given Unix second.
    View(i64),
    Favorite(bool),
    ToggleFavorite,
    /// Views counted elsewhere (an import).
    AddViews(u64),
    /// Set (already trimmed, non-empty) or clear the user's title.
    Title(Option<String>),
    /// Remember (at the given Unix second) or forget the resume position.
    Position(Option<u64>, i64),
    /// A tag already made valid by `normalise_tag`.
    AddTag(String),
    /// Replace everything (restoring a backup or export).
    Set(Box<UserData>),
    /// Several edits of one video, applied in one step (a batch action).
    Many(std::sync::Arc<[Edit]>),
    /// Replace one person's own data (restoring a backup or export).
    SetPersonal(Box<Personal>),
    RemoveTag(String),
}

impl UserData {
    /// Whether the video shows as watched: seen and not begun again (for
    /// the `household`, by anyone; else by the person whose data this is).
    pub fn watched(&self, household: bool) -> bool {
        self.position_ms.is_none() && self.seen(household)
    }

    /// Whether `who` has not watched the video (for the household, nobody
    /// has; for a person, they have not).
    pub fn unwatched_by(&self, who: &Viewer) -> bool {
        !self.seen(matches!(who, Viewer::Household))
    }

    /// Whether the video was seen: by anyone (`household`: its views are
    /// everyone's), else by the person whose data this is.
    fn seen(&self, household: bool) -> bool {
        if household {
            self.views > 0
        } else {
            self.last_viewed.is_some()
        }
    }

    pub fn apply(&mut self, edit: Edit) {
        match edit {
            Edit::Rate(r) => self.rating = r,
            Edit::Set(d) => *self = *d,
            Edit::SetPersonal(p) => {
                let views = self.views;
                *self = self.seen_with(&p);
                self.views = views;
            }
            Edit::Many(edits) => {
                for e in edits.iter() {
                    self.apply(e.clone());
                }
            }
            Edit::View(at) => {
                self.views += 1;
                self.last_viewed = Some(at);
            }
            Edit::Favorite(f) => self.favorite = f,
            Edit::AddViews(n) => self.views = self.views.saturating_add(n),
            Edit::Title(t) => self.title = t,
            Edit::Position(p, at) => {
                self.position_ms = p;
                self.position_at = p.map(|_| at);
            }
            Edit::ToggleFavorite => self.favorite = !self.favorite,
            Edit::AddTag(t) => {
                if !self.has_tag(&t) && self.tags.len() < MAX_TAGS {
                    self.tags.push(t);
                }
            }
            Edit::RemoveTag(t) => {
                let t = t.to_lowercase();
                self.tags.retain(|x| x.to_lowercase() != t);
            }
        }
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        let want = tag.to_lowercase();
        self.tags.iter().any(|t| t.to_lowercase() == want)
    }
}

impl UserData {
    /// The household's personal fields of a shared record.
    pub fn personal(&self) -> Personal {
        Personal {
            rating: self.rating,
            favorite: self.favorite,
            views: self.views,
            last_viewed: self.last_viewed,
            position_ms: self.position_ms,
            position_at: self.position_at,
        }
    }

    /// Whether the household entered anything of its own here (a rating,
    /// favorite, position or view time).
    pub fn has_own(&self) -> bool {
        self.rating.is_some()
            || self.favorite
            || self.position_ms.is_some()
            || self.position_at.is_some()
            || self.last_viewed.is_some()
    }

    /// The shared record as `p`'s owner sees it: shared fields (tags,
    /// title, total views) with `p`'s rating, favorite, position and history.
    pub fn seen_with(&self, p: &Personal) -> UserData {
        UserData {
            rating: p.rating,
            favorite: p.favorite,
            last_viewed: p.last_viewed,
            position_ms: p.position_ms,
            position_at: p.position_at,
            views: self.views,
            tags: self.tags.clone(),
            title: self.title.clone(),
        }
    }

    /// Splits what a person's edit produced (`after`, as they see it) into
    /// the new shared record (`self` keeps the household's personal fields)
    /// and the person's own part; `before` was their part before the edit.
    pub fn split(&self, after: UserData, before: &Personal) -> (UserData, Personal) {
        let counted = after.views.saturating_sub(self.views);
        let mine = Personal {
            rating: after.rating,
            favorite: after.favorite,
            views: before.views.saturating_add(counted),
            last_viewed: after.last_viewed,
            position_ms: after.position_ms,
            position_at: after.position_at,
        };
        let shared = UserData { views: after.views, tags: after.tags, title: after.title, ..self.clone() };
        (shared, mine)
    }
}

/// The user data one viewer sees: the shared records, with their own
/// personal fields in place of the household's.
pub struct View<'a> {
    pub shared: &'a HashMap<VideoId, UserData>,
    /// `None`: the household (the shared records as they are).
    pub mine: Option<&'a HashMap<VideoId, Personal>>,
}

static NOTHING: std::sync::LazyLock<HashMap<VideoId, Personal>> = std::sync::LazyLock::new(HashMap::new);
static EMPTY: std::sync::LazyLock<UserData> = std::sync::LazyLock::new(UserData::default);

impl<'a> View<'a> {
    pub fn new(shared: &'a HashMap<VideoId, UserData>, personal: &'a PersonalMap, who: &Viewer) -> View<'a> {
        let mine = match who {
            Viewer::Household => None,
            Viewer::Person(name) => Some(personal.get(name).unwrap_or(&NOTHING)),
            Viewer::Guest => Some(&*NOTHING),
        };
        View { shared, mine }
    }

    /// One video's data as this viewer sees it; `None` when nobody entered any.
    pub fn get(&self, id: VideoId) -> Option<Cow<'a, UserData>> {
        let shared = self.shared.get(&id);
        let Some(mine) = self.mine else { return shared.map(Cow::Borrowed) };
        match (shared, mine.get(&id)) {
            (None, None) => None,
            (s, p) => Some(Cow::Owned(s.unwrap_or(&EMPTY).seen_with(p.unwrap_or(&Personal::default())))),
        }
    }

    /// Every video with data, as this viewer sees it (each once).
    pub fn for_each(&self, mut f: impl FnMut(VideoId, &UserData)) {
        let Some(mine) = self.mine else {
            self.shared.iter().for_each(|(id, d)| f(*id, d));
            return;
        };
        let none = Personal::default();
        for (id, d) in self.shared {
            f(*id, &d.seen_with(mine.get(id).unwrap_or(&none)));
        }
        for (id, p) in mine {
            if !self.shared.contains_key(id) {
                f(*id, &EMPTY.seen_with(p));
            }
        }
    }
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

/// Most tags one video keeps.
pub const MAX_TAGS: usize = 200;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 100;

/// Makes a title canonical: inner white space folded; empty gives the
/// file's title back (`None`). Refuses overlong titles and control
/// characters (terminal escapes included). The API and imports both.
pub fn normalise_title(raw: &str) -> Result<Option<String>, String> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) {
        return Err(format!("a title is at most {MAX_TITLE_CHARS} characters, without control characters"));
    }
    Ok((!t.is_empty()).then_some(t))
}

/// Latest resume position taken, in milliseconds (a million seconds
/// short of 32 years; what the API accepts).
pub const MAX_POSITION_MS: u64 = 1_000_000_000_000;

/// Makes a tag canonical: trimmed, without leading `#`, inner white space
/// folded. Refuses empty, overlong, and tags with commas (the URL list
/// separator) or control characters.
pub fn normalise_tag(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim().trim_start_matches('#').trim();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err("a tag cannot be empty");
    }
    if t.chars().count() > MAX_TAG_CHARS {
        return Err("a tag is at most 100 characters");
    }
    if t.chars().any(|c| c == ',' || c.is_control()) {
        return Err("a tag cannot contain commas or control characters");
    }
    Ok(t)
}
