//! What the model is told before the conversation: how to answer, and a
//! summary of the library sized to fit a small context whatever the size
//! of the library (counts, top tags, a few recent, best rated and
//! unwatched videos), never every path.

use serde_json::Value;

use super::tools::{brief, stats, Collection};
use crate::catalog::{Sort, Video};

/// Videos named in each list of the summary.
const PER_LIST: usize = 8;
/// Longest title quoted, in characters.
const TITLE: usize = 80;

const RULES: &str = "You are the assistant of vidserve, a home video library. Answer briefly, in the \
language of the question. When you mention a video, link it as [its title](/watch/ID), with an ID taken \
from the summary below or from a tool's answer; never invent an ID. Use the tools to search the library, \
list videos by tag, rating, length or what has not been watched, or look at one video. Minutes are \
video lengths. Ratings are 1 to 5 stars and belong to the person asking.";

fn line(v: &Video, title: &str, minutes: Option<f64>) -> String {
    let title: String = title.chars().take(TITLE).collect();
    match minutes {
        Some(m) => format!("- [{title}](/watch/{}), {m} min", v.id),
        None => format!("- [{title}](/watch/{})", v.id),
    }
}

/// The system message: rules, then the library in brief.
pub fn system(shelf: &Collection) -> String {
    let s = stats(shelf);
    let mut out = String::from(RULES);
    out.push_str(&format!(
        "\n\nThe library: {} {}, {} hours; {} rated, {} favorites, {} not watched yet.",
        s["videos"],
        if s["videos"] == 1 { "video" } else { "videos" },
        s["hours"],
        s["rated"],
        s["favorites"],
        s["unwatched"]
    ));
    let tags: Vec<String> = s["top_tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| format!("{} ({})", t["tag"].as_str().unwrap_or(""), t["videos"]))
        .collect();
    if !tags.is_empty() {
        out.push_str(&format!("\nMost used tags: {}.", tags.join(", ")));
    }
    let c = &shelf.catalog;
    let videos = c.videos();
    let within = shelf.sight.visible(c);
    let seen = |v: &&std::sync::Arc<Video>| within.as_ref().is_none_or(|w| w.has(v.pos));
    let listed = |title: &str, picks: Vec<&std::sync::Arc<Video>>, out: &mut String| {
        if picks.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:"));
        for v in picks {
            let b: Value = brief(v, &shelf.users.get_for(&shelf.who, v.id));
            out.push('\n');
            out.push_str(&line(v, b["title"].as_str().unwrap_or(""), b["minutes"].as_f64()));
        }
    };
    let recent: Vec<_> = c
        .base_order(Sort::Added)
        .map(|idx| idx.iter().rev().map(|&i| &videos[i as usize]).filter(seen).take(PER_LIST).collect())
        .unwrap_or_default();
    listed("Recently added", recent, &mut out);
    let mut rated: Vec<(u8, &std::sync::Arc<Video>)> = shelf
        .users
        .view(&shelf.who, |view| shelf.videos().filter_map(|v| Some((view.get(v.id)?.rating?, v))).collect());
    rated.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.added.cmp(&a.1.added)));
    listed("Best rated", rated.into_iter().take(PER_LIST).map(|(_, v)| v).collect(), &mut out);
    let unwatched = super::tools::run(shelf, "list_videos", r#"{"unwatched": true, "sort": "added", "limit": 8}"#);
    let unwatched: Value = serde_json::from_str(&unwatched).unwrap_or_default();
    let picks: Vec<_> = unwatched["videos"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| shelf.get(b["id"].as_str()?.parse().ok()?))
        .collect();
    listed("Not watched yet (newest)", picks, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::{Catalog, ScanStats, UserCache, UserData, VideoFile, Viewer};
    use crate::library::ids::VideoId;

    fn library(n: u64) -> Collection {
        let videos = (0..n)
            .map(|i| Video {
                id: VideoId(i + 1),
                files: smallvec::smallvec![VideoFile {
                    root: 0,
                    rel: format!("2024/holidays/Holiday clip number {i} at the seaside.mp4").into_bytes(),
                    size: 1000,
                    mtime_ns: 0,
                    dev: 0,
                    ino: 0,
                }],
                added: i as i64,
                info: None,
                broken: None,
                pos: 0,
            })
            .map(std::sync::Arc::new)
            .collect();
        let catalog = Catalog::new(videos, vec![], Default::default(), ScanStats::default());
        let users = UserCache::default();
        users.set_all((0..n).step_by(7).map(|i| {
            (
                VideoId(i + 1),
                UserData {
                    rating: Some((i % 5) as u8 + 1),
                    tags: vec![format!("tag{}", i % 30)],
                    ..UserData::default()
                },
            )
        }));
        Collection {
            catalog: Arc::new(catalog),
            users: Arc::new(users),
            orders: Arc::default(),
            searches: Arc::default(),
            who: Viewer::Household,
            sight: crate::catalog::Sight::All,
        }
    }

    /// The summary's size does not grow with the library (about 4
    /// characters a token). `cargo test context_size -- --nocapture`
    /// prints it.
    #[test]
    fn context_size_is_bounded() {
        let tools = super::super::tools::definitions().to_string().len();
        for n in [1_000, 100_000] {
            let text = system(&library(n));
            println!(
                "{n} videos: system message {} characters (~{} tokens), tools ~{} tokens",
                text.len(),
                text.len() / 4,
                tools / 4
            );
            assert!(text.len() < 6_000, "{n}: {}", text.len());
            assert!(text.contains(&format!("{n} videos")));
            assert!(text.contains("/watch/"));
        }
    }
}
