//! The scripts and the pages agree: every element id and class that
//! `assets/*.js` looks up (`getElementById`, `querySelector(All)`,
//! `closest`, `matches`, `.id === "…"`) is on a page the server renders,
//! or is made by a script itself (`.id = …`, `.className = …`,
//! `classList.add(…)`, `class="…"` in markup a script writes). A misspelled
//! id would otherwise only show as a feature that silently does nothing.
//!
//! The scan is deliberately plain (no JavaScript parser): string literals,
//! `const NAME = "…"` values and `+` joins are read; a part it cannot know
//! (a variable) makes the name before it a prefix (`"chart-" + id` asks
//! for some id that starts with `chart-`), and a name with nothing known
//! before it is not checked. `classList.contains` is a test, not a lookup.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use crate::household::call;
use crate::support::{Fixture, Options, TestServer};

/// Names the pages the test renders do not have, each for a reason the
/// test cannot produce (one line each). Empty: every condition is set up.
const ALLOWED: &[&str] = &[];

/// Stands for a part of a string only known when the script runs.
const UNKNOWN: char = '\u{1}';

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Name {
    /// `#` for an id, `.` for a class.
    kind: char,
    text: String,
    /// Only the start of the name is known (`"chart-" + id`).
    open: bool,
}

impl Name {
    fn show(&self) -> String {
        format!("{}{}{}", self.kind, self.text, if self.open { "…" } else { "" })
    }

    /// Whether `self` (looked up) can be `have` (on a page, or made).
    fn found_in(&self, have: &Name) -> bool {
        self.kind == have.kind
            && match (self.open, have.open) {
                (false, false) => self.text == have.text,
                (true, false) => have.text.starts_with(&self.text),
                (false, true) => self.text.starts_with(&have.text),
                (true, true) => self.text.starts_with(&have.text) || have.text.starts_with(&self.text),
            }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

#[derive(Debug, PartialEq)]
enum Tok {
    /// A string literal's text (`${…}` in a template as UNKNOWN).
    Str(String),
    /// A name or member path (`d.id`), or a bracketed part: a value the
    /// scan does not know, unless it is a `const` of the file.
    Name(String),
    Plus,
    /// Anything else: `,`, `?`, `:`, `||` … (ends a `+` join).
    Other,
}

/// The string literal opening at `i` (a quote): its text and the index
/// after its closing quote.
fn string_at(src: &str, i: usize) -> (String, usize) {
    let b = src.as_bytes();
    let quote = b[i];
    let mut text = String::new();
    let mut j = i + 1;
    while j < b.len() && b[j] != quote {
        if b[j] == b'\\' && j + 1 < b.len() {
            let c = src[j + 1..].chars().next().unwrap();
            text.push(c);
            j += 1 + c.len_utf8();
        } else if quote == b'`' && src[j..].starts_with("${") {
            text.push(UNKNOWN);
            j = skip_balanced(src, j + 1);
        } else {
            let c = src[j..].chars().next().unwrap();
            text.push(c);
            j += c.len_utf8();
        }
    }
    (text, (j + 1).min(b.len()))
}

/// Where a comment starting at `j` ends (`None`: no comment starts there).
fn comment_end(src: &str, j: usize) -> Option<usize> {
    let b = src.as_bytes();
    match b.get(j + 1) {
        Some(b'*') if b[j] == b'/' => Some(src[j + 2..].find("*/").map_or(b.len(), |e| j + 2 + e + 2)),
        Some(b'/') if b[j] == b'/' => Some(src[j..].find('\n').map_or(b.len(), |e| j + e)),
        _ => None,
    }
}

/// The index after the bracket closing the one at `i`, stepping over
/// strings and comments inside.
fn skip_balanced(src: &str, i: usize) -> usize {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' | b'\'' | b'`' => {
                j = string_at(src, j).1;
                continue;
            }
            b'/' if comment_end(src, j).is_some() => {
                j = comment_end(src, j).unwrap_or(b.len());
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// The expression starting at `i` as tokens, up to the first `)`, `]`,
/// `}` or `;` it does not open itself (the end of a call's arguments, or
/// of a statement).
fn lex(src: &str, i: usize) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut j = i;
    while j < b.len() {
        let c = b[j];
        match c {
            b'"' | b'\'' | b'`' => {
                let (text, end) = string_at(src, j);
                out.push(Tok::Str(text));
                j = end;
                continue;
            }
            b'/' if comment_end(src, j).is_some() => {
                j = comment_end(src, j).unwrap_or(b.len());
                continue;
            }
            // A call's result: the name before it stands for it.
            b'(' if matches!(out.last(), Some(Tok::Name(_))) => {
                j = skip_balanced(src, j);
                continue;
            }
            // A group (a JSDoc cast, say): what is inside.
            b'(' => {
                out.extend(lex(src, j + 1));
                j = skip_balanced(src, j);
                continue;
            }
            b'[' | b'{' => {
                out.push(Tok::Name(String::new()));
                j = skip_balanced(src, j);
                continue;
            }
            b')' | b']' | b'}' | b';' => break,
            b'+' => out.push(Tok::Plus),
            c if is_ident_byte(c) => {
                let len = b[j..].iter().position(|&c| !(is_ident_byte(c) || c == b'.')).unwrap_or(b.len() - j);
                out.push(Tok::Name(src[j..j + len].to_string()));
                j += len;
                continue;
            }
            c if c.is_ascii_whitespace() => {}
            _ => out.push(Tok::Other),
        }
        j += 1;
    }
    out
}

/// The strings an expression can give: each `+` join of literals and
/// names as one text, a name being its `const` value or UNKNOWN.
fn texts(toks: &[Tok], consts: &HashMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for t in toks {
        match t {
            Tok::Str(s) => cur.get_or_insert_with(String::new).push_str(s),
            Tok::Name(n) => match consts.get(n) {
                Some(v) => cur.get_or_insert_with(String::new).push_str(v),
                None => cur.get_or_insert_with(String::new).push(UNKNOWN),
            },
            Tok::Plus => {}
            Tok::Other => out.extend(cur.take()),
        }
    }
    out.extend(cur);
    out
}

/// A whole name (`kind`) from a text: exact, open (known start), or
/// nothing when its start is not known.
fn whole(kind: char, text: &str) -> Option<Name> {
    let known = text.split(UNKNOWN).next().unwrap_or("");
    (!known.is_empty() && known.chars().all(is_name_char)).then(|| Name {
        kind,
        text: known.to_string(),
        open: known.len() < text.len(),
    })
}

/// The `#id` and `.class` parts of a CSS selector (not inside `[…]`).
fn selector_names(sel: &str) -> Vec<Name> {
    let chars: Vec<char> = sel.chars().collect();
    let mut out = Vec::new();
    let mut in_brackets = false;
    let mut quote: Option<char> = None;
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        k += 1;
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            '"' | '\'' if in_brackets => quote = Some(c),
            '#' | '.' if !in_brackets => {
                let start = k;
                while k < chars.len() && is_name_char(chars[k]) {
                    k += 1;
                }
                let text: String = chars[start..k].iter().collect();
                let open = chars.get(k) == Some(&UNKNOWN);
                if !text.is_empty() {
                    out.push(Name { kind: c, text, open });
                }
            }
            _ => {}
        }
    }
    out
}

/// Each index just after `pat` in `src`.
fn after<'a>(src: &'a str, pat: &'a str) -> impl Iterator<Item = usize> + 'a {
    src.match_indices(pat).map(move |(i, _)| i + pat.len())
}

/// Whether the member access ending at `i` (just before `.id`, say) is on
/// `dataset` (a `data-` attribute, not the element's id).
fn on_dataset(src: &str, i: usize) -> bool {
    src[..i].ends_with("dataset")
}

/// The index after `=` when an assignment (`=` or `+=`, not `==`) follows
/// `i` (after spaces).
fn assignment(src: &str, i: usize) -> Option<usize> {
    let rest = src[i..].trim_start();
    let at = src.len() - rest.len();
    let rest2 = rest.strip_prefix('+').unwrap_or(rest);
    let after_eq = rest2.strip_prefix('=')?;
    (!after_eq.starts_with('=')).then_some(at + (rest.len() - rest2.len()) + 1)
}

/// The `const NAME = "…";` values of a script (literals and their joins).
fn consts(src: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for i in after(src, "const ") {
        if i > 6 && is_ident_byte(src.as_bytes()[i - 7]) {
            continue;
        }
        let len = src.as_bytes()[i..].iter().position(|&c| !is_ident_byte(c)).unwrap_or(0);
        let name = &src[i..i + len];
        let Some(rhs) = assignment(src, i + len) else { continue };
        let toks = lex(src, rhs);
        if !toks.is_empty() && toks.iter().all(|t| matches!(t, Tok::Str(_) | Tok::Plus)) {
            out.insert(name.to_string(), texts(&toks, &HashMap::new()).concat());
        }
    }
    out
}

/// The ids and classes a script looks up.
fn lookups(src: &str) -> BTreeSet<Name> {
    let consts = consts(src);
    let mut out = BTreeSet::new();
    for i in after(src, ".getElementById(") {
        out.extend(texts(&lex(src, i), &consts).iter().filter_map(|t| whole('#', t)));
    }
    for method in [".querySelector(", ".querySelectorAll(", ".closest(", ".matches("] {
        for i in after(src, method) {
            out.extend(texts(&lex(src, i), &consts).iter().flat_map(|t| selector_names(t)));
        }
    }
    // `b.id === "favorite"`: which element this is.
    for i in after(src, ".id") {
        let rest = src[i..].trim_start();
        let Some(rest) = ["===", "!==", "==", "!="].iter().find_map(|op| rest.strip_prefix(*op)) else { continue };
        if on_dataset(src, i - 3) || (i < src.len() && is_ident_byte(src.as_bytes()[i])) {
            continue;
        }
        let at = src.len() - rest.len();
        if let Some(Tok::Str(s)) = lex(src, at).first() {
            out.extend(whole('#', s));
        }
    }
    out
}

/// The `id` and `class` attribute values written as `id="…"` in `text`
/// (a page, or markup in a script), each value's names.
fn attributes(text: &str) -> BTreeSet<Name> {
    let mut out = BTreeSet::new();
    for (attr, kind) in [("id=\"", '#'), ("class=\"", '.')] {
        for (i, _) in text.match_indices(attr) {
            if text[..i].chars().next_back().is_some_and(|c| is_name_char(c) || c == '.') {
                continue; // data-id="…", or a longer attribute name
            }
            let value = &text[i + attr.len()..];
            let value = &value[..value.find('"').unwrap_or(0)];
            if value.chars().all(|c| is_name_char(c) || c == ' ') {
                out.extend(value.split_whitespace().map(|v| Name { kind, text: v.to_string(), open: false }));
            }
        }
    }
    out
}

/// The classes of a `class` value (a whitespace-separated list).
fn class_names(value: &str) -> Vec<Name> {
    value.split_whitespace().filter_map(|w| whole('.', w)).collect()
}

/// The ids and classes a script makes itself.
fn made(src: &str) -> BTreeSet<Name> {
    let consts = consts(src);
    let mut out = attributes(src);
    for i in after(src, ".id") {
        if on_dataset(src, i - 3) || (i < src.len() && is_ident_byte(src.as_bytes()[i])) {
            continue;
        }
        if let Some(rhs) = assignment(src, i) {
            out.extend(texts(&lex(src, rhs), &consts).iter().filter_map(|t| whole('#', t)));
        }
    }
    for i in after(src, ".className") {
        if let Some(rhs) = assignment(src, i) {
            out.extend(texts(&lex(src, rhs), &consts).iter().flat_map(|t| class_names(t)));
        }
    }
    for method in [".classList.add(", ".classList.toggle(", ".classList.replace("] {
        for i in after(src, method) {
            out.extend(texts(&lex(src, i), &consts).iter().flat_map(|t| class_names(t)));
        }
    }
    for i in after(src, ".setAttribute(") {
        let args = texts(&lex(src, i), &consts);
        match args.first().map(String::as_str) {
            Some("id") => out.extend(args[1..].iter().filter_map(|t| whole('#', t))),
            Some("class") => out.extend(args[1..].iter().flat_map(|t| class_names(t))),
            _ => {}
        }
    }
    out
}

/// Each looked-up name found on no page and made by no script, with the
/// scripts that look it up: `#name (a.js, b.js)`.
fn missing(scripts: &[(String, String)], pages: &[String]) -> Vec<String> {
    let mut have: BTreeSet<Name> = pages.iter().flat_map(|p| attributes(p)).collect();
    have.extend(scripts.iter().flat_map(|(_, src)| made(src)));
    let mut wanted: BTreeMap<Name, Vec<&str>> = BTreeMap::new();
    for (file, src) in scripts {
        for name in lookups(src) {
            wanted.entry(name).or_default().push(file);
        }
    }
    wanted
        .into_iter()
        .filter(|(name, _)| !ALLOWED.contains(&name.show().as_str()) && !have.iter().any(|h| name.found_in(h)))
        .map(|(name, files)| format!("{} ({})", name.show(), files.join(", ")))
        .collect()
}

/// Every `assets/*.js`, by file name, in name order.
fn scripts() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "js"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn the_scan_reads_lookups_and_what_scripts_make() {
    let script = r##"
        const CARD = ".card > a";
        const fields = "input, [contenteditable=true], #chat-panel";
        document.getElementById("batch-count").textContent = "";
        document.getElementById("chart-" + id);
        document.getElementById(someId);
        el.closest(player ? fields + ", video" : fields);
        document.querySelectorAll(CARD);
        card.querySelectorAll('.card-actions .star[aria-pressed="true"] a[href$=".mp4"]');
        document.querySelectorAll('.tile[data-id="' + d.id + '"]');
        el.querySelector(/** @type {string} */ (".user .rated"));
        if (b.id === "favorite") {}
        if (box.dataset.id === "not-an-id") {}
        if (b.classList.contains("only-tested")) {}
        box.id = "toast";
        box.className = "toast " + kind;
        document.body.classList.toggle("selecting", on);
        list.innerHTML = '<li class="made-here other">x</li>';
    "##;
    let show = |names: BTreeSet<Name>| names.iter().map(Name::show).collect::<Vec<_>>();
    assert_eq!(
        show(lookups(script)),
        [
            "#batch-count",
            "#chart-…",
            "#chat-panel",
            "#favorite",
            ".card",
            ".card-actions",
            ".rated",
            ".star",
            ".tile",
            ".user"
        ]
    );
    assert_eq!(show(made(script)), ["#toast", ".made-here", ".other", ".selecting", ".toast"]);

    // A misspelled id, and a class no page has, are named with their script.
    let scripts = vec![
        ("a.js".to_string(), r#"document.getElementById("batch-cuont"); el.closest(".card");"#.to_string()),
        ("b.js".to_string(), r##"x.querySelector("#chart-" + n + " .star"); el.closest(".card");"##.to_string()),
    ];
    let page =
        r#"<div id="batch-count" data-id="batch-cuont" class="card  thumb"><canvas id="chart-req"></canvas></div>"#;
    assert_eq!(missing(&scripts, &[page.to_string()]), ["#batch-cuont (a.js)", ".star (b.js)"]);
}

/// A request as the person whose session cookie is `cookie` (none:
/// anonymous): the status and the body.
async fn get(srv: &TestServer, path: &str, cookie: Option<&str>) -> (u16, String) {
    let mut req = srv.client.get(srv.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_id_and_class_the_scripts_look_up_is_on_a_page() {
    let fx = Fixture::new();
    fx.mp4("Cats at play.mp4", 1000, 2300);
    fx.mp4("trips/Beach day.mp4", 1000, 2301);
    // A film: the posters the arrow keys move between.
    fx.mp4("Films/Alien (1979).mp4", 1000, 2302);
    // Chapters, subtitles and two audio tracks: the watch page's menus,
    // marks and chapter list.
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    // An account (the sign-out form), and the chat (its button and panel).
    let data = tempfile::tempdir().unwrap();
    let out =
        crate::people::user(data.path(), &["add", "ann", "--role", "admin", "--password-stdin"], Some("long enough"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (stub, _) = crate::chat::stub(None).await;
    let opts = Options {
        // No thumbnails: cards keep their initials (frames.js fills them).
        ffmpeg: Some("/no/such/ffmpeg".into()),
        chat: Some(crate::chat::config(&format!("http://{stub}/v1"), vec![])),
        ..Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let ann = crate::people::sign_in(&srv, "ann", "long enough").await;

    // Rated, tagged and a favorite: stars, tags and the Favorites page
    // have something to show; a playlist has its editor.
    let (status, list) = call(&srv, &ann, "GET", "/api/v1/videos?per_page=500", None).await;
    assert_eq!(status, 200, "{list}");
    let id_of = |rel: &str| -> String {
        let v = list["videos"].as_array().unwrap().iter().find(|v| v["paths"][0] == rel);
        v.unwrap_or_else(|| panic!("{rel} not listed in {list}"))["id"].as_str().unwrap().to_string()
    };
    let (cats, film) = (id_of("Cats at play.mp4"), id_of("Film.mkv"));
    let base = format!("/api/v1/videos/{cats}");
    assert_eq!(call(&srv, &ann, "PUT", &format!("{base}/rating"), Some(json!({ "rating": 4 }))).await.0, 200);
    assert_eq!(call(&srv, &ann, "POST", &format!("{base}/tags"), Some(json!({ "tag": "pets" }))).await.0, 200);
    assert_eq!(call(&srv, &ann, "PUT", &format!("{base}/favorite"), None).await.0, 200);
    let new = json!({ "name": "Evening", "ids": [cats, film] });
    let (status, playlist) = call(&srv, &ann, "POST", "/api/v1/playlists", Some(new)).await;
    assert_eq!(status, 201, "{playlist}");

    let signed_in = [
        "/".to_string(),
        format!("/watch/{cats}"),
        format!("/watch/{film}"),
        "/favorites".into(),
        "/tags".into(),
        "/films".into(),
        "/folders".into(),
        "/playlists".into(),
        playlist["url"].as_str().expect("the new playlist's page").to_string(),
        "/admin".into(),
    ];
    let mut pages = Vec::new();
    for path in &signed_in {
        let (status, html) = get(&srv, path, Some(ann.as_str())).await;
        assert_eq!(status, 200, "{path}");
        pages.push(html);
    }
    let (status, login) = get(&srv, "/login", None).await;
    assert_eq!(status, 200, "/login");
    pages.push(login);

    let scripts = scripts();
    // The scan finds what it should (a change to how scripts look elements
    // up would otherwise leave this test checking nothing).
    let looked_up: BTreeSet<Name> = scripts.iter().flat_map(|(_, src)| lookups(src)).collect();
    let ids = looked_up.iter().filter(|n| n.kind == '#').count();
    assert!(ids >= 50 && looked_up.len() - ids >= 10, "only {} names found: {looked_up:?}", looked_up.len());

    let missing = missing(&scripts, &pages);
    assert!(
        missing.is_empty(),
        "ids and classes the scripts look up that no page has and no script makes:\n  {}\n(pages: {signed_in:?} and /login)",
        missing.join("\n  ")
    );
    srv.stop().await;
}
