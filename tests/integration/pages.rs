//! Pages: gallery (sort, pagination), watch, admin, errors, assets.

use crate::support::{Fixture, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gallery_sorts_and_paginates() {
    let fx = Fixture::new();
    for i in 0..60u64 {
        fx.mp4(&format!("clip {i:02}.mp4"), 1000 + i as usize * 10, 200 + i);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let res = srv.get("/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    let html = res.text().await.unwrap();
    assert!(html.contains("60 videos"));
    assert_eq!(html.matches("class=\"card\"").count(), 48, "first page holds 48");

    let page1 = srv.get("/?sort=title&order=asc").await.text().await.unwrap();
    assert!(page1.contains("clip 00") && page1.contains("clip 47") && !page1.contains("clip 48"));
    let page2 = srv.get("/?sort=title&order=asc&page=2").await.text().await.unwrap();
    assert!(page2.contains("clip 48") && page2.contains("clip 59") && !page2.contains("clip 47"));
    assert_eq!(page2.matches("class=\"card\"").count(), 12);
    let desc = srv.get("/?sort=size&order=desc").await.text().await.unwrap();
    assert!(desc.find("clip 59").unwrap() < desc.find("clip 58").unwrap());
    // A page past the end goes to the last one (the address says so).
    let beyond = srv.get("/?sort=title&order=asc&page=999").await;
    assert_eq!(beyond.status(), 303);
    assert_eq!(beyond.headers()["location"], "/?sort=title&order=asc&page=2");
    for sort in ["added", "date", "title", "size", "duration"] {
        assert_eq!(srv.get(&format!("/?sort={sort}")).await.status(), 200, "{sort}");
    }
    let bad = srv.get("/?sort=nonsense").await;
    assert_eq!(bad.status(), 400);
    let said = bad.text().await.unwrap();
    assert!(said.contains("“nonsense” is not one of the choices here") && !said.contains("relevance"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_in_titles_sort_as_numbers() {
    let fx = Fixture::new();
    for (i, n) in ["10", "2", "1", "03"].iter().enumerate() {
        fx.mp4(&format!("Lesson {n}.mp4"), 500, 400 + i as u64);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let titles = |v: serde_json::Value| -> Vec<String> {
        v["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_string()).collect()
    };
    let in_order = ["Lesson 1", "Lesson 2", "Lesson 03", "Lesson 10"];
    assert_eq!(titles(srv.json("/api/v1/videos?sort=title").await), in_order);
    // Found together (equal matches) and added together (the default
    // newest first): in title order.
    assert_eq!(titles(srv.json("/api/v1/videos?q=lesson").await), in_order);
    assert_eq!(titles(srv.json("/api/v1/videos").await), in_order);
    // Best match has no direction to choose.
    let found = srv.get("/?q=lesson").await.text().await.unwrap();
    assert!(found.contains("Best match") && !found.contains("id=\"order\""), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_and_errors() {
    let fx = Fixture::new();
    fx.mp4("one.mp4", 1000, 300);
    fx.mp4("two.mp4", 1000, 301);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("one.mp4").await;
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("src=\"/video/{id}\"")));
    assert!(page.contains("0:12"), "duration shown");
    assert!(page.contains("640×360"), "resolution shown");
    // Cards: how sharp, not pixels, kilobytes or the file's format.
    let gallery = srv.get("/").await.text().await.unwrap();
    assert!(
        gallery.contains(r#"<div class="meta facts"><span class="part">SD</span><span class="user">"#),
        "{gallery}"
    );
    assert!(!gallery.contains("640×360") && !gallery.contains(" kB") && !gallery.contains("· mp4"));
    assert!(page.contains("rel=\"prev\"") || page.contains("rel=\"next\""), "a neighbour link");
    assert_eq!(srv.get("/watch/one.mp4").await.status(), 200, "the original's /watch/<filename>");

    // Watched: a tick on its card, until it is begun again.
    let two = srv.id_of("two.mp4").await;
    assert_eq!(crate::support::send(&srv, "POST", &format!("/api/v1/videos/{two}/view"), None).await.0, 200);
    let seen = |page: &str, id: &str| {
        let card =
            page.split(&format!("data-id=\"{id}\"")).nth(1).unwrap().split("</article>").next().unwrap().to_string();
        card.contains("<span class=\"seen\" title=\"Watched\">✓</span>")
    };
    let gallery = srv.get("/").await.text().await.unwrap();
    assert!(seen(&gallery, &two) && !seen(&gallery, &id), "{gallery}");
    let body = serde_json::json!({ "seconds": 3.0 });
    assert_eq!(crate::support::send(&srv, "PUT", &format!("/api/v1/videos/{two}/position"), Some(body)).await.0, 200);
    assert!(!seen(&srv.get("/").await.text().await.unwrap(), &two), "begun again");
    let missing = srv.get("/watch/0123456789abcdef").await;
    assert_eq!(missing.status(), 404);
    let text = missing.text().await.unwrap();
    assert!(text.contains("<h1>Nothing here</h1>") && text.contains("Error 404 (Not Found)"), "{text}");
    let bad = srv.get("/?year=abc").await;
    assert_eq!(bad.status(), 400);
    let text = bad.text().await.unwrap();
    assert!(text.contains("This address does not look right") && text.contains("“abc” is not a number"), "{text}");
    let missing = srv.get("/api/v1/videos/0123456789abcdef").await;
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    assert_eq!(srv.get("/no/such/page").await.status(), 404);
    let post = srv.client.post(srv.url("/")).send().await.unwrap();
    assert_eq!(post.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_embedded_and_cached() {
    let fx = Fixture::new();
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let html = srv.get("/").await.text().await.unwrap();
    assert!(html.contains("No videos found yet") && html.contains("mkv, ogg, ogv, ts, m2ts, mts, avi"), "{html}");
    let css = html.split("href=\"").find_map(|s| s.split('"').next().filter(|u| u.ends_with("app.css"))).unwrap();
    let res = srv.get(css).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css");
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert!(res.text().await.unwrap().contains("prefers-color-scheme"));
    let js = html.split("src=\"").find_map(|s| s.split('"').next().filter(|u| u.ends_with("app.js"))).unwrap();
    assert_eq!(srv.get(js).await.status(), 200);
    assert_eq!(srv.get("/favicon.ico").await.status(), 200);
    assert_eq!(srv.get("/assets/x/nope.css").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_status_routes() {
    let fx = Fixture::new();
    fx.mp4("one.mp4", 1000, 310);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    assert_eq!(srv.json("/healthz").await["status"], "ok");
    assert_eq!(srv.json("/readyz").await["status"], "ready");
    assert_eq!(srv.json("/ping").await["video_count"], 1);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["backend"], "redb");
    assert_eq!(status["video_count"], 1);
    assert!(status["cache_ttl"].as_u64().unwrap() > 0);
    let list = srv.json("/api/v1/videos?sort=title&order=asc&per_page=1").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["videos"][0]["video_codec"], "h264");
    assert_eq!(list["videos"][0]["duration_ms"], 12_345);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_titles_paths_and_tags() {
    let fx = Fixture::new();
    fx.mp4("trips/Crème brûlée tutorial.mp4", 1000, 320);
    fx.mp4("trips/Beach day.mp4", 1000, 321);
    fx.mp4("cooking/bread.mp4", 1000, 322);
    fx.mp4("番組/新しいアニメ映画.mp4", 1000, 323);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    // Japanese has no spaces: a word is found in the middle of a name.
    for (q, found) in [("アニメ", 1), ("%E6%98%A0%E7%94%BB", 1), ("アメ", 0), ("番組", 1)] {
        let v = srv.json(&format!("/api/v1/videos?q={q}")).await;
        assert_eq!(v["total"], found, "{q}: {v}");
    }
    let bread = srv.id_of("cooking/bread.mp4").await;
    let tagged =
        srv.client.post(srv.url(&format!("/api/v1/videos/{bread}/tags"))).json(&serde_json::json!({ "tag": "Baking" }));
    assert_eq!(tagged.send().await.unwrap().status(), 200);
    let titles = |v: serde_json::Value| -> Vec<String> {
        v["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(titles(srv.json("/api/v1/videos?q=CREME").await), ["Crème brûlée tutorial"], "case and accents");
    assert_eq!(titles(srv.json("/api/v1/videos?q=trips").await).len(), 2, "paths");
    assert_eq!(titles(srv.json("/api/v1/videos?q=bak").await), ["bread"], "tags");
    assert_eq!(titles(srv.json("/api/v1/videos?q=beach%20trips").await), ["Beach day"], "every word must match");
    assert!(titles(srv.json("/api/v1/videos?q=zebra").await).is_empty());
    // Title matches rank before path matches.
    fx.mp4("trips/trips of 2019.mp4", 1000, 323);
    assert!(srv.app.library().rescan_and_wait(std::time::Duration::from_secs(30)).await);
    assert_eq!(titles(srv.json("/api/v1/videos?q=trips").await)[0], "trips of 2019");
    let page = srv.get("/?q=br%C3%BBl%C3%A9e").await.text().await.unwrap();
    assert!(page.contains("Crème brûlée tutorial") && !page.contains("Beach day"));
    assert!(page.contains("Results for") && page.contains(", best first"));
    // The page says what it shows: the words stay in the box and name the page.
    assert!(page.contains("<title>Library: “brûlée” · vidserve</title>"), "{page}");
    assert!(page.contains(r#"name="q" placeholder="Search" autocomplete="off" value="brûlée""#));
    // Re-sorted, the results follow the sort, not the best match.
    let by_title = titles(srv.json("/api/v1/videos?q=trips&sort=title&order=asc").await);
    assert_eq!(by_title, ["Beach day", "Crème brûlée tutorial", "trips of 2019"]);
    let page = srv.get("/?q=trips&sort=title").await.text().await.unwrap();
    assert!(page.contains("Results for") && !page.contains("best first"));
    // A page refreshing its cards asks for just those, in its order.
    let beach = srv.id_of("trips/Beach day.mp4").await;
    let picked = titles(srv.json(&format!("/api/v1/videos?ids={bread},{beach}")).await);
    assert_eq!(picked, ["bread", "Beach day"]);
    assert_eq!(srv.get("/api/v1/videos?ids=nope").await.status(), 400);
    // One typo (a letter swapped, dropped, added or changed) still finds
    // it; an exact match ranks first; words are found by their beginning.
    assert_eq!(titles(srv.json("/api/v1/videos?q=baech").await), ["Beach day"]);
    assert_eq!(titles(srv.json("/api/v1/videos?q=tutoral").await), ["Crème brûlée tutorial"]);
    assert_eq!(titles(srv.json("/api/v1/videos?q=braed%20cooking").await), ["bread"]);
    fx.mp4("trips/Bench.mp4", 1000, 324);
    assert!(srv.app.library().rescan_and_wait(std::time::Duration::from_secs(30)).await);
    assert_eq!(titles(srv.json("/api/v1/videos?q=beach").await), ["Beach day", "Bench"], "exact first");
    assert!(titles(srv.json("/api/v1/videos?q=ach").await).is_empty(), "not inside a word");
    // Nothing found is not an empty library.
    let page = srv.get("/?q=zebra").await.text().await.unwrap();
    assert!(page.contains("No video matches “zebra”") && !page.contains("No videos found yet"), "{page}");
    // No controls that would do nothing on an empty listing.
    for control in ["/random?", "Open in VLC", "select-mode", "sort-form"] {
        assert!(!page.contains(control), "{control} shown with nothing listed");
    }
    assert!(srv.get("/").await.text().await.unwrap().contains("sort-form"), "and shown with something listed");
}

/// `/folders`: the library as it lies on disk, a folder at a time, with
/// counts at any depth; bad paths refused, a page past the end redirected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_show_the_library_as_it_lies_on_disk() {
    let fx = Fixture::new();
    fx.mp4("top clip.mp4", 1000, 1800);
    fx.mp4("Films/Old/Nosferatu (1922).mp4", 1000, 1801);
    fx.mp4("Films/Alien (1979).mp4", 1000, 1802);
    fx.mp4("Series/Show/Season 1/Show S01E01.mp4", 1000, 1803);
    fx.mp4("Series/Show/Season 1/Show S01E02.mp4", 1000, 1804);
    fx.mp4("Séries & co/x <y>.mp4", 1000, 1805);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let page = |path: &'static str| {
        let srv = &srv;
        async move {
            let res = srv.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let top = page("/folders").await;
    assert!(top.contains(r#"href="/folders""#) && top.contains("aria-current=\"page\">Folders"), "in the header");
    for (link, count) in [
        ("/folders?in=Films", "2 videos"),
        ("/folders?in=Series", "2 videos"),
        ("/folders?in=S%C3%A9ries%20%26%20co", "1 video"),
    ] {
        let at = top.find(&format!("href=\"{link}\"")).unwrap_or_else(|| panic!("{link} in {top}"));
        assert!(top[at..].split("</li>").next().unwrap().contains(count), "{link}: {count}");
    }
    assert!(top.contains("top clip") && !top.contains("Alien"), "only the videos right there");
    assert!(top.contains("x &lt;y&gt;") || !top.contains("<y>"), "names are escaped");

    let films = page("/folders?in=Films").await;
    assert!(films.contains("All folders") && films.contains("href=\"/folders?in=Films%2FOld\""), "{films}");
    assert!(
        films.contains(">Alien<")
            && films.contains(">1979</span><span class=\"part\">SD")
            && !films.contains("Nosferatu"),
        "{films}"
    );
    let season = page("/folders?in=Series/Show/Season%201").await;
    // Episodes by their series, told apart by their numbers.
    assert!(
        season.contains(">S1 E1</span>") && season.contains(">S1 E2</span>") && season.contains(">Show<"),
        "{season}"
    );
    assert!(season.contains("href=\"/folders?in=Series%2FShow\""), "each folder above is a link");

    for (bad, status) in [("/folders?in=../etc", 400), ("/folders?in=Films/..", 400), ("/folders?in=Nope", 404)] {
        assert_eq!(srv.get(bad).await.status(), status, "{bad}");
    }
    let past = srv.get("/folders?in=Films&page=9").await;
    assert_eq!(past.status(), 303);
    assert_eq!(past.headers()["location"], "/folders?in=Films", "a page past the end goes to the last");
}
