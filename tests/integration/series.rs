//! Series and films recognised from names and folders: the series pages,
//! the episode to watch next, years on cards and as a filter, and the
//! same in the API.

use serde_json::Value;

use crate::support::{send, Fixture, TestServer};

fn ids_by_title(list: &Value) -> std::collections::HashMap<String, String> {
    list["videos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["file_title"].as_str().unwrap().to_string(), v["id"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_are_found_ordered_and_followed() {
    let fx = Fixture::new();
    fx.mp4("TV/Fargo/Season 1/Fargo.S01E02.The.Rooster.Prince.720p.mp4", 1000, 3100);
    fx.mp4("TV/Fargo/Season 1/Fargo.S01E01.The.Crocodiles.Dilemma.mp4", 1000, 3101);
    fx.mp4("TV/Fargo/Season 2/01 - Waiting for Dutch.mp4", 1000, 3102);
    fx.mp4("Downloads/fargo.s02e02.mp4", 1000, 3103);
    fx.mp4("TV/Doctor Who (2005)/Series 1/Doctor.Who.2005.S01E01.Rose.mp4", 1000, 3104);
    fx.mp4("Films/Alien (1979).mp4", 1000, 3105);
    fx.mp4("Films/Heat.1995.1080p.BluRay.mp4", 1000, 3106);
    fx.mp4("Home/2019-07-04 Fireworks.mp4", 1000, 3107);
    fx.mp4("Home/beach <b>.mp4", 1000, 3108);
    // Fargo's folder has a poster (wide: cropped to 2:3); Doctor Who's is
    // not an image; a link out of the library is never followed.
    let wide = image::RgbImage::from_pixel(900, 300, image::Rgb([20, 120, 200]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(wide)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    fx.write("TV/Fargo/poster.jpg", &png);
    fx.write("TV/Fargo/Season 2/folder.jpg", &png);
    fx.write("TV/Doctor Who (2005)/folder.jpg", b"not an image at all");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.jpg"), &png).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.jpg"), fx.path().join("TV/Doctor Who (2005)/poster.jpg"))
        .unwrap();
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let all = srv.json("/api/v1/videos?per_page=100").await;
    let id = ids_by_title(&all);

    // The index: each series once, by name, with its counts; a link each.
    let res = srv.get("/series").await;
    assert_eq!(res.status(), 200);
    let index = res.text().await.unwrap();
    assert!(index.contains("aria-current=\"page\">Series"), "in the header");
    let (who, fargo) = (index.find("Doctor Who (2005)").unwrap(), index.find("Fargo").unwrap());
    assert!(who < fargo, "by name");
    assert!(index.contains("href=\"/series/fargo\"") && index.contains("href=\"/series/doctor-who-2005\""), "{index}");
    let tile = &index[fargo..];
    let tile = tile.split("</li>").next().unwrap();
    assert!(tile.contains("4 episodes</span><span class=\"part\">2 seasons"), "{tile}");
    assert!(!index.contains("Alien") && !index.contains("Fireworks"), "films and home videos are no series");
    // A search names the series it matches above the videos it finds.
    let found = srv.get("/?q=farg").await.text().await.unwrap();
    let series = found.find("id=\"series-found\"").expect("the series matched");
    assert!(found[series..].contains("href=\"/series/fargo\"") && !found[series..].contains("doctor-who"), "{found}");
    assert!(series < found.find("id=\"gallery-grid\"").unwrap(), "above the videos");
    let none = srv.get("/?q=alien").await.text().await.unwrap();
    assert!(!none.contains("series-found"), "no series matches: no row");

    // A series' page: seasons in order, episodes in order, the first to play.
    let page = srv.get("/series/fargo").await.text().await.unwrap();
    // Each card titled by its episode's own title when its name has one,
    // else by its number.
    let order: Vec<usize> = ["The Crocodiles Dilemma<", "The Rooster Prince<", "Waiting for Dutch<", "Episode 2<"]
        .iter()
        .map(|t| page.find(t).unwrap_or_else(|| panic!("{t} in {page}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "episodes in order: {order:?}");
    assert!(page.contains("Season 1") && page.contains("Season 2"));
    let first = &id["Fargo.S01E01.The.Crocodiles.Dilemma"];
    assert!(page.contains(&format!("href=\"/watch/{first}\">▶ Play S1 E1")), "{page}");

    // Watched the first: the next is the second; begun the second: resume it.
    assert_eq!(send(&srv, "POST", &format!("/api/v1/videos/{first}/view"), None).await.0, 200);
    let one = srv.json("/api/v1/series/fargo").await;
    let second = &id["Fargo.S01E02.The.Rooster.Prince.720p"];
    assert_eq!(one["next"]["id"], second.as_str(), "{one}");
    assert_eq!(one["name"], "Fargo");
    let seasons = one["seasons"].as_array().unwrap();
    assert_eq!(seasons.len(), 2);
    assert_eq!(seasons[0]["episodes"][0]["label"], "S1 E1");
    assert_eq!(seasons[1]["episodes"][0]["title"], "Waiting for Dutch");
    // The library's first page has it in *Next up*.
    let home = srv.get("/").await.text().await.unwrap();
    let row = home.split("id=\"next-up\"").nth(1).unwrap_or_else(|| panic!("a Next up row: {home}"));
    assert!(row.split("</ul>").next().unwrap().contains(&format!("/watch/{second}")), "{row}");
    let body = serde_json::json!({ "seconds": 5 });
    assert_eq!(send(&srv, "PUT", &format!("/api/v1/videos/{second}/position"), Some(body)).await.0, 200);
    let page = srv.get("/series/fargo").await.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/watch/{second}\">▶ Resume S1 E2")), "{page}");
    let home = srv.get("/").await.text().await.unwrap();
    assert!(!home.contains("id=\"next-up\""), "a begun episode is in Continue watching, not Next up");

    // Paged, in the API and on the page.
    let paged = srv.json("/api/v1/series/fargo?per_page=1&page=2").await;
    assert_eq!(
        (paged["episodes"].as_u64(), paged["seasons"][0]["episodes"][0]["label"].as_str()),
        (Some(4), Some("S1 E2"))
    );
    assert_eq!(paged["next"]["id"], second.as_str(), "the next one whatever the page");
    let past = srv.get("/series/fargo?page=9").await;
    assert_eq!(past.status(), 303);
    assert_eq!(past.headers()["location"], "/series/fargo?page=1");
    // The list in the API, paged.
    let list = srv.json("/api/v1/series?per_page=1").await;
    assert_eq!(list["total"], 2);
    assert_eq!(list["series"][0]["key"], "doctor-who-2005");
    assert_eq!(list["series"][0]["year"], 2005);
    let list = srv.json("/api/v1/series?per_page=1&page=2").await;
    assert_eq!(list["series"][0]["seasons"], serde_json::json!([1, 2]));

    // Every video says what it is.
    let video = srv.json(&format!("/api/v1/videos/{second}")).await;
    assert_eq!(video["episode"]["series"], "Fargo");
    assert_eq!(video["episode"]["series_url"], "/series/fargo");
    assert_eq!((video["episode"]["season"].as_u64(), video["episode"]["episode"].as_u64()), (Some(1), Some(2)));
    let alien = srv.json(&format!("/api/v1/videos/{}", id["Alien (1979)"])).await;
    assert_eq!((alien["year"].as_u64(), alien["episode"].is_null()), (Some(1979), true));

    // An episode's page: titled as its series page titles it, a link to
    // the series, and it goes on in the series' order (not date added)...
    let watch = srv.get(&format!("/watch/{second}")).await.text().await.unwrap();
    assert!(watch.contains("<h1 id=\"title\">The Rooster Prince</h1>"), "{watch}");
    assert!(watch.contains("<a href=\"/series/fargo\">Fargo</a> · S1 E2"), "{watch}");
    let dutch = &id["01 - Waiting for Dutch"];
    assert!(
        watch.contains(&format!("href=\"/watch/{first}\" rel=\"prev\">‹ S1 E1 · The Crocodiles Dilemma<")),
        "{watch}"
    );
    assert!(watch.contains(&format!("href=\"/watch/{dutch}\" rel=\"next\"")), "{watch}");
    assert!(watch.contains("S2 E1 · Waiting for Dutch ›"), "{watch}");
    // ...unless it was opened from a listing, which it then follows.
    let listed = srv.get(&format!("/watch/{second}?sort=title")).await.text().await.unwrap();
    assert!(listed.contains("?sort=title&amp;order=asc\" rel=\"next\""), "{listed}");
    assert!(!listed.contains(&format!("/watch/{dutch}?sort=title&amp;order=asc\" rel=\"next\"")), "{listed}");
    let film = srv.get(&format!("/watch/{}", id["Alien (1979)"])).await.text().await.unwrap();
    assert!(!film.contains("in-series"), "a film is in no series");

    // By year: films, series and dated home videos; a card says its year.
    for (year, expected) in
        [(1979, vec!["Alien (1979)"]), (2019, vec!["2019-07-04 Fireworks"]), (1995, vec!["Heat.1995.1080p.BluRay"])]
    {
        let found = srv.json(&format!("/api/v1/videos?year={year}")).await;
        let titles: Vec<&str> =
            found["videos"].as_array().unwrap().iter().map(|v| v["file_title"].as_str().unwrap()).collect();
        assert_eq!(titles, expected, "{year}");
    }
    assert_eq!(srv.json("/api/v1/videos?year=2005").await["total"], 1, "the series' year");
    let gallery = srv.get("/?year=1979").await.text().await.unwrap();
    assert!(gallery.contains("Alien (1979)") && !gallery.contains("Heat.1995"), "the gallery filters too");
    assert!(gallery.contains("value=\"1979\""), "the filter shows what was asked");
    let gallery = srv.get("/").await.text().await.unwrap();
    assert!(gallery.contains("<span class=\"kind\">1979</span><span"), "a film's card says its year");
    assert!(gallery.contains("<span class=\"kind\">S1 E2</span><span"), "an episode's card says which");
    assert!(gallery.contains("<option value=\"2019\">"), "the years to pick from");

    // Posters: the folder's, cropped to 2:3; none from a broken image or
    // a link out of the library (and no episode thumbnail here either).
    assert!(index.contains("src=\"/series/fargo/poster.jpg\""), "{index}");
    let res = srv.get("/series/fargo/poster.jpg").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let poster = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((poster.width(), poster.height()), (320, 480));
    assert_eq!(srv.get("/series/doctor-who-2005/poster.jpg").await.status(), 404);
    // A season's own, beside its heading; none for a season without one.
    let page = srv.get("/series/fargo").await.text().await.unwrap();
    assert!(page.contains("src=\"/series/fargo/season/2/poster.jpg\""), "{page}");
    assert!(!page.contains("/season/1/poster.jpg"), "{page}");
    let res = srv.get("/series/fargo/season/2/poster.jpg").await;
    assert_eq!(res.status(), 200);
    let poster = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((poster.width(), poster.height()), (320, 480));
    for bad in [
        "/series/fargo/season/1/poster.jpg",
        "/series/fargo/season/99999999999/poster.jpg",
        "/series/x/season/2/poster.jpg",
    ] {
        assert_eq!(srv.get(bad).await.status(), 404, "{bad}");
    }
    assert_eq!(srv.get("/series/fargo/season/two/poster.jpg").await.status(), 404);
    assert_eq!(srv.get("/series/nothing/poster.jpg").await.status(), 404);

    // Films as posters: by title, or newest first; each says its year.
    let films = srv.get("/films").await.text().await.unwrap();
    assert!(films.contains("aria-current=\"page\">Films") && films.contains("2 films"), "{films}");
    let (alien, heat) = (films.find(">Alien<").unwrap(), films.find(">Heat<").unwrap());
    assert!(alien < heat && films.contains(">1979</span>") && !films.contains("Fargo"), "{films}");
    let newest = srv.get("/films?sort=year").await.text().await.unwrap();
    assert!(newest.find(">Heat<").unwrap() < newest.find(">Alien<").unwrap(), "{newest}");
    assert_eq!(srv.get("/films?sort=size").await.status(), 400);
    assert_eq!(srv.get("/films?page=7").await.status(), 303);

    // Bad input: clear errors.
    for (bad, status) in [
        ("/series/nothing-here", 404),
        ("/series/%FF", 400),
        ("/api/v1/series/nothing", 404),
        ("/api/v1/series?per_page=0", 400),
        ("/api/v1/series?per_page=501", 400),
        ("/api/v1/videos?year=12", 400),
        ("/api/v1/videos?year=nope", 400),
        ("/?year=99999", 400),
        ("/series?page=9", 303),
    ] {
        assert_eq!(srv.get(bad).await.status(), status, "{bad}");
    }
    let long = format!("/series/{}", "a".repeat(5000));
    assert_eq!(srv.get(&long).await.status(), 404);
    let page = srv.get("/series?page=abc").await;
    assert_eq!(page.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_without_series_says_how_they_are_found() {
    let fx = Fixture::new();
    fx.mp4("clip.mp4", 1000, 3200);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let index = srv.get("/series").await.text().await.unwrap();
    assert!(index.contains("No series found") && index.contains("S01E02"), "{index}");
    assert_eq!(srv.json("/api/v1/series").await["total"], 0);
}

/// Home videos are dated by when they were recorded, as their own
/// metadata says (MP4 `mvhd`, Matroska `DateUTC`): on cards, on the
/// details panel, in the API, by year and as a sort; kept across a
/// restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_videos_are_dated_by_when_they_were_recorded() {
    let fx = Fixture::new();
    std::fs::create_dir_all(fx.path().join("Home")).unwrap();
    let clip =
        ["-f", "lavfi", "-i", "testsrc=duration=1:size=160x90:rate=10", "-c:v", "libx264", "-pix_fmt", "yuv420p"];
    for (name, when) in [
        ("Home/beach.mp4", Some("2019-07-04T18:30:00Z")),
        ("Home/party.mkv", Some("2016-05-01T10:00:00Z")),
        ("Home/garden.mp4", None),
    ] {
        let mut args = clip.to_vec();
        let meta = when.map(|w| format!("creation_time={w}"));
        if let Some(m) = &meta {
            args.extend(["-metadata", m.as_str()]);
        }
        crate::support::ffmpeg(&fx.path().join(name), &args);
    }
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let check = |srv: TestServer| async move {
        let all = srv.json("/api/v1/videos?sort=taken").await;
        let got: Vec<(&str, &Value)> = all["videos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["file_title"].as_str().unwrap(), &v["taken"]))
            .collect();
        assert_eq!(
            got,
            [
                ("beach", &Value::from("2019-07-04T18:30:00Z")),
                ("party", &Value::from("2016-05-01T10:00:00Z")),
                ("garden", &Value::Null)
            ],
            "newest first, unknown last"
        );
        let asc = srv.json("/api/v1/videos?sort=taken&order=asc").await;
        assert_eq!(asc["videos"][2]["file_title"], "beach");
        let in_2016 = srv.json("/api/v1/videos?year=2016").await;
        assert_eq!((in_2016["total"].as_u64(), in_2016["videos"][0]["file_title"].as_str()), (Some(1), Some("party")));
        assert_eq!(in_2016["videos"][0]["year"], 2016);
        let gallery = srv.get("/?sort=taken").await.text().await.unwrap();
        assert!(gallery.contains("<span class=\"kind\">4 Jul 2019</span><span class=\"part\">"), "{gallery}");
        assert!(
            gallery.contains("<option value=\"taken\" data-order=\"desc\" selected>Date taken</option>"),
            "a sort to pick"
        );
        let beach = srv.id_of("Home/beach.mp4").await;
        let page = srv.get(&format!("/watch/{beach}")).await.text().await.unwrap();
        assert!(page.contains("<dt>Recorded</dt><dd>4 Jul 2019</dd>"), "{page}");
        srv
    };
    let srv = check(srv).await;
    // After a restart, from the stored index (the files are not probed again).
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    check(srv).await.stop().await;
}
