//! The admin page: roots, scan facts, broken files, cache.

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use crate::catalog::{Catalog, RootState};

pub struct AdminView<'a> {
    pub catalog: &'a Catalog,
    /// The dashboard's numbers of the last minute (a JSON array), so its
    /// charts start full.
    pub perf: String,
    pub cache_hits: u64,
    pub cache_rebuilds: u64,
    pub data_dir: String,
    pub rescan_every_s: u64,
    pub jobs: JobsView,
    pub visitor: Visitor,
    /// Accounts, for the Users section.
    pub accounts: Vec<super::accounts::AccountRow>,
    /// The libraries, for the Libraries section.
    pub libraries: Vec<crate::people::libraries::Library>,
    /// What guests see, when guests are let in (`None` inside: everything).
    pub guest: Option<Option<Vec<String>>>,
    /// The chat's endpoint and model (`None`: chat is off). Never the key.
    pub chat: Option<(String, String)>,
    /// Where other devices reach the server.
    pub network_urls: Vec<String>,
    /// HTTPS, and how devices come to trust it.
    pub tls: TlsView,
    /// Where transcoding stands (encoders, slots).
    pub transcoding: crate::media::transcode::Status,
    /// How each root is kept up to date (`None`: by notifications; else
    /// why it is polled).
    pub polled: Vec<Option<String>>,
}

/// A QR code of `url` as SVG (our own address, never request data).
fn qr(url: &str) -> Option<maud::PreEscaped<String>> {
    let code = qrcode::QrCode::new(url).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build();
    Some(maud::PreEscaped(svg))
}

/// HTTPS as the admin page shows it.
pub enum TlsView {
    Off,
    /// A certificate of one's own, from this file.
    Files {
        cert: String,
    },
    /// This server's own authority: its name, its SHA-256 fingerprint,
    /// what the certificate in use names, and plain-HTTP links to its
    /// certificate (one per network address).
    Auto {
        name: String,
        fingerprint: String,
        issued_for: String,
        download: Vec<String>,
    },
}

/// The HTTPS section: whether it is on, and with `--tls auto` how to
/// install the authority on each kind of device.
fn https_section(tls: &TlsView) -> Markup {
    html! {
        h2 #https { "HTTPS" }
        @match tls {
            TlsView::Off => {
                p { "Off: without it, phones will not install the app, save videos for offline or cast to a TV." }
                p.hint {
                    "To turn it on, start vidserve with " code { "--tls auto" } " (its own certificate, trusted once on each device) or "
                    code { "--tls-cert FILE --tls-key FILE" } " (a certificate of your own)."
                }
            },
            TlsView::Files { cert } => p { "On, with the certificate in " code { (cert) } " (read again when the file changes). Plain HTTP to the same port is redirected." },
            TlsView::Auto { name, fingerprint, issued_for, download } => {
                p {
                    "On, with a certificate from this server's own authority, " strong { (name) } ". "
                    "Install the authority once on each device, and its browser trusts this server: the app installs, videos save for offline, casting works."
                }
                div.qr {
                    @let first = download.first().map_or("/ca.crt", String::as_str);
                    @if let Some(svg) = download.first().and_then(|u| qr(u)) { figure role="img" aria-label={ "QR code of " (first) } { (svg) } }
                    ul {
                        li { a href="/ca.crt" download="vidserve.crt" { "Download the authority's certificate" } }
                        @for u in download { li { a href=(u) { (u) } } }
                    }
                }
                dl.facts {
                    dt { "Fingerprint (SHA-256)" } dd { code.fingerprint { (fingerprint) } }
                    dt { "Names" } dd { (issued_for) }
                }
                p { "Compare the fingerprint with what the device shows before you trust it. Then:" }
                @for (device, steps) in INSTALL_STEPS {
                    details.steps {
                        summary { (device) }
                        ol { @for s in steps.iter() { li { (s) } } }
                    }
                }
            }
        }
    }
}

/// How to trust the authority, per kind of device.
const INSTALL_STEPS: [(&str, &[&str]); 5] = [
    (
        "Android",
        &[
            "Open the link or scan the code, and save vidserve.crt.",
            "Settings › Security › More security settings › Encryption & credentials › Install a certificate › CA certificate (the names differ a little by maker).",
            "Choose vidserve.crt and confirm.",
        ],
    ),
    (
        "iPhone and iPad",
        &[
            "Open the link in Safari (or scan the code with the camera) and allow the download.",
            "Settings › General › VPN & Device Management: open the vidserve profile and install it.",
            "Settings › General › About › Certificate Trust Settings: turn on full trust for it.",
        ],
    ),
    (
        "macOS",
        &[
            "Download vidserve.crt and open it: Keychain Access adds it.",
            "Double-click it in Keychain Access › Trust › When using this certificate: Always Trust.",
            "Or in a terminal: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain vidserve.crt",
        ],
    ),
    (
        "Windows",
        &[
            "Download vidserve.crt and open it › Install Certificate › Local Machine.",
            "Place all certificates in the following store › Trusted Root Certification Authorities › Finish.",
            "Or as administrator: certutil -addstore -f Root vidserve.crt",
        ],
    ),
    (
        "Linux",
        &[
            "Debian, Ubuntu: sudo cp vidserve.crt /usr/local/share/ca-certificates/ && sudo update-ca-certificates",
            "Fedora: sudo cp vidserve.crt /etc/pki/ca-trust/source/anchors/ && sudo update-ca-trust",
            "Firefox and Chromium keep their own list: Settings › Privacy and security › Certificates › Authorities › Import.",
        ],
    ),
];

/// The thumbnail queue as the admin page shows it.
pub struct JobsView {
    pub ffmpeg: Option<String>,
    pub with_thumbnail: usize,
    pub waiting: usize,
    pub done: usize,
    pub failed: usize,
    /// Videos not tried again (failed before, maybe in an earlier run).
    pub not_retried: usize,
    pub current: Vec<String>,
    pub failures: Vec<(String, String)>,
}

/// An encoder as people know it: the hardware it runs on.
fn encoder_name(e: crate::media::transcode::Encoder) -> &'static str {
    use crate::media::transcode::Encoder;
    match e {
        Encoder::Vaapi => "Intel or AMD graphics (VA-API)",
        Encoder::Qsv => "Intel Quick Sync",
        Encoder::Nvenc => "NVIDIA graphics (NVENC)",
        Encoder::V4l2m2m => "Raspberry Pi and other boards (V4L2)",
        Encoder::Software => "The processor (x264, software)",
    }
}

/// Video browsers cannot decode: the encoder in use and the others tried.
fn transcoding(t: &crate::media::transcode::Status) -> Markup {
    html! {
        h2 { "Transcoding" }
        dl.facts #transcoding {
            dt { "Encoder" } dd {
                @if !t.available { "none: without ffmpeg, video browsers cannot decode (MPEG-2, MPEG-4 Part 2, VC-1, HEVC on most browsers) does not play in them" }
                @else {
                    @match &t.encoders {
                        None => "trying the hardware encoders…",
                        Some(e) => @match e.chosen {
                            Some(enc) => (encoder_name(enc)),
                            None => "none works: an ffmpeg with libx264 transcodes",
                        },
                    }
                }
            }
            @if t.available {
                dt { "Running" } dd { (t.running) " of at most " (t.max) " at a time; " (t.started) " since the server started" }
                dt { "Copied as they play" } dd { (t.copying) " of at most " (crate::media::transcode::COPIES) " (films whose browser-ready copy is not made yet)" }
                dt { "Quality" } dd {
                    (t.crf) " (lower is sharper and larger), at most " (format!("{:.1}", f64::from(t.max_kbps) / 1000.0)) " Mbit/s"
                }
                @if let Some(e) = &t.encoders {
                    dt { "Encoders" } dd {
                        ul {
                            @for tried in &e.tried {
                                li {
                                    (encoder_name(tried.encoder)) ": "
                                    @if tried.works { "works" } @else {
                                        // Why, in ffmpeg's words, for whoever fixes it.
                                        span title=(tried.why.as_deref().unwrap_or("")) { "not available here" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if t.available {
            p.hint {
                "Set when vidserve starts: " code { "--max-transcodes" } ", " code { "--transcode-crf" } ", "
                code { "--transcode-max-rate" } ", " code { "--transcode-encoder auto|software" }
                " (now " (format!("{:?}", t.choice).to_lowercase()) ")."
            }
        }
    }
}

pub fn admin(view: &AdminView) -> Markup {
    let c = view.catalog;
    let s = &c.stats;
    page(
        "Admin",
        Nav::Admin,
        &view.visitor,
        html! {
            div.bar { h1 { "Admin" } form method="post" action="/admin/cache/refresh" { button.primary type="submit" { "Rescan now" } } }
            h2 { "Performance" }
            div.dashboard #dashboard data-history=(view.perf) {
                @for (id, label) in [("req", "Requests/s"), ("p99", "Latency (ms)"), ("mbs", "Streamed MB/s"), ("rss", "Memory (MiB)")] {
                    figure.chart {
                        figcaption {
                            (label)
                            // Two lines in one chart: which is which.
                            @if id == "p99" { " " span.key.p50 { "median" } " " span.key.p99 { "slowest 1 %" } }
                            ": " span.now id={ "now-" (id) } { "–" }
                        }
                        canvas id={ "chart-" (id) } width="320" height="90" aria-label=(label) {}
                    }
                }
            }
            form #loadtest-form.bar method="post" action="/admin/performance" {
                input type="hidden" name="action" value="load_test";
                label for="lt-scenario" { "Load test " }
                select #lt-scenario name="scenario" {
                    // Read-only scenarios only: a load test must never add views.
                    @for (s, label) in [("gallery", "Library pages"), ("ranges", "Seeking in a video"), ("stream", "Playing a video")] {
                        option value=(s) { (label) }
                    }
                }
                button.primary type="submit" { "Run for 5 s" }
                span #loadtest-result role="status" {}
            }
            @if let Some(url) = view.network_urls.first() {
                h2 { "Open on another device" }
                div.qr {
                    @if let Some(svg) = qr(url) { figure role="img" aria-label={ "QR code of " (url) } { (svg) } }
                    ul { @for u in &view.network_urls { li { a href=(u) { (u) } } } }
                }
            }
            (https_section(&view.tls))
            (super::accounts::users_section(&view.accounts))
            (super::accounts::libraries_section(&view.libraries, view.guest.as_ref().map(|g| g.as_deref())))
            h2 { "Video folders" }
            table.list tabindex="0" {
                thead { tr { th { "Folder" } th { "State" } th { "Files" } th { "Changes" } } }
                tbody {
                    @for (n, r) in c.roots.iter().enumerate() {
                        tr {
                            td { (r.path.display()) }
                            td { @match &r.state { RootState::Online => "online", RootState::Offline(why) => span.warn { "offline: " (why) } } }
                            td { (r.files) }
                            td {
                                @match view.polled.get(n) {
                                    Some(Some(why)) => { "looked over every " (view.rescan_every_s) " s: " (why) }
                                    _ => "seen as they happen",
                                }
                            }
                        }
                    }
                }
            }
            dl.facts {
                dt { "Videos" } dd { (c.len()) }
                dt { "Duplicate paths" } dd { (c.duplicates) }
                dt { "Broken" } dd { (c.broken.len()) }
                dt { "Last scan" } dd {
                    @if s.finished_at == 0 { "loaded from the stored index" }
                    @else { (s.files_seen) (if s.files_seen == 1 { " file in " } else { " files in " }) (format!("{:.2}", s.duration.as_secs_f64())) " s; " (s.hashed) " new or changed read to know them, " (s.probed) " examined for length and tracks" }
                }
                dt { "Rescans" } dd {
                    @if view.polled.iter().all(Option::is_none) { "when files change only: an idle server leaves the disks alone" }
                    @else { "when files change, and every " (view.rescan_every_s) " s for the folders looked over" }
                }
                dt { "Kept in memory" } dd { (view.cache_hits) " sorted lists and searches answered again without work; the library's index made " (view.cache_rebuilds) (if view.cache_rebuilds == 1 { " time" } else { " times" }) }
                dt { "Data" } dd { (view.data_dir) }
                dt { "Chat" } dd {
                    @match &view.chat {
                        Some((endpoint, model)) => { (endpoint) ", model " (model) }
                        None => { "off (to ask questions about the library, start vidserve with " code { "--chat-endpoint URL" } ")" }
                    }
                }
            }
            h2 { "Thumbnails" }
            @let j = &view.jobs;
            dl.facts {
                dt { "ffmpeg" } dd { (j.ffmpeg.as_deref().unwrap_or("not found: pictures come from images beside or inside the videos, and from browsers")) }
                dt { "Have one" } dd { (j.with_thumbnail) " of " (c.len()) }
                dt { "Queue" } dd { (j.waiting) " waiting, " (j.done) " made, " (j.failed) " failed" }
                dt { "Not tried again" } dd { (j.not_retried) (if j.not_retried == 1 { " video" } else { " videos" }) " whose thumbnail failed (until made again below)" }
                @if !j.current.is_empty() { dt { "Working on" } dd { (j.current.join(", ")) } }
            }
            form method="post" action="/admin/thumbnails/regenerate" { button type="submit" { "Make all thumbnails again" } }
            (transcoding(&view.transcoding))
            @if !j.failures.is_empty() {
                table.list tabindex="0" {
                    thead { tr { th { "Video" } th { "Why no thumbnail" } } }
                    tbody { @for (t, why) in j.failures.iter().rev() { tr { td { (t) } td { (why) } } } }
                }
            }
            @if !c.broken.is_empty() {
                h2 { "Broken files" }
                table.list tabindex="0" {
                    thead { tr { th { "File" } th { "Reason" } } }
                    tbody { @for v in &c.broken { tr { td { (c.abs_path(v.primary()).display()) } td { (v.broken.as_deref().unwrap_or("")) } } } }
                }
            }
            @if !s.unreadable.is_empty() {
                h2 { "Unreadable" }
                table.list tabindex="0" {
                    thead { tr { th { "Path" } th { "Error" } } }
                    tbody { @for (p, e) in &s.unreadable { tr { td { (p.display()) } td { (e) } } } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_qr_code_is_an_svg_a_camera_can_read() {
        let svg = super::qr("http://192.168.1.20:8080/").unwrap().0;
        assert!(svg.contains("<svg") && svg.contains("#000"), "{}", &svg[..svg.len().min(200)]);
    }
}
