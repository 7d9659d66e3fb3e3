//! Per-person data. Ratings, favorites, resume positions and watch history
//! belong to one person; tags, titles and total views are shared by the
//! household.
//!
//! The shared record of a video (`UserData`) also holds the personal fields
//! of the *household*: everyone when no account exists, and afterwards the
//! first admin (who so keeps what was entered, or imported, before accounts
//! existed). Every other person's fields are kept apart (`Personal`) and
//! laid over the shared record when that person reads (`user::View`).

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::library::ids::VideoId;

/// Whose personal data a request sees and changes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Viewer {
    /// Everyone when there are no accounts; the first admin once there are.
    #[default]
    Household,
    /// A signed-in person (lowercase account name).
    Person(Arc<str>),
    /// Someone not signed in (`--guest`, signed links): sees no one's
    /// personal data and changes nothing.
    Guest,
}

/// One person's data about one video.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Personal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default)]
    pub favorite: bool,
    /// Views this person counted (the shared record holds the total).
    #[serde(default)]
    pub views: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_viewed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_at: Option<i64>,
}

impl Personal {
    pub fn is_empty(&self) -> bool {
        *self == Personal::default()
    }
}

/// Personal data of everyone but the household, by person, then video.
pub type PersonalMap = HashMap<Arc<str>, HashMap<VideoId, Personal>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::user::{UserData, View};

    #[test]
    fn a_persons_edit_keeps_the_households_fields_and_counts_total_views() {
        let shared =
            UserData { rating: Some(5), favorite: true, views: 10, tags: vec!["a".into()], ..UserData::default() };
        let before = Personal { rating: Some(2), views: 3, ..Personal::default() };
        let mut seen = shared.seen_with(&before);
        assert_eq!((seen.rating, seen.favorite, seen.views), (Some(2), false, 10));
        seen.apply(super::super::user::Edit::View(99));
        seen.apply(super::super::user::Edit::AddTag("b".into()));
        let (new_shared, mine) = shared.split(seen, &before);
        assert_eq!((new_shared.rating, new_shared.favorite, new_shared.views), (Some(5), true, 11));
        assert_eq!(new_shared.tags, vec!["a".to_string(), "b".to_string()]);
        assert_eq!((mine.rating, mine.views, mine.last_viewed), (Some(2), 4, Some(99)));
    }

    #[test]
    fn a_view_lays_a_persons_fields_over_the_shared_records() {
        let shared: HashMap<VideoId, UserData> =
            [(VideoId(1), UserData { rating: Some(5), views: 2, ..UserData::default() })].into();
        let ann: HashMap<VideoId, Personal> = [(VideoId(2), Personal { favorite: true, ..Personal::default() })].into();
        let personal: PersonalMap = [(Arc::from("ann"), ann)].into();
        let house = View::new(&shared, &personal, &Viewer::Household);
        assert_eq!(house.get(VideoId(1)).unwrap().rating, Some(5));
        assert!(house.get(VideoId(2)).is_none());
        let view = View::new(&shared, &personal, &Viewer::Person("ann".into()));
        assert_eq!(view.get(VideoId(1)).map(|d| (d.rating, d.views)), Some((None, 2)));
        assert!(view.get(VideoId(2)).unwrap().favorite);
        let mut seen = Vec::new();
        view.for_each(|id, d| seen.push((id, d.favorite)));
        seen.sort();
        assert_eq!(seen, vec![(VideoId(1), false), (VideoId(2), true)]);
        let guest = View::new(&shared, &personal, &Viewer::Guest);
        assert_eq!(guest.get(VideoId(1)).unwrap().rating, None);
    }
}
