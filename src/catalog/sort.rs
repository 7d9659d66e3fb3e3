//! The orders a listing can take: what to sort by, and which way.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    #[serde(alias = "date")]
    Added,
    Title,
    Size,
    Duration,
    Rating,
    /// The mean of everyone's ratings (with accounts).
    Household,
    Views,
    /// When it was recorded, as its own metadata says (unknown last,
    /// newest first).
    Taken,
    /// A search's best matches first (the default while searching).
    Relevance,
}

impl Sort {
    pub const ALL: [Sort; 8] =
        [Sort::Added, Sort::Taken, Sort::Title, Sort::Rating, Sort::Household, Sort::Views, Sort::Duration, Sort::Size];
    pub fn name(self) -> &'static str {
        match self {
            Sort::Added => "added",
            Sort::Title => "title",
            Sort::Size => "size",
            Sort::Duration => "duration",
            Sort::Rating => "rating",
            Sort::Household => "household",
            Sort::Relevance => "relevance",
            Sort::Views => "views",
            Sort::Taken => "taken",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Sort::Added => "Date added",
            Sort::Title => "Title",
            Sort::Size => "Size",
            Sort::Duration => "Duration",
            Sort::Rating => "Rating",
            Sort::Household => "Household rating",
            Sort::Relevance => "Best match",
            Sort::Views => "Views",
            Sort::Taken => "Date taken",
        }
    }
    /// The direction a user expects first: newest, A–Z, largest, longest.
    pub fn default_order(self) -> Order {
        match self {
            Sort::Title | Sort::Relevance => Order::Asc,
            _ => Order::Desc,
        }
    }
    /// The slot of a sort the catalog precomputes (those of file facts).
    pub(super) fn base(self) -> Option<usize> {
        match self {
            Sort::Added => Some(0),
            Sort::Title => Some(1),
            Sort::Size => Some(2),
            Sort::Duration => Some(3),
            Sort::Taken => Some(4),
            // Ties among equal matches in title order (read ascending):
            // a series' episodes in their order.
            Sort::Relevance => Some(1),
            Sort::Rating | Sort::Household | Sort::Views => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}
