//! Thumbnails: one picture per video, stored in the data dir as JPEG at
//! `SIZES` widths, keyed by video id. Sources in order: an image beside the
//! file (`name.jpg|jpeg|png|webp`, then `poster.jpg`/`folder.jpg`/`cover.jpg`
//! in its folder), cover art inside the file (MP4 `covr`, Matroska attachments),
//! a frame at 10 % of the video taken by ffmpeg, and last a frame the
//! browser sends while playing (`store`). Every image is decoded with
//! limits (no decompression bombs) and re-encoded. With ffmpeg, a preview
//! strip of 20 frames per video too (`make_sprite`, `sprite`).

use crate::catalog::Located;
use crate::library::roots::Roots;
use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use image::{DynamicImage, ImageReader, Limits};

use super::ffmpeg::Ffmpeg;
use super::MediaError;
use crate::library::ids::VideoId;

/// Widths stored; the gallery picks with `srcset`.
pub const SIZES: [u32; 2] = [320, 640];
const SIDECAR_EXTS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];
const FOLDER_IMAGES: [&str; 3] = ["poster.jpg", "folder.jpg", "cover.jpg"];
/// A folder's poster: 2:3, as wide as the smaller thumbnail.
pub const POSTER_SIZE: (u32, u32) = (320, 480);
/// A video's poster (`poster_path`): 2:3 out of its larger thumbnail,
/// where its detail is, at most this high.
const VIDEO_POSTER_HEIGHT: u32 = 480;
/// Largest image file read as a source.
pub const MAX_SOURCE_BYTES: u64 = 20 * 1024 * 1024;

/// Where a thumbnail came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Sidecar,
    /// Cover art inside the video file.
    Embedded,
    Ffmpeg,
}

pub struct Thumbs {
    dir: PathBuf,
    have: RwLock<HashSet<VideoId>>,
    /// Preview sprites: tile width and height of each.
    sprites: RwLock<HashMap<VideoId, (u32, u32)>>,
    /// Taken while a folder's poster is made (`folder_poster`).
    posters: std::sync::Mutex<()>,
    /// Folder images that could not be made posters (by `folder_poster`'s key).
    failed_posters: RwLock<HashSet<u64>>,
}

impl Thumbs {
    /// Opens (creating) `data_dir/thumbs` and notes which ids have one.
    pub fn open(data_dir: &Path) -> std::io::Result<Thumbs> {
        let dir = data_dir.join("thumbs");
        std::fs::create_dir_all(&dir)?;
        let mut have = HashSet::new();
        let mut sprites = HashMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some((id, tile)) = parse_sprite_name(&name) {
                sprites.insert(id, tile);
                continue;
            }
            if let Some(id) = name.strip_suffix(&format!("-{}.jpg", SIZES[SIZES.len() - 1])) {
                if let Ok(id) = id.parse() {
                    have.insert(id);
                }
            }
        }
        Ok(Thumbs {
            dir,
            have: RwLock::new(have),
            sprites: RwLock::new(sprites),
            posters: Default::default(),
            failed_posters: Default::default(),
        })
    }

    pub fn has(&self, id: VideoId) -> bool {
        self.have.read().is_ok_and(|h| h.contains(&id))
    }

    pub fn count(&self) -> usize {
        self.have.read().map_or(0, |h| h.len())
    }

    /// Where the videos whose thumbnail failed are remembered (`jobs::failures`).
    pub fn failures_file(&self) -> PathBuf {
        self.dir.join("failed.txt")
    }

    /// The stored file for `id` at `width` (one of `SIZES`).
    pub fn path(&self, id: VideoId, width: u32) -> PathBuf {
        self.dir.join(format!("{id}-{width}.jpg"))
    }

    /// The video's 2:3 poster (a film's, or a series' without a picture
    /// of its own): the window of its thumbnail where the subject is
    /// (`subject_at`), made with the thumbnail, or now from the stored one
    /// when it was made before posters were. `None` without a thumbnail.
    /// Blocking.
    pub fn poster_path(&self, id: VideoId) -> Result<Option<PathBuf>, MediaError> {
        let path = self.dir.join(format!("{id}-poster.jpg"));
        if path.exists() {
            return Ok(Some(path));
        }
        let Ok(stored) = std::fs::read(self.path(id, SIZES[SIZES.len() - 1])) else { return Ok(None) };
        let _turn = self.posters.lock().unwrap_or_else(|e| e.into_inner());
        write_atomically(&path, &video_poster(&decode(&stored)?)?)?;
        Ok(Some(path))
    }

    /// Makes the thumbnail of a video from the first source that works.
    /// Every file is opened beneath its root (`roots`: canonical paths).
    pub fn make(
        &self,
        id: VideoId,
        files: &[Located],
        roots: &Roots,
        duration_ms: Option<u64>,
        ffmpeg: Option<&Ffmpeg>,
    ) -> Result<Source, MediaError> {
        if let Some(bytes) = files.iter().find_map(|f| sidecar(f, roots)) {
            match self.store(id, &bytes) {
                Ok(()) => return Ok(Source::Sidecar),
                // A broken image beside the file: fall back to a frame.
                Err(e) if ffmpeg.is_none() => return Err(e),
                Err(_) => {}
            }
        }
        let cover = files.iter().find_map(|f| {
            let o = f.open(roots).ok()?;
            crate::library::probe::cover_of(&o.content)
        });
        if let Some(bytes) = cover {
            match self.store(id, &bytes) {
                Ok(()) => return Ok(Source::Embedded),
                Err(e) if ffmpeg.is_none() => return Err(e),
                Err(_) => {}
            }
        }
        let Some(ffmpeg) = ffmpeg else {
            return Err(MediaError::NoSource(", no cover inside it, and no ffmpeg to take a frame"));
        };
        let at = duration_ms.map_or(1.0, |ms| ms as f64 / 1000.0 * 0.1);
        let video = files.first().ok_or(MediaError::NoSource(""))?.open(roots)?;
        let png = ffmpeg.frame_png(&video.content, at, SIZES[SIZES.len() - 1])?;
        self.store(id, &png)?;
        Ok(Source::Ffmpeg)
    }

    /// Decodes `bytes` (any supported format, within limits), and writes
    /// every size. Refuses anything that is not a sane image.
    pub fn store(&self, id: VideoId, bytes: &[u8]) -> Result<(), MediaError> {
        self.store_image(id, decode(bytes)?)
    }

    /// `store` for an image a browser sent: at most `MAX_UPLOAD_SIDE` on a
    /// side (checked before decoding).
    pub fn store_upload(&self, id: VideoId, bytes: &[u8]) -> Result<(), MediaError> {
        self.store_image(id, decode_within(bytes, MAX_UPLOAD_SIDE)?)
    }

    fn store_image(&self, id: VideoId, img: DynamicImage) -> Result<(), MediaError> {
        for width in SIZES {
            let resized = if img.width() > width {
                img.resize(width, width * 3, image::imageops::FilterType::Triangle)
            } else {
                img.clone()
            };
            let mut out = Vec::new();
            let rgb = DynamicImage::ImageRgb8(resized.to_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
            rgb.write_with_encoder(encoder).map_err(|e| MediaError::Image(e.to_string()))?;
            write_atomically(&self.path(id, width), &out)?;
        }
        write_atomically(&self.dir.join(format!("{id}-poster.jpg")), &video_poster(&img)?)?;
        if let Ok(mut have) = self.have.write() {
            have.insert(id);
        }
        Ok(())
    }

    /// Whether `dir` (below root `root`) holds a picture `folder_poster`
    /// would use. Blocking: opens at most three files.
    pub fn has_folder_poster(roots: &Roots, root: usize, dir: &Path) -> bool {
        FOLDER_IMAGES
            .iter()
            .any(|name| roots.open(root, &dir.join(name), None).is_ok_and(|o| o.size <= MAX_SOURCE_BYTES))
    }

    /// The poster of a folder (a series'): its `poster.jpg`, `folder.jpg`
    /// or `cover.jpg` (opened beneath root `root` like a video), cropped
    /// to 2:3 and `POSTER_SIZE`, made once per source image (kept beside
    /// the thumbnails, named by where the image is and its size and time).
    /// `None` when the folder has none.
    pub fn folder_poster(&self, roots: &Roots, root: usize, dir: &Path) -> Result<Option<PathBuf>, MediaError> {
        // One poster made at a time (a decode may take a lot of memory);
        // one that failed is not tried again until its image changes.
        let _turn = self.posters.lock().unwrap_or_else(|e| e.into_inner());
        for name in FOLDER_IMAGES {
            let rel = dir.join(name);
            let Ok(o) = roots.open(root, &rel, None) else { continue };
            if o.size > MAX_SOURCE_BYTES {
                continue;
            }
            let mut key = root.to_le_bytes().to_vec();
            key.extend_from_slice(rel.as_os_str().as_encoded_bytes());
            key.extend_from_slice(&o.size.to_le_bytes());
            key.extend_from_slice(&o.mtime_ns.to_le_bytes());
            let hash = xxhash_rust::xxh3::xxh3_64(&key);
            let path = self.dir.join(format!("poster-{hash:016x}.jpg"));
            if path.exists() {
                return Ok(Some(path));
            }
            if self.failed_posters.read().is_ok_and(|f| f.contains(&hash)) {
                continue;
            }
            let out = match poster_of(&o.content) {
                Ok(out) => out,
                Err(e) => {
                    if let Ok(mut f) = self.failed_posters.write() {
                        f.insert(hash);
                    }
                    return Err(e);
                }
            };
            write_atomically(&path, &out)?;
            return Ok(Some(path));
        }
        Ok(None)
    }

    /// The preview sprite's tile size, if the video has one.
    pub fn sprite(&self, id: VideoId) -> Option<(u32, u32)> {
        self.sprites.read().ok()?.get(&id).copied()
    }

    pub fn sprite_path(&self, id: VideoId, tile: (u32, u32)) -> PathBuf {
        self.dir.join(format!("{id}-sprite-{}x{}.jpg", tile.0, tile.1))
    }

    /// Makes the preview sprite of a video with ffmpeg (10 x 2 tiles).
    pub fn make_sprite(
        &self,
        id: VideoId,
        video: &Located,
        roots: &Roots,
        duration_ms: u64,
        ffmpeg: &Ffmpeg,
    ) -> Result<(), MediaError> {
        let video = video.open(roots)?;
        let png = ffmpeg.sprite_png(&video.content, duration_ms as f64 / 1000.0)?;
        let img = decode(&png)?;
        let tile = (img.width() / 10, img.height() / 2);
        if tile.0 == 0 || tile.1 == 0 {
            return Err(MediaError::Image("empty preview strip".into()));
        }
        let mut out = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75);
        DynamicImage::ImageRgb8(img.to_rgb8())
            .write_with_encoder(encoder)
            .map_err(|e| MediaError::Image(e.to_string()))?;
        let path = self.sprite_path(id, tile);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &out)?;
        std::fs::rename(&tmp, &path)?;
        if let Ok(mut s) = self.sprites.write() {
            s.insert(id, tile);
        }
        Ok(())
    }

    /// Forgets every stored thumbnail and preview strip (`thumbnails
    /// --regenerate`, and the admin page's regenerate).
    pub fn clear(&self) -> std::io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            let p = entry?.path();
            if p.extension().is_some_and(|e| e == "jpg") {
                std::fs::remove_file(p)?;
            }
        }
        if let Ok(mut have) = self.have.write() {
            have.clear();
        }
        if let Ok(mut s) = self.sprites.write() {
            s.clear();
        }
        Ok(())
    }
}

/// `{id}-sprite-{w}x{h}.jpg` -> id and tile size.
fn parse_sprite_name(name: &str) -> Option<(VideoId, (u32, u32))> {
    let rest = name.strip_suffix(".jpg")?;
    let (id, tile) = rest.split_once("-sprite-")?;
    let (w, h) = tile.split_once('x')?;
    Some((id.parse().ok()?, (w.parse().ok()?, h.parse().ok()?)))
}

/// Decodes with limits: at most 12,000 pixels a side and 256 MiB.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, MediaError> {
    decode_within(bytes, 12_000)
}

/// Most pixels of any image decoded (a 40 MP photo beside a video is fine).
const MAX_PIXELS: u64 = 40_000_000;
/// Most memory one decode may allocate.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// Largest side of an image a browser sends (`store_upload`).
pub const MAX_UPLOAD_SIDE: u32 = 4096;

/// Decodes with at most `max_side` pixels on a side, read from the header
/// before any pixel is decoded, and a matching allocation limit.
fn decode_within(bytes: &[u8], max_side: u32) -> Result<DynamicImage, MediaError> {
    let reader =
        || ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| MediaError::Image(e.to_string()));
    let (w, h) = reader()?.into_dimensions().map_err(|e| MediaError::Image(e.to_string()))?;
    if w > max_side || h > max_side {
        return Err(MediaError::Image(format!("{w}x{h} pixels; at most {max_side} on a side")));
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(MediaError::Image(format!("{w}x{h} pixels; at most {} megapixels", MAX_PIXELS / 1_000_000)));
    }
    let mut reader = reader()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(max_side);
    limits.max_image_height = Some(max_side);
    // Decoded RGBA plus the decoder's own buffers, and never above 256 MiB.
    limits.max_alloc = Some((u64::from(max_side) * u64::from(max_side) * 4 * 2).min(MAX_DECODE_BYTES));
    reader.limits(limits);
    let img = reader.decode().map_err(|e| MediaError::Image(e.to_string()))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(MediaError::Image("empty image".into()));
    }
    Ok(img)
}

/// The bytes of the first image beside `video`, if any.
/// An image beside the video, opened beneath its root like the video
/// (never a link out of the served folders, never a FIFO), at most
/// `MAX_SOURCE_BYTES`.
fn sidecar(video: &Located, roots: &Roots) -> Option<Vec<u8>> {
    let dir = video.rel.parent().unwrap_or(Path::new(""));
    let stem = video.rel.file_stem()?;
    let by_name = SIDECAR_EXTS.iter().map(|e| {
        let mut name = stem.to_os_string();
        name.push(".");
        name.push(e);
        dir.join(name)
    });
    // A folder's picture suits a folder holding one film, not a folder of
    // clips: it is used only when the video is alone in its folder.
    let alone = videos_in(roots, video.root, dir) <= 1;
    let in_folder = FOLDER_IMAGES.iter().filter(|_| alone).map(|n| dir.join(n));
    by_name.chain(in_folder).find_map(|rel| {
        let o = roots.open(video.root, &rel, None).ok()?;
        if o.size > MAX_SOURCE_BYTES {
            return None;
        }
        crate::container::Source::read_vec(&o.content, 0, MAX_SOURCE_BYTES).ok()
    })
}

/// A poster from an image file's content: cropped to 2:3, `POSTER_SIZE`.
fn poster_of(content: &crate::library::roots::Content) -> Result<Vec<u8>, MediaError> {
    let bytes = crate::container::Source::read_vec(content, 0, MAX_SOURCE_BYTES)?;
    let (w, h) = POSTER_SIZE;
    let img = decode(&bytes)?.resize_to_fill(w, h, image::imageops::FilterType::Triangle);
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
    DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(encoder).map_err(|e| MediaError::Image(e.to_string()))?;
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary file beside it, so a
/// reader never sees half of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// A video's poster from its thumbnail: the 2:3 window where the subject
/// is (the whole picture when it is no wider), at most
/// `VIDEO_POSTER_HEIGHT` high, as JPEG.
fn video_poster(img: &DynamicImage) -> Result<Vec<u8>, MediaError> {
    let (w, h) = (img.width(), img.height());
    let window = (h * 2 / 3).clamp(1, w);
    let tall = (window * 3 / 2).clamp(1, h);
    let x = subject_at(&img.to_luma8(), window);
    let mut poster = img.crop_imm(x, (h - tall) / 2, window, tall);
    if poster.height() > VIDEO_POSTER_HEIGHT {
        poster = poster.resize(VIDEO_POSTER_HEIGHT, VIDEO_POSTER_HEIGHT, image::imageops::FilterType::Triangle);
    }
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
    DynamicImage::ImageRgb8(poster.to_rgb8())
        .write_with_encoder(encoder)
        .map_err(|e| MediaError::Image(e.to_string()))?;
    Ok(out)
}

/// The left edge of the `window`-wide column of `img` where its detail is
/// (edges and texture: a face, a figure; not sky, wall or a blurred
/// background), by the sum of the brightness steps to each pixel's right
/// and below. A window away from the middle must be clearly better (the
/// middle is where a picture's subject usually is).
fn subject_at(img: &image::GrayImage, window: u32) -> u32 {
    let (w, h) = img.dimensions();
    if window >= w || h < 2 {
        return 0;
    }
    let mut columns = vec![0u64; w as usize];
    for y in 0..h - 1 {
        for x in 0..w - 1 {
            let p = i32::from(img.get_pixel(x, y)[0]);
            let right = i32::from(img.get_pixel(x + 1, y)[0]);
            let below = i32::from(img.get_pixel(x, y + 1)[0]);
            columns[x as usize] += u64::from((right - p).unsigned_abs() + (below - p).unsigned_abs());
        }
    }
    let middle = (w - window) / 2;
    let score = |sum: u64, x: u32| {
        let off = f64::from(x.abs_diff(middle)) / f64::from(middle.max(1));
        sum as f64 * (1.0 - 0.25 * off)
    };
    let mut sum: u64 = columns[..window as usize].iter().sum();
    let mut best = (score(sum, 0), 0u32);
    for x in 1..=(w - window) {
        sum = sum + columns[(x + window - 1) as usize] - columns[(x - 1) as usize];
        let s = score(sum, x);
        // Ties go to the window nearer the middle.
        if s > best.0 || (s == best.0 && x.abs_diff(middle) < best.1.abs_diff(middle)) {
            best = (s, x);
        }
    }
    best.1
}

/// How many videos a folder holds (up to 2: enough to tell).
fn videos_in(roots: &Roots, root: usize, dir: &Path) -> usize {
    roots.names_in(root, dir, crate::library::is_video_name, 2).map_or(0, |names| names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 30, 30]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn stores_every_size_and_refuses_garbage() {
        let data = tempfile::tempdir().unwrap();
        let thumbs = Thumbs::open(data.path()).unwrap();
        let id = VideoId(7);
        thumbs.store(id, &png(1280, 720)).unwrap();
        assert!(thumbs.has(id));
        for w in SIZES {
            let img = decode(&std::fs::read(thumbs.path(id, w)).unwrap()).unwrap();
            assert_eq!((img.width(), img.height()), (w, w * 9 / 16));
        }
        assert!(thumbs.store(VideoId(8), b"definitely not an image").is_err());
        assert!(!thumbs.has(VideoId(8)));
        // Reopening finds what is stored.
        assert!(Thumbs::open(data.path()).unwrap().has(id));
        // The poster: 2:3 of the picture stored, at most 480 high.
        let poster = decode(&std::fs::read(thumbs.poster_path(id).unwrap().unwrap()).unwrap()).unwrap();
        assert_eq!((poster.width(), poster.height()), (320, 480));
        assert!(thumbs.poster_path(VideoId(8)).unwrap().is_none());
    }

    #[test]
    fn a_poster_is_cut_where_the_subject_is() {
        // A plain picture with a striped figure in its left quarter.
        let mut img = image::GrayImage::from_pixel(640, 360, image::Luma([90]));
        for x in 40..140 {
            for y in 60..300 {
                img.put_pixel(x, y, image::Luma(if (x / 4 + y / 6) % 2 == 0 { [20] } else { [230] }));
            }
        }
        let x = subject_at(&img, 240);
        assert!(x <= 40 && x + 240 >= 140, "the window at {x} holds the figure");
        // Nothing to choose by: the middle.
        assert_eq!(subject_at(&image::GrayImage::from_pixel(640, 360, image::Luma([90])), 240), 200);
        // No wider than the window: all of it.
        assert_eq!(subject_at(&image::GrayImage::new(200, 300), 200), 0);
        // A poster made of such a picture holds the figure, and a thumbnail
        // made before posters were gets its poster when asked.
        let data = tempfile::tempdir().unwrap();
        let thumbs = Thumbs::open(data.path()).unwrap();
        let mut bytes = Vec::new();
        DynamicImage::ImageLuma8(img).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        thumbs.store(VideoId(3), &bytes).unwrap();
        let made = std::fs::read(thumbs.poster_path(VideoId(3)).unwrap().unwrap()).unwrap();
        std::fs::remove_file(thumbs.poster_path(VideoId(3)).unwrap().unwrap()).unwrap();
        let again = decode(&std::fs::read(thumbs.poster_path(VideoId(3)).unwrap().unwrap()).unwrap()).unwrap();
        assert_eq!((again.width(), again.height()), (240, 360));
        let poster = decode(&made).unwrap().to_luma8();
        let dark = poster.pixels().filter(|p| p[0] < 60).count();
        assert!(dark > 240 * 360 / 10, "the stripes are in the poster: {dark} dark pixels");
    }
}
