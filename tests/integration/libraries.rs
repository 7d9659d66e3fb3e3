//! Each person's own libraries: named folders, given to accounts and to
//! the guest profile; a person given some sees nothing else of the
//! library, on any path a video, its name or its count can leave by.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::people::{no_redirects, sign_in, user};
use crate::support::{Fixture, Options, TestServer};

/// `vidserve library ARGS --dir DIR --data DATA`.
pub fn library(data: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .arg("library")
        .args(args)
        .arg("--dir")
        .arg(dir)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

/// A data dir where `Kids` (the fixture's folder) is a library, ann an
/// admin and kid a viewer given only Kids (passwords "long enough").
fn kids_and_an_admin(fx: &Fixture) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let kids = fx.path().join("Kids");
    assert!(library(data.path(), fx.path(), &["add", "Kids", kids.to_str().unwrap()]).status.success());
    for args in [["add", "ann", "--role", "admin"], ["add", "kid", "--libraries", "Kids"]] {
        let out = user(data.path(), &[&args[..], &["--password-stdin"]].concat(), Some("long enough"));
        assert!(out.status.success(), "{}", text(&out));
    }
    data
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn the_command_line_names_libraries_and_gives_them() {
    let fx = Fixture::new();
    fx.mp4("Kids/a.mp4", 1000, 2100);
    fx.mp4("Films/b.mp4", 1000, 2101);
    let data = tempfile::tempdir().unwrap();
    let (kids, films) = (fx.path().join("Kids"), fx.path().join("Films"));
    let root = fx.path().file_name().unwrap().to_str().unwrap().to_string();

    let out = library(data.path(), fx.path(), &["add", "Kids", kids.to_str().unwrap()]);
    assert!(out.status.success() && text(&out).contains("added library Kids"), "{}", text(&out));
    let out = library(data.path(), fx.path(), &["add", "Films", films.to_str().unwrap(), kids.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    // Outside every video folder, or climbing out of one: refused, saying why.
    let out = library(data.path(), fx.path(), &["add", "Elsewhere", "/etc"]);
    assert!(!out.status.success() && text(&out).contains("not inside a video folder"), "{}", text(&out));
    let climbing = format!("{}/../..", kids.display());
    let out = library(data.path(), fx.path(), &["add", "Up", &climbing]);
    assert!(!out.status.success() && text(&out).contains(".."), "{}", text(&out));
    let out = library(data.path(), fx.path(), &["add", "Bad/name", kids.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out).contains("a library's name"), "{}", text(&out));

    // Accounts get them by name (any case); an unknown one is refused.
    let out = user(data.path(), &["add", "kid", "--libraries", "Nope", "--password-stdin"], Some("long enough"));
    assert!(!out.status.success() && text(&out).contains("no library named \"Nope\""), "{}", text(&out));
    let out = user(data.path(), &["add", "kid", "--libraries", "kids", "--password-stdin"], Some("long enough"));
    assert!(out.status.success() && text(&out).contains("sees Kids"), "{}", text(&out));
    let out = user(data.path(), &["add", "guest", "--password-stdin"], Some("long enough"));
    assert!(!out.status.success() && text(&out).contains("profile"), "{}", text(&out));
    let out = user(data.path(), &["libraries", "kid", "Kids,Films"], None);
    assert!(out.status.success() && text(&out).contains("sees Kids, Films"), "{}", text(&out));
    let out = user(data.path(), &["libraries", "guest", "Films"], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = user(data.path(), &["list"], None);
    assert!(text(&out).contains("kid\tviewer\tsees Kids, Films"), "{}", text(&out));
    assert!(text(&out).contains("(guest)\t-\tsees Films"), "{}", text(&out));

    // Every video folder is a library of its own; who was given what shows.
    let out = library(data.path(), fx.path(), &["list"]);
    let listed = text(&out);
    assert!(listed.contains(&format!("{root}\t{}  (a video folder)", fx.path().display())), "{listed}");
    assert!(listed.contains(&format!("Kids\t{}\tgiven to kid", kids.display())), "{listed}");
    assert!(listed.contains("Films\t") && listed.contains("given to (guest), kid"), "{listed}");
    let out = library(data.path(), fx.path(), &["remove", &root]);
    assert!(!out.status.success() && text(&out).contains("video folder's own library"), "{}", text(&out));

    // Removing one: whoever had it sees less, and is told.
    let out = library(data.path(), fx.path(), &["remove", "Films"]);
    assert!(out.status.success() && text(&out).contains("(guest)") && text(&out).contains("kid"), "{}", text(&out));
    let out = user(data.path(), &["libraries", "kid", "--all"], None);
    assert!(out.status.success() && text(&out).contains("sees everything"), "{}", text(&out));
}

/// `method path` as `cookie`, with a JSON body.
async fn send(srv: &TestServer, cookie: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = no_redirects().request(m, srv.url(path)).header("cookie", cookie);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn page(srv: &TestServer, cookie: Option<&str>, path: &str) -> (u16, String) {
    let mut req = no_redirects().get(srv.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn titles(list: &Value) -> HashSet<String> {
    list["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_childs_profile_finds_nothing_of_a_hidden_folder() {
    let fx = Fixture::new();
    fx.mp4("Kids/Lion cub.mp4", 1000, 2200);
    fx.mp4("Kids/Puppy.mp4", 1000, 2201);
    fx.mp4("Family/Birthday surprise.mp4", 1000, 2202);
    // The same video in both folders: seen through Kids.
    fx.mp4("Family/Beach day.mp4", 1000, 2203);
    fx.mp4("Kids/Beach copy.mp4", 1000, 2203);
    let data = kids_and_an_admin(&fx);
    assert!(user(data.path(), &["libraries", "guest", "Kids"], None).status.success());
    let srv = TestServer::start_with(&[fx.path()], Options { guest: true, ..Options::new(data.path(), false) }).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let kid = sign_in(&srv, "kid", "long enough").await;
    let all = send(&srv, &ann, "GET", "/api/v1/videos?per_page=500", None).await.1;
    assert_eq!(all["total"], 4, "the admin sees everything: {all}");
    let id = |title: &str| {
        let v = all["videos"].as_array().unwrap().iter().find(|v| v["file_title"] == title);
        v.unwrap_or_else(|| panic!("{title} in {all}"))["id"].as_str().unwrap().to_string()
    };
    let (secret, lion, beach) = (id("Birthday surprise"), id("Lion cub"), id("Beach day"));

    // The admin tags and rates; the kid keeps a place in a video of theirs.
    for (path, body) in [
        (format!("/api/v1/videos/{secret}/tags"), json!({ "tag": "hushhush" })),
        (format!("/api/v1/videos/{lion}/tags"), json!({ "tag": "cute" })),
    ] {
        assert_eq!(send(&srv, &ann, "POST", &path, Some(body)).await.0, 200);
    }
    assert_eq!(
        send(&srv, &ann, "PUT", &format!("/api/v1/videos/{secret}/rating"), Some(json!({ "rating": 5 }))).await.0,
        200
    );
    assert_eq!(
        send(&srv, &ann, "PUT", &format!("/api/v1/videos/{lion}/rating"), Some(json!({ "rating": 5 }))).await.0,
        200
    );
    assert_eq!(
        send(&srv, &ann, "PUT", &format!("/api/v1/videos/{secret}/position"), Some(json!({ "seconds": 1 }))).await.0,
        200
    );
    assert_eq!(
        send(&srv, &kid, "PUT", &format!("/api/v1/videos/{lion}/position"), Some(json!({ "seconds": 1 }))).await.0,
        200
    );

    // Listings, searches and counts: three videos, never the hidden one.
    let mine = send(&srv, &kid, "GET", "/api/v1/videos?per_page=500", None).await.1;
    assert_eq!(mine["total"], 3);
    assert!(!titles(&mine).contains("Birthday surprise"), "{mine}");
    let beach_paths = &mine["videos"].as_array().unwrap().iter().find(|v| v["id"] == beach.as_str()).unwrap()["paths"];
    assert_eq!(beach_paths, &json!(["Kids/Beach copy.mp4"]), "only the paths in their folders");
    // (A video in a seen and a hidden folder keeps the title and search
    // words of its first path: "Beach day" matches "family".)
    for q in ["birthday", "surprise", "hushhush"] {
        let found = send(&srv, &kid, "GET", &format!("/api/v1/videos?q={q}"), None).await.1;
        assert_eq!(found["total"], 0, "{q}: {found}");
    }
    for q in ["sort=rating&min_rating=5", "tag=hushhush", "show=in_progress", "sort=title&order=asc", "sort=views"] {
        let found = send(&srv, &kid, "GET", &format!("/api/v1/videos?{q}"), None).await.1;
        assert!(!titles(&found).contains("Birthday surprise"), "{q}: {found}");
    }
    let tags = send(&srv, &kid, "GET", "/api/v1/tags", None).await.1;
    assert_eq!(tags, json!({ "tags": [{ "tag": "cute", "count": 1 }] }));
    assert_eq!(send(&srv, &kid, "GET", "/ping", None).await.1["video_count"], 3);
    let views = send(&srv, &kid, "GET", "/get_views", None).await.1;
    assert!(!views.to_string().contains("Family"), "{views}");
    for _ in 0..20 {
        let (status, v) = send(&srv, &kid, "GET", "/api/v1/random", None).await;
        assert_eq!(status, 200);
        assert_ne!(v["id"], secret.as_str());
        let (_, v) = send(&srv, &kid, "GET", "/api/v1/random?q=birthday", None).await;
        assert_ne!(v["id"], secret.as_str(), "{v}");
    }
    for path in
        ["/", "/best-of", "/tags", "/favorites", "/?q=birthday", &format!("/watch/{beach}"), &format!("/watch/{lion}")]
    {
        let (status, html) = page(&srv, Some(&kid), path).await;
        assert_eq!(status, 200, "{path}");
        for hidden in ["Birthday", "hushhush", &secret, "Family/Beach"] {
            assert!(!html.contains(hidden), "{path} shows {hidden}");
        }
    }
    // Folders: only theirs, counted without the hidden video.
    let (status, folders) = page(&srv, Some(&kid), "/folders").await;
    assert_eq!(status, 200);
    assert!(folders.contains("href=\"/folders?in=Kids\"") && !folders.contains("Family"), "{folders}");
    assert!(folders.contains("3 videos"), "{folders}");
    assert_eq!(page(&srv, Some(&kid), "/folders?in=Family").await.0, 404);
    let (_, theirs) = page(&srv, Some(&ann), "/folders").await;
    assert!(theirs.contains("href=\"/folders?in=Family\""), "the admin sees every folder");
    let (_, m3u) = page(&srv, Some(&kid), "/playlist.m3u").await;
    assert!(m3u.contains("Lion cub") && !m3u.contains("Birthday") && !m3u.contains(&secret), "{m3u}");
    // Every path to the video itself: as if it did not exist.
    for path in [
        format!("/video/{secret}"),
        "/video/Family/Birthday%20surprise.mp4".to_string(),
        format!("/watch/{secret}"),
        format!("/api/v1/videos/{secret}"),
        format!("/api/v1/videos/{secret}/link"),
        format!("/thumb/{secret}/320"),
        format!("/sprite/{secret}.jpg"),
        format!("/subtitles/{secret}/0.vtt"),
    ] {
        assert_eq!(page(&srv, Some(&kid), &path).await.0, 404, "{path}");
    }
    let rate = format!("/api/v1/videos/{secret}/rating");
    assert_eq!(send(&srv, &kid, "PUT", &rate, Some(json!({ "rating": 1 }))).await.0, 404);
    let (status, body) =
        send(&srv, &kid, "POST", "/rate", Some(json!({ "filename": "Family/Birthday surprise.mp4", "rating": 1 })))
            .await;
    assert_eq!(status, 404, "{body}");

    // Guests see what the guest profile was given.
    let guest = no_redirects().get(srv.url("/api/v1/videos?per_page=500")).send().await.unwrap();
    let guest: Value = guest.json().await.unwrap();
    assert_eq!(guest["total"], 3, "{guest}");
    let (status, html) = page(&srv, None, "/").await;
    assert!(status == 200 && !html.contains("Birthday"));

    // Live events: nothing about the hidden video reaches the kid.
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nCookie: {kid}\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    crate::user::read_until(&mut stream, ": connected").await;
    send(&srv, &ann, "POST", &format!("/api/v1/videos/{secret}/tags"), Some(json!({ "tag": "later" }))).await;
    send(&srv, &ann, "POST", &format!("/api/v1/videos/{lion}/tags"), Some(json!({ "tag": "seen" }))).await;
    let seen = crate::user::read_until(&mut stream, "\"seen\"").await;
    assert!(!seen.contains(&secret) && !seen.contains("later"), "{seen}");

    // Playlists keep a video their owner may no longer see, unshown.
    let everything = json!({ "action": "libraries", "name": "kid", "libraries": null });
    assert_eq!(send(&srv, &ann, "POST", "/admin/users", Some(everything.clone())).await.0, 200);
    let (status, link) = send(&srv, &kid, "GET", &format!("/api/v1/videos/{secret}/link"), None).await;
    assert_eq!(status, 200, "seen while the kid sees everything");
    let link = link["url"].as_str().unwrap().split_once("/video/").unwrap().1.to_string();
    assert_eq!(page(&srv, None, &format!("/video/{link}")).await.0, 200);
    let (status, list) =
        send(&srv, &kid, "POST", "/api/v1/playlists", Some(json!({ "name": "mine", "ids": [secret, lion] }))).await;
    assert_eq!(status, 201, "{list}");
    let n = list["id"].as_u64().unwrap();
    let only_kids = json!({ "action": "libraries", "name": "kid", "libraries": ["Kids"] });
    let (status, users) = send(&srv, &ann, "POST", "/admin/users", Some(only_kids)).await;
    assert_eq!(status, 200);
    let kid_row = users["users"].as_array().unwrap().iter().find(|u| u["name"] == "kid").unwrap().clone();
    assert_eq!(kid_row["libraries"], json!(["Kids"]));
    // A link made while it was seen ends with the sight.
    assert_eq!(page(&srv, None, &format!("/video/{link}")).await.0, 404);
    let (_, list) = send(&srv, &kid, "GET", &format!("/api/v1/playlists/{n}"), None).await;
    assert_eq!((list["count"].clone(), list["videos"].as_array().unwrap().len()), (json!(1), 1), "{list}");
    assert!(!list.to_string().contains("Birthday"));
    let (status, _) =
        send(&srv, &kid, "PATCH", &format!("/api/v1/playlists/{n}"), Some(json!({ "ids": [lion] }))).await;
    assert_eq!(status, 200);
    assert_eq!(send(&srv, &ann, "POST", "/admin/users", Some(everything)).await.0, 200);
    let (_, list) = send(&srv, &kid, "GET", &format!("/api/v1/playlists/{n}"), None).await;
    assert_eq!(list["count"], 2, "kept while hidden: {list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_name_libraries_in_the_api_and_on_the_page() {
    let fx = Fixture::new();
    fx.mp4("Films/a.mp4", 1000, 2300);
    fx.mp4("Home/b.mp4", 1000, 2301);
    let data = tempfile::tempdir().unwrap();
    assert!(user(data.path(), &["add", "ann", "--role", "admin", "--password-stdin"], Some("long enough"))
        .status
        .success());
    assert!(user(data.path(), &["add", "vic", "--password-stdin"], Some("long enough")).status.success());
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let films = fx.path().join("Films").display().to_string();

    // Only admins.
    assert_eq!(send(&srv, &vic, "GET", "/admin/libraries", None).await.0, 403);
    let add = json!({ "action": "add", "name": "Films", "folders": [films] });
    assert_eq!(send(&srv, &vic, "POST", "/admin/libraries", Some(add.clone())).await.0, 403);
    // Bad input: a clear 400, nothing changed.
    for bad in [
        json!({ "action": "add", "name": "Films", "folders": ["/etc"] }),
        json!({ "action": "add", "name": "Films", "folders": [] }),
        json!({ "action": "add", "name": "", "folders": [films] }),
        json!({ "action": "add", "name": "x", "folders": vec![films.clone(); 101] }),
        json!({ "action": "rename", "name": "Films" }),
        json!({ "action": "remove", "name": "Nope" }),
    ] {
        let (status, body) = send(&srv, &ann, "POST", "/admin/libraries", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = send(&srv, &ann, "POST", "/admin/libraries", Some(add)).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["libraries"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names[0], "Films");
    assert_eq!(body["libraries"][1]["default"], true);
    // Given to vic: vic sees the films only, at once (the session lives on).
    let give = json!({ "action": "libraries", "name": "vic", "libraries": ["films"] });
    assert_eq!(send(&srv, &ann, "POST", "/admin/users", Some(give)).await.0, 200);
    let seen = send(&srv, &vic, "GET", "/api/v1/videos", None).await.1;
    assert_eq!(titles(&seen), HashSet::from(["a".to_string()]));
    let unknown = json!({ "action": "libraries", "name": "vic", "libraries": ["Nope"] });
    assert_eq!(send(&srv, &ann, "POST", "/admin/users", Some(unknown)).await.0, 400);
    // The admin page shows who sees what, with forms for both.
    let (status, html) = page(&srv, Some(&ann), "/admin").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"libraries\"") && html.contains("action=\"/admin/libraries\""), "{html}");
    assert!(html.contains(">Films<") && html.contains(&films));
    // A form from the page: back to the section.
    let res = no_redirects()
        .post(srv.url("/admin/libraries"))
        .header("cookie", &ann)
        .header("origin", srv.url("").trim_end_matches('/'))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=remove&name=Films")
        .send()
        .await
        .unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (303, "/admin#libraries"));
    // Gone: vic, who had only it, sees nothing now.
    let seen = send(&srv, &vic, "GET", "/api/v1/videos", None).await.1;
    assert_eq!(seen["total"], 0, "{seen}");
}

/// The chat's answer to `question`, asked as `cookie`.
async fn ask(srv: &TestServer, cookie: &str, question: &str) -> String {
    let res = no_redirects()
        .post(srv.url("/api/v1/chat"))
        .header("cookie", cookie)
        .json(&json!({ "messages": [{ "role": "user", "content": question }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_answers_as_if_a_hidden_video_did_not_exist() {
    let (stub_addr, seen) = crate::chat::stub(None).await;
    let fx = Fixture::new();
    fx.mp4("Family/Cats at play.mp4", 1000, 2400);
    fx.mp4("Kids/Dogs.mp4", 1000, 2401);
    let data = kids_and_an_admin(&fx);
    let chat = crate::chat::config(&format!("http://{stub_addr}/v1"), vec![]);
    let srv =
        TestServer::start_with(&[fx.path()], Options { chat: Some(chat), ..Options::new(data.path(), false) }).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let kid = sign_in(&srv, "kid", "long enough").await;
    let all = send(&srv, &ann, "GET", "/api/v1/videos", None).await.1;
    let cats = all["videos"].as_array().unwrap().iter().find(|v| v["file_title"] == "Cats at play").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The admin is answered with the video.
    let answer = ask(&srv, &ann, "something with cats?").await;
    assert!(answer.contains(&format!("(/watch/{cats})")), "{answer}");
    // The kid: the search finds nothing, and nothing sent upstream names it.
    let before = seen.lock().unwrap().len();
    let answer = ask(&srv, &kid, "something with cats?").await;
    assert!(answer.contains("(/watch/none)") && !answer.contains(&cats), "{answer}");
    let sent: Vec<Value> = seen.lock().unwrap()[before..].iter().map(|(_, body)| body.clone()).collect();
    assert_eq!(sent.len(), 2, "the question, then the tool's result");
    for body in &sent {
        let text = body.to_string();
        assert!(!text.contains("Cats") && !text.contains(&cats) && !text.contains("Family"), "{text}");
    }
    let system = sent[0]["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("1 video,") && system.contains("Dogs"), "{system}");
}

/// Series and years: a child sees the series (and the episodes of one)
/// only in their folders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_show_a_child_only_their_episodes() {
    let fx = Fixture::new();
    fx.mp4("Kids/Bluey/Bluey S01E01.mp4", 1000, 2300);
    fx.mp4("Family/Bluey/Season 1/Bluey S01E02.mp4", 1000, 2301);
    let img = image::RgbImage::from_pixel(60, 90, image::Rgb([200, 30, 30]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    fx.write("Family/Bluey/poster.jpg", &png);
    fx.mp4("Family/Secret Show S01E01.mp4", 1000, 2302);
    fx.mp4("Family/Wedding (2011).mp4", 1000, 2303);
    let data = kids_and_an_admin(&fx);
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let kid = sign_in(&srv, "kid", "long enough").await;
    let (_, index) = page(&srv, Some(&kid), "/series").await;
    assert!(index.contains("href=\"/series/bluey\"") && index.contains("1 episode<"), "{index}");
    assert!(!index.contains("Secret"), "{index}");
    assert_eq!(page(&srv, Some(&kid), "/series/secret-show").await.0, 404);
    let (_, bluey) = page(&srv, Some(&kid), "/series/bluey").await;
    assert!(bluey.contains("Episode 1<") && !bluey.contains("Episode 2<"), "{bluey}");
    let list = send(&srv, &kid, "GET", "/api/v1/series", None).await.1;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(send(&srv, &kid, "GET", "/api/v1/series/secret-show", None).await.0, 404);
    let one = send(&srv, &kid, "GET", "/api/v1/series/bluey", None).await.1;
    assert_eq!(one["seasons"][0]["episodes"].as_array().map(Vec::len), Some(1), "{one}");
    // The poster in the hidden folder is not theirs to see.
    let (status, _) = page(&srv, Some(&kid), "/series/bluey/poster.jpg").await;
    assert_eq!(status, 404, "no picture of a hidden folder");
    assert_eq!(page(&srv, Some(&ann), "/series/bluey/poster.jpg").await.0, 200);
    // Years: nothing of the hidden folder, by the filter or the list.
    assert_eq!(send(&srv, &kid, "GET", "/api/v1/videos?year=2011", None).await.1["total"], 0);
    let (_, gallery) = page(&srv, Some(&kid), "/?year=2011").await;
    assert!(!gallery.contains("Wedding"), "{gallery}");
    let (_, gallery) = page(&srv, Some(&kid), "/").await;
    assert!(!gallery.contains("<option value=\"2011\">"), "{gallery}");
    // The admin sees both series and both episodes.
    assert_eq!(send(&srv, &ann, "GET", "/api/v1/series", None).await.1["total"], 2);
    let one = send(&srv, &ann, "GET", "/api/v1/series/bluey", None).await.1;
    assert_eq!(one["seasons"][0]["episodes"].as_array().map(Vec::len), Some(2), "{one}");
    assert_eq!(send(&srv, &ann, "GET", "/api/v1/videos?year=2011", None).await.1["total"], 1);
    let (_, gallery) = page(&srv, Some(&ann), "/").await;
    assert!(gallery.contains("<option value=\"2011\">"), "{gallery}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_library_has_a_row_and_a_listing_of_its_own() {
    let fx = Fixture::new();
    fx.mp4("Films/Alien.mp4", 1000, 2500);
    fx.mp4("Films/Brazil.mp4", 1000, 2501);
    fx.mp4("Home/Camping.mp4", 1000, 2502);
    fx.mp4("Kids/Dinosaurs.mp4", 1000, 2503);
    let data = kids_and_an_admin(&fx);
    let films = fx.path().join("Films");
    assert!(library(data.path(), fx.path(), &["add", "Films", films.to_str().unwrap()]).status.success());
    let out = user(data.path(), &["add", "vic", "--libraries", "Films,Kids", "--password-stdin"], Some("long enough"));
    assert!(out.status.success(), "{}", text(&out));
    let root = fx.path().file_name().unwrap().to_str().unwrap().to_string();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (ann, kid, vic) = (
        sign_in(&srv, "ann", "long enough").await,
        sign_in(&srv, "kid", "long enough").await,
        sign_in(&srv, "vic", "long enough").await,
    );
    let all = send(&srv, &ann, "GET", "/api/v1/videos?per_page=500", None).await.1;
    let id = |title: &str| {
        let v = all["videos"].as_array().unwrap().iter().find(|v| v["file_title"] == title);
        v.unwrap_or_else(|| panic!("{title} in {all}"))["id"].as_str().unwrap().to_string()
    };

    // The home page: a row for each library the person sees whole, its
    // heading a link to it; none for one who sees a single library.
    let (status, home) = page(&srv, Some(&ann), "/").await;
    assert_eq!(status, 200);
    for name in ["Kids", "Films", &root] {
        assert!(home.contains(&format!("Latest in {name}")), "{name}: {home}");
    }
    assert!(home.contains("href=\"/?library=Films\"") && home.contains("All videos"), "{home}");
    assert!(home.find("id=\"batch-bar\"") < home.find("Latest in"), "the select bar above the rows");
    let (_, vics) = page(&srv, Some(&vic), "/").await;
    assert!(vics.contains("Latest in Films") && vics.contains("Latest in Kids"), "{vics}");
    assert!(!vics.contains(&format!("Latest in {root}")), "vic does not see the whole video folder");
    let (_, kids) = page(&srv, Some(&kid), "/").await;
    assert!(!kids.contains("Latest in"), "one library: its newest are the page's own grid");

    // A library's listing: its videos only, on the page and in the API,
    // its links, Random and VLC playlist staying within it.
    let (status, listed) = page(&srv, Some(&ann), "/?library=films&sort=title&order=asc").await;
    assert_eq!(status, 200);
    assert!(listed.contains("<h1>Films</h1>") && listed.contains("2 videos"), "{listed}");
    assert!(listed.contains("library=Films") && listed.contains("name=\"library\" value=\"Films\""), "{listed}");
    let kids_only = send(&srv, &ann, "GET", "/api/v1/videos?library=Kids", None).await.1;
    assert_eq!(titles(&kids_only), HashSet::from(["Dinosaurs".to_string()]), "{kids_only}");
    for _ in 0..5 {
        let res = no_redirects().get(srv.url("/random?library=Kids")).header("cookie", &ann).send().await.unwrap();
        assert_eq!(res.headers()["location"].to_str().unwrap(), format!("/watch/{}", id("Dinosaurs")));
    }
    let (_, m3u) = page(&srv, Some(&ann), "/playlist.m3u?library=Films").await;
    assert_eq!(m3u.matches("#EXTINF").count(), 2, "{m3u}");
    // The watch page goes on within the library: after Brazil, nothing
    // (Camping, next by title in the whole library, is not a film).
    let (_, watch) =
        page(&srv, Some(&ann), &format!("/watch/{}?sort=title&order=asc&library=Films", id("Alien"))).await;
    assert!(watch.contains(&format!("/watch/{}?sort=title&amp;order=asc&amp;library=Films", id("Brazil"))), "{watch}");
    let (_, watch) =
        page(&srv, Some(&ann), &format!("/watch/{}?sort=title&order=asc&library=Films", id("Brazil"))).await;
    assert!(!watch.contains(&format!("/watch/{}", id("Camping"))), "{watch}");
    // A library not seen whole, or none of that name: not found, saying so
    // (a name too long to be one is not repeated).
    for (who, path) in [(&kid, "/?library=Films"), (&vic, &format!("/?library={root}")), (&ann, "/?library=Nope")] {
        let (status, _) = page(&srv, Some(who), path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, body) = send(&srv, &kid, "GET", "/api/v1/videos?library=Films", None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.to_string().contains("no library named \\\"Films\\\""), "{body}");
    let long = "x".repeat(5000);
    let (status, body) = send(&srv, &ann, "GET", &format!("/api/v1/videos?library={long}"), None).await;
    assert!(status == 404 && !body.to_string().contains("xxxx"), "{status} {body}");
    // A watch page's library it cannot see is ignored (the video shows).
    let (status, _) = page(&srv, Some(&kid), &format!("/watch/{}?library=Films", id("Dinosaurs"))).await;
    assert_eq!(status, 200);
}

/// A video opened from no listing goes on within its own video folder (a
/// film among the films, not the home videos); the folders page counts
/// only what a folder holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_opened_alone_goes_on_within_its_own_library() {
    let fx = Fixture::new();
    for (i, name) in
        ["Films/Alien.mp4", "Films/Brazil.mp4", "Films/Casablanca.mp4", "Videos/Beach.mp4", "Videos/Cake.mp4"]
            .iter()
            .enumerate()
    {
        fx.mp4(name, 1000, 2600 + i as u64);
    }
    let (films, videos) = (fx.path().join("Films"), fx.path().join("Videos"));
    let (srv, _data) = TestServer::start(&[&films, &videos]).await;
    let brazil = srv.id_of("Brazil.mp4").await;
    let page = srv.get(&format!("/watch/{brazil}")).await.text().await.unwrap();
    let links: Vec<&str> = page.split("href=\"/watch/").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    assert!(!links.is_empty() && links.iter().all(|l| l.contains("library=Films")), "{links:?}");
    for other in ["Beach", "Cake"] {
        assert!(!page.contains(&format!("‹ {other}")) && !page.contains(&format!("{other} ›")), "{other}: {page}");
    }
    // From a listing, the listing's order decides (the whole library here).
    let listed = srv.get(&format!("/watch/{brazil}?sort=title&order=desc")).await.text().await.unwrap();
    assert!(!listed.contains("library=Films"), "{listed}");

    // Folders: no zero counts.
    let top = srv.get("/folders").await.text().await.unwrap();
    assert!(top.contains("2 folders</span>") || top.contains("2 folders<"), "{top}");
    assert!(!top.contains("0 videos"), "{top}");
    let inside = srv.get("/folders?in=Films").await.text().await.unwrap();
    assert!(inside.contains("3 videos here") && !inside.contains("0 folders"), "{inside}");
}
