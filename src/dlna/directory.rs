//! The ContentDirectory: the library as a tree of containers and video
//! items, browsed and searched a page at a time, written as DIDL-Lite.
//!
//! Object ids:
//! - `0` the root: `all` (by title), `recent` (newest first), `folders`
//!   (the folders on disk), and with no accounts `fav` (favorites) and `pl`
//!   (playlists: `p{n}`); `tags` (`t{hex of the tag}`);
//! - `d{key}`: a folder (the key is a hash of its root and path, so it
//!   stays the same across scans);
//! - `{container}/{video id}`: a video, as listed in that container.
//!
//! A page holds at most `MAX_RETURNED` objects; players ask for the next.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

use crate::app::playlists::Playlists;
use crate::app::UserDataHandle;
use crate::catalog::listing::ListQuery;
use crate::catalog::{Catalog, Order, Sight, Sort, UserData, Video, Viewer};
use crate::library::ids::VideoId;
use crate::media::remux::{playback, Playback};

use super::criteria::Criteria;
use super::escape;
use super::soap::Fault;

/// Most objects one Browse or Search answers with.
pub const MAX_RETURNED: usize = 1000;

/// A container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Root,
    All,
    Recent,
    Folders,
    Folder(u64),
    Favorites,
    Playlists,
    Playlist(u64),
    Tags,
    Tag(String),
}

impl Node {
    pub fn id(&self) -> String {
        match self {
            Node::Root => "0".into(),
            Node::All => "all".into(),
            Node::Recent => "recent".into(),
            Node::Folders => "folders".into(),
            Node::Folder(key) => format!("d{key:016x}"),
            Node::Favorites => "fav".into(),
            Node::Playlists => "pl".into(),
            Node::Playlist(n) => format!("p{n}"),
            Node::Tags => "tags".into(),
            Node::Tag(t) => format!("t{}", t.bytes().map(|b| format!("{b:02x}")).collect::<String>()),
        }
    }

    pub fn parse(id: &str) -> Option<Node> {
        Some(match id {
            "0" => Node::Root,
            "all" => Node::All,
            "recent" => Node::Recent,
            "folders" => Node::Folders,
            "fav" => Node::Favorites,
            "pl" => Node::Playlists,
            "tags" => Node::Tags,
            _ => match id.split_at_checked(1)? {
                ("d", hex) if hex.len() == 16 => Node::Folder(u64::from_str_radix(hex, 16).ok()?),
                ("p", n) => Node::Playlist(n.parse().ok()?),
                ("t", hex) if hex.len() % 2 == 0 && hex.len() <= 512 => {
                    let bytes: Option<Vec<u8>> =
                        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
                    Node::Tag(String::from_utf8(bytes?).ok()?)
                }
                _ => return None,
            },
        })
    }
}

/// An object id: a container, or a video as listed in one.
#[derive(Debug, PartialEq, Eq)]
pub enum Object {
    Container(Node),
    Item(Node, VideoId),
}

impl Object {
    pub fn parse(id: &str) -> Option<Object> {
        match id.rsplit_once('/') {
            Some((container, video)) => Some(Object::Item(Node::parse(container)?, video.parse().ok()?)),
            None => Node::parse(id).map(Object::Container),
        }
    }
}

/// The folders on disk, built once per catalog (`Folders::of`).
#[derive(Debug, Default)]
pub struct Folders {
    /// The catalog's generation they were built from.
    pub generation: u64,
    nodes: Vec<Folder>,
    by_key: HashMap<u64, u32>,
    /// Each root's own folder.
    tops: Vec<u32>,
}

#[derive(Debug)]
struct Folder {
    key: u64,
    parent: Option<u32>,
    name: String,
    folders: Vec<u32>,
    /// Positions in the catalog of the videos right in it.
    videos: Vec<u32>,
    /// Positions of every video under it (a range: the catalog is in path
    /// order).
    under: Range<u32>,
}

fn folder_key(root: usize, path: &[u8]) -> u64 {
    let mut bytes = (root as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(path);
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

impl Folders {
    /// The folder tree of `catalog` (its videos are in path order).
    pub fn of(catalog: &Catalog) -> Folders {
        let mut f = Folders { generation: catalog.generation, ..Folders::default() };
        let mut index: HashMap<(usize, Vec<u8>), u32> = HashMap::new();
        for (root, status) in catalog.roots.iter().enumerate() {
            let name = status
                .path
                .file_name()
                .map_or_else(|| status.path.display().to_string(), |n| n.to_string_lossy().into_owned());
            let top = f.add(None, folder_key(root, b""), name);
            index.insert((root, Vec::new()), top);
            f.tops.push(top);
        }
        for (pos, v) in catalog.videos().iter().enumerate() {
            let file = v.primary();
            let dir = file.rel.iter().rposition(|&b| b == b'/').map_or(&file.rel[..0], |i| &file.rel[..i]);
            let Some(mut at) = index.get(&(file.root, dir.to_vec())).copied().or_else(|| {
                // Each missing folder from the top down.
                let mut at = *index.get(&(file.root, Vec::new()))?;
                let mut end = 0;
                for part in dir.split(|&b| b == b'/') {
                    end += part.len() + usize::from(end > 0);
                    let path = dir[..end].to_vec();
                    at = match index.get(&(file.root, path.clone())) {
                        Some(&n) => n,
                        None => {
                            let n = f.add(
                                Some(at),
                                folder_key(file.root, &path),
                                String::from_utf8_lossy(part).into_owned(),
                            );
                            index.insert((file.root, path), n);
                            n
                        }
                    };
                }
                Some(at)
            }) else {
                continue;
            };
            let pos = pos as u32;
            f.nodes[at as usize].videos.push(pos);
            loop {
                let node = &mut f.nodes[at as usize];
                if node.under.is_empty() {
                    node.under = pos..pos + 1;
                } else {
                    node.under.end = pos + 1;
                }
                match node.parent {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
        // Subfolders by name, ignoring case.
        let names: Vec<String> = f.nodes.iter().map(|n| n.name.to_lowercase()).collect();
        for node in &mut f.nodes {
            node.folders.sort_by(|a, b| names[*a as usize].cmp(&names[*b as usize]));
            node.folders.shrink_to_fit();
            node.videos.shrink_to_fit();
        }
        f
    }

    fn add(&mut self, parent: Option<u32>, key: u64, name: String) -> u32 {
        let n = self.nodes.len() as u32;
        self.nodes.push(Folder { key, parent, name, folders: Vec::new(), videos: Vec::new(), under: 0..0 });
        if let Some(p) = parent {
            self.nodes[p as usize].folders.push(n);
        }
        self.by_key.insert(key, n);
        n
    }

    fn get(&self, key: u64) -> Option<&Folder> {
        self.by_key.get(&key).map(|&n| &self.nodes[n as usize])
    }

    /// A folder's container id; a lone root's own folder is `folders`.
    fn node_of(&self, n: u32) -> Node {
        if self.tops.len() == 1 && self.tops[0] == n {
            Node::Folders
        } else {
            Node::Folder(self.nodes[n as usize].key)
        }
    }
}

/// What Browse and Search read, and how their answers name this server.
pub struct Shelf<'a> {
    pub catalog: &'a Catalog,
    pub user_data: &'a UserDataHandle,
    pub playlists: &'a Playlists,
    pub folders: &'a Folders,
    /// Whose favorites and playlists are shown (`Household` without
    /// accounts; with accounts `Guest`, who has none).
    pub who: &'a Viewer,
    pub sight: &'a Sight,
    /// Whether a video has a thumbnail (album art).
    pub has_art: &'a dyn Fn(VideoId) -> bool,
    /// The path of the SubRip subtitles a television is offered with a
    /// video, if it has any. Blocking (it may read the video's folder);
    /// asked once per item listed.
    pub caption: &'a dyn Fn(&Video) -> Option<String>,
    /// `http://host:port`, as the player reached the server.
    pub base: &'a str,
}

/// A Browse or Search answer.
#[derive(Debug)]
pub struct Page {
    pub didl: String,
    pub returned: usize,
    pub total: usize,
}

/// A container as listed: its node, title and child count when known.
type Entry = (Node, String, Option<usize>);

/// A page of what a container lists: its containers (id, title, child
/// count when known) first, then its videos; and how many it lists in all.
struct Listed {
    containers: Vec<Entry>,
    videos: Vec<Arc<Video>>,
    total: usize,
}

impl Listed {
    /// A page of `containers` then `videos`, both whole lists.
    fn paged(containers: Vec<Entry>, videos: Vec<Arc<Video>>, start: usize, count: usize) -> Listed {
        let total = containers.len() + videos.len();
        let first = containers.len();
        let containers: Vec<_> = containers.into_iter().skip(start).take(count).collect();
        let left = count - containers.len();
        let videos = videos.into_iter().skip(start.saturating_sub(first)).take(left).collect();
        Listed { containers, videos, total }
    }
}

/// The system's update id: changes with the library, user data and
/// playlists.
pub fn update_id(shelf: &Shelf) -> u32 {
    update_id_of(shelf.catalog.generation, shelf.user_data.data.version(), shelf.playlists.generation())
}

/// `update_id` from the catalog's generation, the user data's version
/// and the playlists' generation.
pub fn update_id_of(catalog: u64, user_data: u64, playlists: u64) -> u32 {
    xxhash_rust::xxh3::xxh3_64(format!("{catalog} {user_data} {playlists}").as_bytes()) as u32
}

impl Shelf<'_> {
    fn personal(&self) -> bool {
        *self.who == Viewer::Household
    }

    /// The listing query behind a container of videos.
    fn query(&self, node: &Node) -> Option<ListQuery> {
        let mut q = ListQuery::default();
        match node {
            Node::All => (q.sort, q.order) = (Some(Sort::Title), Some(Order::Asc)),
            Node::Recent => (q.sort, q.order) = (Some(Sort::Added), Some(Order::Desc)),
            Node::Favorites if self.personal() => {
                (q.favorites, q.sort, q.order) = (true, Some(Sort::Added), Some(Order::Desc))
            }
            Node::Tag(t) if !t.contains(',') => {
                (q.tag, q.sort, q.order) = (Some(t.clone()), Some(Sort::Title), Some(Order::Asc))
            }
            Node::Playlist(n) if self.personal() => q.playlist = Some(*n),
            _ => return None,
        }
        Some(q)
    }

    /// `count` videos of the listing `q` from `start`, and how many it has.
    fn slice(&self, mut q: ListQuery, start: usize, count: usize) -> Result<(Vec<Arc<Video>>, usize), Fault> {
        let items = match q.playlist {
            Some(n) => Some(self.playlists.get(self.who, n).ok_or(Fault::NoSuchObject)?.items),
            None => None,
        };
        let inputs = self.user_data.inputs(self.catalog, self.who, self.sight, items.as_deref());
        let per = count.max(1);
        let mut page = |n: usize| {
            q.page = Some(n + 1);
            q.per_page = Some(per);
            q.list(&inputs, per).map_err(|_| Fault::CannotProcess)
        };
        let first = page(start / per)?;
        let total = first.total;
        if count == 0 || start >= total {
            return Ok((Vec::new(), total));
        }
        let mut videos: Vec<Arc<Video>> = first.videos.into_iter().skip(start % per).collect();
        if videos.len() < count && start % per != 0 {
            videos.extend(page(start / per + 1)?.videos.into_iter().take(count - videos.len()));
        }
        videos.truncate(count);
        Ok((videos, total))
    }

    fn count(&self, node: &Node) -> Option<usize> {
        let q = self.query(node)?;
        self.slice(q, 0, 1).ok().map(|(_, total)| total)
    }

    /// The containers the root lists.
    fn top(&self) -> Vec<Entry> {
        let mut out = vec![
            (Node::All, "All videos".to_string(), self.count(&Node::All)),
            (Node::Recent, "Recently added".to_string(), self.count(&Node::Recent)),
            (Node::Folders, "Folders".to_string(), None),
        ];
        if self.personal() {
            out.push((Node::Favorites, "Favorites".to_string(), self.count(&Node::Favorites)));
            out.push((Node::Playlists, "Playlists".to_string(), Some(self.playlists.list(self.who).len())));
        }
        out.push((Node::Tags, "Tags".to_string(), None));
        out
    }

    /// A folder's subfolders (those with a video this sight sees) and
    /// videos.
    fn folder(&self, n: u32) -> (Vec<Entry>, Vec<Arc<Video>>) {
        let f = &self.folders.nodes[n as usize];
        let videos = self.catalog.videos();
        let sees = self.sight.seer(self.catalog);
        let folders = f
            .folders
            .iter()
            .filter(|&&k| self.shown(k, &sees))
            .map(|&k| {
                let sub = &self.folders.nodes[k as usize];
                let count = self.sight.is_all().then_some(sub.folders.len() + sub.videos.len());
                (self.folders.node_of(k), sub.name.clone(), count)
            })
            .collect();
        let direct = f.videos.iter().map(|&p| &videos[p as usize]).filter(|v| sees(v)).cloned().collect();
        (folders, direct)
    }

    /// Whether a folder holds a video `sees` lets through, at any depth.
    fn shown(&self, n: u32, sees: &impl Fn(&Video) -> bool) -> bool {
        let under = &self.folders.nodes[n as usize].under;
        self.catalog.videos()[under.start as usize..under.end as usize].iter().any(|v| sees(v))
    }

    /// The folder a `Folders` or `Folder` node is (`None`: the list of
    /// roots).
    fn folder_of(&self, node: &Node) -> Result<Option<u32>, Fault> {
        match node {
            Node::Folders if self.folders.tops.len() == 1 => Ok(Some(self.folders.tops[0])),
            Node::Folders => Ok(None),
            Node::Folder(key) => Ok(Some(*self.folders.by_key.get(key).ok_or(Fault::NoSuchObject)?)),
            _ => Err(Fault::NoSuchObject),
        }
    }

    /// What `node` lists, from `start`, at most `count`.
    fn children(&self, node: &Node, start: usize, count: usize) -> Result<Listed, Fault> {
        Ok(match node {
            Node::Root => Listed::paged(self.top(), Vec::new(), start, count),
            Node::Folders | Node::Folder(_) => match self.folder_of(node)? {
                None => {
                    let sees = self.sight.seer(self.catalog);
                    let tops = self.folders.tops.iter().filter(|&&t| self.shown(t, &sees)).map(|&t| {
                        let f = &self.folders.nodes[t as usize];
                        (Node::Folder(f.key), f.name.clone(), None)
                    });
                    Listed::paged(tops.collect(), Vec::new(), start, count)
                }
                Some(n) => {
                    let (folders, videos) = self.folder(n);
                    Listed::paged(folders, videos, start, count)
                }
            },
            Node::Playlists if self.personal() => {
                let lists = self.playlists.list(self.who).into_iter();
                Listed::paged(
                    lists.map(|(n, p)| (Node::Playlist(n), p.name, Some(p.items.len()))).collect(),
                    Vec::new(),
                    start,
                    count,
                )
            }
            Node::Tags => {
                let within = self.sight.visible(self.catalog);
                let tags = crate::catalog::query::tag_counts(self.catalog, &self.user_data.data, within.as_deref());
                let mut tags: Vec<_> = tags
                    .into_iter()
                    .filter(|(t, _)| !t.contains(','))
                    .map(|(t, n)| (Node::Tag(t.clone()), t, Some(n)))
                    .collect();
                tags.sort_by_key(|t| t.1.to_lowercase());
                Listed::paged(tags, Vec::new(), start, count)
            }
            other => {
                let q = self.query(other).ok_or(Fault::NoSuchObject)?;
                let (videos, total) = self.slice(q, start, count)?;
                Listed { containers: Vec::new(), videos, total }
            }
        })
    }

    /// Every video `node` holds (folders: the whole tree under it), for
    /// Search.
    fn every_video(&self, node: &Node) -> Result<Vec<Arc<Video>>, Fault> {
        let videos = self.catalog.videos();
        let range = match node {
            Node::Root | Node::All | Node::Recent => 0..videos.len(),
            Node::Folders | Node::Folder(_) => match self.folder_of(node)? {
                None => 0..videos.len(),
                Some(n) => {
                    let under = &self.folders.nodes[n as usize].under;
                    under.start as usize..under.end as usize
                }
            },
            other => {
                let q = self.query(other).ok_or(Fault::NoSuchObject)?;
                return Ok(self.slice(q, 0, videos.len())?.0);
            }
        };
        let sees = self.sight.seer(self.catalog);
        Ok(videos[range].iter().filter(|v| sees(v)).cloned().collect())
    }

    /// The parent of a container (`-1` for the root).
    fn parent(&self, node: &Node) -> Result<String, Fault> {
        Ok(match node {
            Node::Root => "-1".into(),
            Node::Playlist(_) => Node::Playlists.id(),
            Node::Tag(_) => Node::Tags.id(),
            Node::Folder(key) => {
                let f = self.folders.get(*key).ok_or(Fault::NoSuchObject)?;
                match f.parent {
                    Some(p) => self.folders.node_of(p).id(),
                    None => Node::Folders.id(),
                }
            }
            _ => Node::Root.id(),
        })
    }

    /// A container's title, for BrowseMetadata.
    fn title(&self, node: &Node) -> Result<String, Fault> {
        Ok(match node {
            Node::Root => "vidserve".into(),
            Node::Folder(key) => self.folders.get(*key).ok_or(Fault::NoSuchObject)?.name.clone(),
            Node::Playlist(n) if self.personal() => self.playlists.get(self.who, *n).ok_or(Fault::NoSuchObject)?.name,
            Node::Tag(t) => t.clone(),
            Node::Favorites | Node::Playlists | Node::Playlist(_) if !self.personal() => {
                return Err(Fault::NoSuchObject)
            }
            other => self.top().into_iter().find(|(n, ..)| n == other).map(|(_, t, _)| t).ok_or(Fault::NoSuchObject)?,
        })
    }

    /// `Browse`: an object's own metadata, or a page of a container's
    /// children.
    pub fn browse(&self, id: &str, children: bool, start: usize, count: usize) -> Result<Page, Fault> {
        let object = Object::parse(id).ok_or(Fault::NoSuchObject)?;
        let count = if count == 0 { MAX_RETURNED } else { count.min(MAX_RETURNED) };
        let mut didl = Didl::new();
        match (object, children) {
            (Object::Container(node), true) => {
                let listed = self.children(&node, start, count)?;
                for (child, title, n) in &listed.containers {
                    didl.container(&child.id(), &node.id(), title, *n);
                }
                for v in &listed.videos {
                    self.item(&mut didl, &node, v);
                }
                Ok(didl.page(listed.total))
            }
            (Object::Container(node), false) => {
                let title = self.title(&node)?;
                let count = match &node {
                    Node::Root => Some(self.top().len()),
                    Node::Folders | Node::Folder(_) => None,
                    other => self.count(other),
                };
                didl.container(&node.id(), &self.parent(&node)?, &title, count);
                Ok(didl.page(1))
            }
            (Object::Item(node, video), false) => {
                let v = self
                    .catalog
                    .get(video)
                    .filter(|v| self.sight.sees(self.catalog, v) && v.broken.is_none())
                    .ok_or(Fault::NoSuchObject)?;
                self.item(&mut didl, &node, v);
                Ok(didl.page(1))
            }
            (Object::Item(..), true) => Ok(didl.page(0)),
        }
    }

    /// `Search`: the videos under a container that meet `criteria`.
    pub fn search(&self, id: &str, criteria: &Criteria, start: usize, count: usize) -> Result<Page, Fault> {
        let Some(Object::Container(node)) = Object::parse(id) else { return Err(Fault::NoSuchObject) };
        let count = if count == 0 { MAX_RETURNED } else { count.min(MAX_RETURNED) };
        let videos = self.every_video(&node)?;
        let container = node.id();
        let mut total = 0;
        let mut didl = Didl::new();
        for v in &videos {
            let user = self.user_data.data.get_for(self.who, v.id);
            let title = v.title_for(&user);
            let value = |p: &str| -> Option<Cow<'_, str>> {
                match p {
                    "upnp:class" => Some(Cow::Borrowed(VIDEO_ITEM)),
                    "dc:title" => Some(Cow::Borrowed(title.as_ref())),
                    "dc:date" => Some(Cow::Owned(crate::catalog::utc(v.taken().unwrap_or(v.added)))),
                    "@id" => Some(Cow::Owned(format!("{container}/{}", v.id))),
                    "@parentID" => Some(Cow::Borrowed(container.as_str())),
                    "res" | "res@size" | "res@protocolInfo" => Some(Cow::Borrowed("")),
                    "upnp:genre" | "dc:subject" => (!user.tags.is_empty()).then(|| Cow::Owned(user.tags.join(", "))),
                    _ => None,
                }
            };
            if criteria.admits(&value) {
                if total >= start && didl.returned < count {
                    self.item(&mut didl, &node, v);
                }
                total += 1;
            }
        }
        Ok(didl.page(total))
    }

    /// A video as a DIDL-Lite item listed in `container`.
    fn item(&self, didl: &mut Didl, container: &Node, v: &Video) {
        let user: UserData = self.user_data.data.get_for(self.who, v.id);
        let art = (self.has_art)(v.id).then(|| format!("{}/dlna/art/{}.jpg", self.base, v.id));
        let caption = (self.caption)(v).map(|path| format!("{}{path}", self.base));
        let mut res = Vec::new();
        let stored = Res {
            mime: mime(v),
            url: format!("{}/dlna/media/{}", self.base, v.id),
            size: Some(v.size()),
            converted: false,
        };
        match playback(v) {
            Playback::Remuxed { .. } => {
                let url = format!("{}/dlna/play/{}", self.base, v.id);
                res.push(Res { mime: Cow::Borrowed("video/mp4"), url, size: None, converted: true });
                res.push(stored);
            }
            Playback::AsStored | Playback::Not => res.push(stored),
        }
        didl.item(
            &format!("{}/{}", container.id(), v.id),
            &container.id(),
            v,
            &v.title_for(&user),
            art.as_deref(),
            &res,
            caption.as_deref(),
        );
    }
}

/// The DIDL-Lite description of one video sent to a renderer
/// (`SetAVTransportURI`'s metadata): its title, art and the one link.
pub fn cast_item(v: &Video, title: &str, url: &str, mime: &str, converted: bool, caption: Option<&str>) -> String {
    let mut didl = Didl::new();
    let res = Res { mime: Cow::Owned(mime.to_string()), url: url.to_string(), size: None, converted };
    didl.item(&v.id.to_string(), "0", v, title, None, &[res], caption);
    didl.page(1).didl
}

const VIDEO_ITEM: &str = "object.item.videoItem";

/// `H:MM:SS.mmm`, as `res@duration` has it.
fn duration(ms: u64) -> String {
    format!("{}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// The MIME type players expect for a video's container.
pub fn mime(v: &Video) -> Cow<'static, str> {
    let container = v.info.as_ref().map(|i| i.container.as_str().to_string()).unwrap_or_default();
    Cow::Borrowed(match container.as_str() {
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "3gp" => "video/3gpp",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ogg" => "video/ogg",
        "ts" => "video/mpeg",
        "m2ts" => "video/vnd.dlna.mpeg-tts",
        "flv" => "video/x-flv",
        "avi" => "video/x-msvideo",
        "mpeg" | "vob" => "video/mpeg",
        "asf" => "video/x-ms-asf",
        _ => {
            let path = v.primary().rel_path();
            return Cow::Owned(mime_guess::from_path(path).first_or_octet_stream().essence_str().to_string());
        }
    })
}

/// The DLNA fourth field of a resource's protocol info: seeks by byte range
/// (`OP=01`), whether it is converted (`CI`), and the flags of a streamed
/// resource under DLNA 1.5; the remuxed MP4 also by time (`OP=11`).
pub fn features(converted: bool) -> String {
    // The remuxed MP4 also seeks by time (`TimeSeekRange.dlna.org`).
    let op = if converted { "11" } else { "01" };
    format!("DLNA.ORG_OP={op};DLNA.ORG_CI={};DLNA.ORG_FLAGS=01700000000000000000000000000000", u8::from(converted))
}

/// A `TimeSeekRange.dlna.org` request's `npt=START-[END]` in
/// milliseconds (times as seconds, `12.5`, or clock times, `0:01:02.5`).
pub fn time_seek(value: &str) -> Option<(u64, Option<u64>)> {
    let range = value.trim().strip_prefix("npt=")?;
    // Only the time range (a `bytes=` part after it is ignored).
    let range = range.split_whitespace().next()?;
    let (start, end) = range.split_once('-')?;
    let start = npt_ms(start)?;
    let end = if end.is_empty() { None } else { Some(npt_ms(end)?) };
    end.is_none_or(|e| e > start).then_some((start, end))
}

/// One `npt` time in milliseconds: `12.5`, or a clock time `1:02:03.5`
/// read as AVTransport's are (`cast::parse_clock`).
fn npt_ms(t: &str) -> Option<u64> {
    if t.contains(':') {
        return super::cast::parse_clock(t);
    }
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let s: u64 = whole.parse().ok()?;
    let dot = if frac.is_empty() { "" } else { "." };
    super::cast::parse_clock(&format!("{}:{:02}:{:02}{dot}{frac}", s / 3600, s / 60 % 60, s % 60))
}

/// One way to fetch a video.
struct Res {
    mime: Cow<'static, str>,
    url: String,
    size: Option<u64>,
    converted: bool,
}

/// A DIDL-Lite document being written.
struct Didl {
    out: String,
    returned: usize,
}

impl Didl {
    fn new() -> Didl {
        Didl {
            out: String::from(
                "<DIDL-Lite xmlns=\"urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
                 xmlns:upnp=\"urn:schemas-upnp-org:metadata-1-0/upnp/\" xmlns:dlna=\"urn:schemas-dlna-org:metadata-1-0/\" \
                 xmlns:sec=\"http://www.sec.co.kr/\">",
            ),
            returned: 0,
        }
    }

    fn container(&mut self, id: &str, parent: &str, title: &str, count: Option<usize>) {
        let count = count.map(|n| format!(" childCount=\"{n}\"")).unwrap_or_default();
        let _ = write!(
            self.out,
            "<container id=\"{}\" parentID=\"{}\" restricted=\"1\" searchable=\"1\"{count}><dc:title>{}</dc:title>\
             <upnp:class>object.container.storageFolder</upnp:class></container>",
            escape(id),
            escape(parent),
            escape(title)
        );
        self.returned += 1;
    }

    /// A video item; `caption`, its subtitles' link, as a SubRip resource
    /// and as Samsung's televisions look for it (`sec:CaptionInfoEx`).
    #[allow(clippy::too_many_arguments)]
    fn item(
        &mut self,
        id: &str,
        parent: &str,
        v: &Video,
        title: &str,
        art: Option<&str>,
        res: &[Res],
        caption: Option<&str>,
    ) {
        let _ = write!(
            self.out,
            "<item id=\"{}\" parentID=\"{}\" restricted=\"1\"><dc:title>{}</dc:title><upnp:class>{VIDEO_ITEM}</upnp:class>\
             <dc:date>{}</dc:date>",
            escape(id),
            escape(parent),
            escape(title),
            crate::catalog::utc(v.taken().unwrap_or(v.added))
        );
        if let Some(art) = art {
            let _ = write!(self.out, "<upnp:albumArtURI dlna:profileID=\"JPEG_SM\">{}</upnp:albumArtURI>", escape(art));
        }
        for r in res {
            let _ = write!(self.out, "<res protocolInfo=\"http-get:*:{}:{}\"", escape(&r.mime), features(r.converted));
            if let Some(size) = r.size {
                let _ = write!(self.out, " size=\"{size}\"");
            }
            if let Some(ms) = v.duration_ms() {
                let _ = write!(self.out, " duration=\"{}\"", duration(ms));
            }
            if let Some(i) = &v.info {
                if let (Some(w), Some(h)) = (i.width, i.height) {
                    let _ = write!(self.out, " resolution=\"{w}x{h}\"");
                }
                if let (Some(b), false) = (i.bitrate, r.converted) {
                    // Bytes a second, as UPnP counts.
                    let _ = write!(self.out, " bitrate=\"{}\"", b / 8);
                }
            }
            let _ = write!(self.out, ">{}</res>", escape(&r.url));
        }
        if let Some(c) = caption {
            let c = escape(c);
            let _ = write!(
                self.out,
                "<res protocolInfo=\"http-get:*:text/srt:*\">{c}</res><sec:CaptionInfoEx sec:type=\"srt\">{c}</sec:CaptionInfoEx>"
            );
        }
        self.out.push_str("</item>");
        self.returned += 1;
    }

    fn page(mut self, total: usize) -> Page {
        self.out.push_str("</DIDL-Lite>");
        Page { didl: self.out, returned: self.returned, total: total.max(self.returned) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_seek_ranges_are_read_strictly() {
        assert_eq!(time_seek("npt=30-"), Some((30_000, None)));
        assert_eq!(time_seek("npt=12.5-60.25"), Some((12_500, Some(60_250))));
        assert_eq!(time_seek("npt=0:01:02.345-"), Some((62_345, None)));
        assert_eq!(time_seek("npt=1:00:00-2:00:00"), Some((3_600_000, Some(7_200_000))));
        assert_eq!(time_seek(" npt=5.123456- bytes=0-"), Some((5_123, None)), "beyond milliseconds ignored");
        for bad in [
            "",
            "npt=",
            "npt=-5",
            "npt=now-",
            "npt=5",
            "npt=10-5",
            "npt=1:2:3:4-",
            "npt=a-",
            "npt=1e3-",
            "npt=9999999999-",
            "bytes=0-",
        ] {
            assert_eq!(time_seek(bad), None, "{bad}");
        }
        assert_eq!(super::super::cast::npt(62_345), "62.345");
        assert!(features(true).starts_with("DLNA.ORG_OP=11;DLNA.ORG_CI=1;"));
        assert!(features(false).starts_with("DLNA.ORG_OP=01;DLNA.ORG_CI=0;"));
    }
}
