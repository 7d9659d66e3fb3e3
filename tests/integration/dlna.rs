//! DLNA (`--dlna`): a real UPnP control point (async-upnp-client's
//! `upnp-client`, installed by `.ci/run` under `target/upnp`) finds the
//! server by SSDP, browses and searches its ContentDirectory, and fetches a
//! video with ranges (curl). SSDP is multicast: server and clients run in a
//! network namespace of the test's own, on its loopback, never on the
//! machine's interfaces.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{ffmpeg, skip, Fixture};

/// A network namespace with multicast on its loopback, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    /// `None` (said aloud) where namespaces cannot be made (not root, no
    /// `ip`).
    fn new(tag: &str) -> Option<Netns> {
        let name = format!("vsdlna-{}-{tag}", std::process::id());
        let ip = |args: &[&str]| Command::new("ip").args(args).output().is_ok_and(|o| o.status.success());
        if !ip(&["netns", "add", &name]) {
            skip("cannot make a network namespace (needs root and iproute2's ip)");
            return None;
        }
        let ns = Netns { name };
        for args in [
            &["link", "set", "lo", "up"][..],
            &["link", "set", "lo", "multicast", "on"],
            &["route", "add", "239.0.0.0/8", "dev", "lo"],
        ] {
            assert!(ns.command("ip").args(args).status().unwrap().success(), "ip {args:?} in the namespace");
        }
        Some(ns)
    }

    /// A pair of virtual Ethernet ends inside the namespace, `vs0` with
    /// `10.77.0.1/24`, SSDP's group routed out of it: for programs that
    /// will not announce on loopback (libupnp's renderers).
    fn with_ethernet(self) -> Netns {
        for args in [
            &["link", "add", "vs0", "type", "veth", "peer", "name", "vs1"][..],
            &["addr", "add", "10.77.0.1/24", "dev", "vs0"],
            &["link", "set", "vs0", "up"],
            &["link", "set", "vs1", "up"],
            &["route", "replace", "239.0.0.0/8", "dev", "vs0"],
        ] {
            assert!(self.command("ip").args(args).status().unwrap().success(), "ip {args:?} in the namespace");
        }
        self
    }

    /// Waits (at most 60 s) until something in the namespace listens on
    /// `port` (`ss` flags: `-Huln` UDP, `-Htln` TCP).
    fn wait_for_listener(&self, flags: &str, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let out = self.command("ss").args([flags, &format!("sport = :{port}")]).output().unwrap();
            if !out.stdout.is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A port on the machine's loopback whose connections are carried to
    /// `port` on the namespace's loopback (for a browser outside it): each
    /// is dialled from a thread moved into the namespace (`setns`).
    fn forward(&self, port: u16) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let here = listener.local_addr().unwrap().port();
        let ns = std::fs::File::open(format!("/var/run/netns/{}", self.name)).unwrap();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let (Ok(client), Ok(ns)) = (client, ns.try_clone()) else { return };
                std::thread::spawn(move || {
                    use std::os::fd::AsRawFd;
                    // SAFETY: moves only this thread into the namespace.
                    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        return;
                    }
                    let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return };
                    let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let up = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut c_in, &mut s_out);
                        let _ = s_out.shutdown(std::net::Shutdown::Write);
                    });
                    let (mut s_in, mut c_out) = (server, client);
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                    let _ = up.join();
                });
            }
        });
        here
    }

    /// `program` run inside the namespace.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).status();
    }
}

fn upnp_client() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/upnp/bin/upnp-client");
    if bin.exists() {
        Some(bin)
    } else {
        skip(
            "no upnp-client (python3 -m venv target/upnp && target/upnp/bin/pip install async-upnp-client, or .ci/run)",
        );
        None
    }
}

/// vidserve inside a namespace; killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(ns: &Netns, dirs: &[&Path], data: &Path) -> Server {
        Server::on(ns, dirs, data, "lo")
    }

    /// Announced on `interface` (listening on every address but for `lo`).
    fn on(ns: &Netns, dirs: &[&Path], data: &Path, interface: &str) -> Server {
        let mut cmd = ns.command(env!("CARGO_BIN_EXE_vidserve"));
        for d in dirs {
            cmd.arg("--dir").arg(d);
        }
        let bind = if interface == "lo" { "127.0.0.1:0" } else { "0.0.0.0:0" };
        cmd.arg("--data").arg(data).args(["--bind", bind, "--no-watch", "--dlna", "--dlna-interface", interface]);
        // Files are read when played or opened, so what a test sees of them
        // does not race the reads made in the background after a scan.
        cmd.arg("--no-background-reads");
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        // The banner names the port.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("vidserve printed its address").unwrap();
            if let Some(rest) = line.trim().strip_prefix("Local:   http://127.0.0.1:") {
                break rest.trim_end_matches('/').parse().unwrap();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        let srv = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while curl(ns, &["-o", "/dev/null", "-w", "%{http_code}", &srv.url("/readyz")]).0 != b"200" {
            assert!(Instant::now() < deadline, "vidserve became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        srv
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, and waits for it to end.
    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl inside the namespace: (body, headers).
fn curl(ns: &Netns, args: &[&str]) -> (Vec<u8>, String) {
    let headers = tempfile::NamedTempFile::new().unwrap();
    let out =
        ns.command("curl").args(["-sS", "--max-time", "20", "-D"]).arg(headers.path()).args(args).output().unwrap();
    (out.stdout, std::fs::read_to_string(headers.path()).unwrap_or_default())
}

/// `upnp-client call-action` against the server's description: the
/// action's out parameters.
fn call(ns: &Netns, client: &Path, srv: &Server, action: &str, args: &[&str]) -> Value {
    let out = ns
        .command(client)
        .args(["--timeout", "10", "call-action", &srv.url("/dlna/device.xml"), action])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "upnp-client {action} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["out_parameters"].clone()
}

fn browse(ns: &Netns, client: &Path, srv: &Server, id: &str, flag: &str, start: u32, count: u32) -> Value {
    let args = [
        format!("ObjectID={id}"),
        format!("BrowseFlag={flag}"),
        "Filter=*".into(),
        format!("StartingIndex={start}"),
        format!("RequestedCount={count}"),
        "SortCriteria=".into(),
    ];
    call(ns, client, srv, "CD/Browse", &args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A container's id and title.
type Container = (String, String);
/// An item's id, title and first resource URL.
type Item = (String, String, String);

/// The (id, title) of each container and each item of a DIDL-Lite result,
/// and the items' first resource URLs.
fn objects(didl: &str) -> (Vec<Container>, Vec<Item>) {
    let attr = |tag: &str, name: &str| -> String {
        let at = tag.find(&format!(" {name}=\"")).map(|i| i + name.len() + 3).unwrap();
        tag[at..at + tag[at..].find('"').unwrap()].to_string()
    };
    let between = |s: &str, open: &str, close: &str| -> String {
        let a = s.find(open).map(|i| i + open.len()).unwrap();
        let a = a + s[a..].find('>').unwrap() + 1;
        s[a..a + s[a..].find(close).unwrap()].to_string()
    };
    let (mut containers, mut items) = (Vec::new(), Vec::new());
    for part in didl.split("<container").skip(1) {
        let part = &part[..part.find("</container>").unwrap()];
        containers.push((attr(part, "id"), between(part, "<dc:title", "</dc:title>")));
    }
    for part in didl.split("<item").skip(1) {
        let part = &part[..part.find("</item>").unwrap()];
        items.push((attr(part, "id"), between(part, "<dc:title", "</dc:title>"), between(part, "<res", "</res>")));
    }
    (containers, items)
}

fn clip(dir: &Path, rel: &str, seconds: &str) -> PathBuf {
    let out = dir.join(rel);
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    ffmpeg(
        &out,
        &["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", seconds, "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    out
}

#[test]
fn a_control_point_finds_browses_searches_and_fetches() {
    let Some(client) = upnp_client() else { return };
    let Some(ns) = Netns::new("find") else { return };
    let fx = Fixture::new();
    let one = clip(fx.path(), "Cats & <Dogs>.mp4", "2");
    std::fs::write(
        fx.path().join("Cats & <Dogs>.srt"),
        "1\r\n00:00:00,500 --> 00:00:01,250\r\nMiaow & <b>woof</b>\r\n",
    )
    .unwrap();
    clip(fx.path(), "shows/episode 1.mkv", "1");
    // Four seconds with a key frame each second: a seek by time lands inside.
    ffmpeg(
        &fx.path().join("shows/episode 2.mkv"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "4",
            "-g",
            "10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let data = tempfile::tempdir().unwrap();

    // Announcements heard from the start (alive) to the end (byebye).
    let mut heard = ns
        .command(&client)
        .args(["advertisements", "--bind", "127.0.0.1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Listening before the server starts (Python takes a while on a busy machine).
    ns.wait_for_listener("-Huln", 1900);
    let srv = Server::start(&ns, &[fx.path()], data.path());
    let udn = format!("uuid:{}", std::fs::read_to_string(data.path().join("dlna-uuid")).unwrap().trim());
    let location = srv.url("/dlna/device.xml");

    // Discovered by a search for media servers.
    let out = ns
        .command(&client)
        .args(["--timeout", "3", "search", "--bind", "127.0.0.1", "--search_target"])
        .arg("urn:schemas-upnp-org:device:MediaServer:1")
        .output()
        .unwrap();
    let found: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(
        found
            .iter()
            .any(|f| f["location"] == location.as_str() && f["USN"].as_str().is_some_and(|u| u.starts_with(&udn))),
        "search answers: {found:?}"
    );

    // The root, then the folders: a subfolder before the video beside it.
    let root = browse(&ns, &client, &srv, "0", "BrowseDirectChildren", 0, 0);
    let (containers, _) = objects(root["Result"].as_str().unwrap());
    let ids: Vec<&str> = containers.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(ids, ["all", "recent", "folders", "fav", "pl", "tags"], "{root}");
    let folders = browse(&ns, &client, &srv, "folders", "BrowseDirectChildren", 0, 0);
    let (subs, items) = objects(folders["Result"].as_str().unwrap());
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1, "shows");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].1, "Cats &amp; &lt;Dogs&gt;", "titles are escaped");
    // Its subtitles listed with it, as a SubRip resource and as Samsung's
    // televisions look for them; none with the episodes (they have none).
    let didl = folders["Result"].as_str().unwrap();
    let cats = items[0].0.rsplit('/').next().unwrap();
    let srt = srv.url(&format!("/dlna/subtitles/{cats}/0.srt"));
    assert!(didl.contains(&format!("<res protocolInfo=\"http-get:*:text/srt:*\">{srt}</res>")), "{didl}");
    assert!(didl.contains(&format!("<sec:CaptionInfoEx sec:type=\"srt\">{srt}</sec:CaptionInfoEx>")), "{didl}");
    assert!(didl.contains("xmlns:sec=\"http://www.sec.co.kr/\""), "{didl}");
    let (_, episodes) =
        objects(browse(&ns, &client, &srv, &subs[0].0, "BrowseDirectChildren", 0, 0)["Result"].as_str().unwrap());
    let titles: Vec<&str> = episodes.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(titles, ["episode 1", "episode 2"]);
    assert!(!browse(&ns, &client, &srv, &subs[0].0, "BrowseDirectChildren", 0, 0)["Result"]
        .as_str()
        .unwrap()
        .contains("text/srt"));
    // Its metadata names its parent.
    let meta = browse(&ns, &client, &srv, &subs[0].0, "BrowseMetadata", 0, 0);
    assert!(meta["Result"].as_str().unwrap().contains("parentID=\"folders\""), "{meta}");

    // Paged: the second of three, and how many there are.
    let page = browse(&ns, &client, &srv, "all", "BrowseDirectChildren", 1, 1);
    assert_eq!((page["NumberReturned"].as_u64(), page["TotalMatches"].as_u64()), (Some(1), Some(3)));
    let (_, second) = objects(page["Result"].as_str().unwrap());
    assert_eq!(second[0].1, "episode 1");
    let past = browse(&ns, &client, &srv, "all", "BrowseDirectChildren", 7, 5);
    assert_eq!((past["NumberReturned"].as_u64(), past["TotalMatches"].as_u64()), (Some(0), Some(3)));

    // Searched.
    let found = call(
        &ns,
        &client,
        &srv,
        "CD/Search",
        &[
            "ContainerID=0",
            "SearchCriteria=upnp:class derivedfrom \"object.item.videoItem\" and dc:title contains \"EPISODE\"",
            "Filter=*",
            "StartingIndex=0",
            "RequestedCount=10",
            "SortCriteria=",
        ],
    );
    assert_eq!(found["TotalMatches"].as_u64(), Some(2), "{found}");

    // The video fetched as a player would: a range, with DLNA's headers.
    let url = items[0].2.clone();
    assert!(url.starts_with(&srv.url("/dlna/")), "{url}");
    let stored = srv.url(&format!("/dlna/media/{}", items[0].0.rsplit('/').next().unwrap()));
    let (body, headers) = curl(&ns, &["-r", "100-299", "-H", "getcontentFeatures.dlna.org: 1", &stored]);
    assert_eq!(body, std::fs::read(&one).unwrap()[100..300]);
    let headers = headers.to_lowercase();
    assert!(headers.starts_with("http/1.1 206"), "{headers}");
    assert!(headers.contains("contentfeatures.dlna.org: dlna.org_op=01;dlna.org_ci=0;"), "{headers}");
    assert!(headers.contains("transfermode.dlna.org: streaming"), "{headers}");
    // Subtitles as Samsung's televisions ask for them: named in a header,
    // fetched as SubRip.
    let (_, headers) = curl(&ns, &["-r", "0-1", "-H", "getCaptionInfo.sec: 1", &stored]);
    let caption = headers
        .lines()
        .find_map(|l| l.to_lowercase().starts_with("captioninfo.sec:").then(|| l[16..].trim().to_string()))
        .unwrap_or_else(|| panic!("a caption header: {headers}"));
    assert!(caption.starts_with(&srv.url("/dlna/subtitles/")) && caption.ends_with("/0.srt"), "{caption}");
    let (srt, headers) = curl(&ns, &[&caption]);
    assert!(headers.to_lowercase().contains("content-type: text/srt"), "{headers}");
    assert_eq!(String::from_utf8_lossy(&srt), "1\n00:00:00,500 --> 00:00:01,250\nMiaow & <b>woof</b>\n\n");
    let (_, headers) = curl(&ns, &["-o", "/dev/null", &srv.url("/dlna/subtitles/0000000000000001/0.srt")]);
    assert!(headers.starts_with("HTTP/1.1 404"), "{headers}");
    let (body, headers) = curl(&ns, &["-r", "0-7", &url]);
    assert!(headers.to_lowercase().starts_with("http/1.1 206"), "{headers}");
    assert_eq!(body.len(), 8);

    // The remuxed MP4 seeks by time too (DLNA's TimeSeekRange): its init
    // segment (so it plays on its own), then the fragments from the one
    // holding the time asked, saying which times it holds.
    let second = episodes[1].0.rsplit('/').next().unwrap();
    let play = srv.url(&format!("/dlna/play/{second}"));
    let (whole, headers) = curl(&ns, &["-H", "getcontentFeatures.dlna.org: 1", &play]);
    assert!(headers.to_lowercase().contains("dlna.org_op=11;dlna.org_ci=1"), "{headers}");
    let box_len = |at: usize| u32::from_be_bytes(whole[at..at + 4].try_into().unwrap()) as usize;
    let init = box_len(0) + box_len(box_len(0));
    assert_eq!(&whole[box_len(0) + 4..box_len(0) + 8], b"moov");
    let seek = |range: &str| {
        let (part, headers) = curl(&ns, &["-H", &format!("TimeSeekRange.dlna.org: {range}"), &play]);
        assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
        assert!(!headers.to_lowercase().contains("\netag:"), "not the whole stream's validators: {headers}");
        let said = headers
            .lines()
            .find_map(|l| l.to_lowercase().strip_prefix("timeseekrange.dlna.org: ").map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("{headers}"));
        (part, said)
    };
    let (later, said) = seek("npt=2.5-");
    assert_eq!(said, "npt=2.000-4.000/4.000");
    let tail = later.len() - init;
    assert!(later[..init] == whole[..init] && whole.ends_with(&later[init..]), "the init, then the end");
    assert!(
        tail > whole.len() / 4 && tail < whole.len() * 3 / 4,
        "from the fragment at 2 s: {tail} of {}",
        whole.len()
    );
    // With an end: the start through the fragment holding it, the rest of
    // the stream up to where the seek above began.
    let (first, said) = seek("npt=0-1.5");
    assert_eq!(said, "npt=0.000-1.500/4.000");
    assert!(first.len() + tail == whole.len() && whole.starts_with(&first), "{} + {tail}", first.len());
    // A time past the end, a stored file, nonsense.
    for (header, url, status) in [("npt=9-", &play, "416"), ("npt=1-", &stored, "406"), ("npt=soon-", &play, "400")] {
        let (_, headers) = curl(&ns, &["-o", "/dev/null", "-H", &format!("TimeSeekRange.dlna.org: {header}"), url]);
        assert!(headers.starts_with(&format!("HTTP/1.1 {status}")), "{header}: {headers}");
    }

    // The connection manager says what it serves.
    let info = call(&ns, &client, &srv, "CM/GetProtocolInfo", &[]);
    assert!(info["Source"].as_str().unwrap().contains("http-get:*:video/mp4:*"), "{info}");

    // Bad requests get UPnP errors, not a crash.
    let soap = |action: &str, args: &str| -> (Vec<u8>, String) {
        let body = format!(
            "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>\
             <u:{action} xmlns:u=\"urn:schemas-upnp-org:service:ContentDirectory:1\">{args}</u:{action}></s:Body></s:Envelope>"
        );
        let header = format!("SOAPACTION: \"urn:schemas-upnp-org:service:ContentDirectory:1#{action}\"");
        curl(
            &ns,
            &[
                "-X",
                "POST",
                "-H",
                "Content-Type: text/xml",
                "-H",
                &header,
                "--data-binary",
                &body,
                &srv.url("/dlna/cds/control"),
            ],
        )
    };
    let browse_args = |id: &str| {
        format!("<ObjectID>{id}</ObjectID><BrowseFlag>BrowseDirectChildren</BrowseFlag><Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>5</RequestedCount><SortCriteria></SortCriteria>")
    };
    for (action, args, code) in [
        ("Browse", browse_args("nothing-here"), "701"),
        ("Browse", browse_args("d0000000000000000"), "701"),
        ("Browse", "<ObjectID>0</ObjectID>".into(), "402"),
        ("Search", "<ContainerID>0</ContainerID><SearchCriteria>dc:title resembles \"x\"</SearchCriteria><Filter>*</Filter><StartingIndex>0</StartingIndex><RequestedCount>5</RequestedCount><SortCriteria></SortCriteria>".into(), "708"),
        ("Explode", String::new(), "401"),
    ] {
        let (body, headers) = soap(action, &args);
        let body = String::from_utf8_lossy(&body);
        assert!(headers.starts_with("HTTP/1.1 500"), "{action}: {headers}");
        assert!(body.contains(&format!("<errorCode>{code}</errorCode>")), "{action}: {body}");
    }
    let (body, headers) = curl(&ns, &["-X", "POST", "--data-binary", "<not xml", &srv.url("/dlna/cds/control")]);
    assert!(headers.starts_with("HTTP/1.1 500") && String::from_utf8_lossy(&body).contains("402"), "{headers}");

    // Events: a subscriber (the control point's own) hears the
    // SystemUpdateID at once, and again when something changes.
    let mut events = ns
        .command(&client)
        .env("PYTHONUNBUFFERED", "1")
        .args(["subscribe", &location, "ContentDirectory"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, heard_events) = std::sync::mpsc::channel::<Value>();
    let out = events.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let next_id = || -> String {
        let v = heard_events.recv_timeout(Duration::from_secs(20)).expect("an event");
        v["state_variables"]["SystemUpdateID"].to_string()
    };
    let first = next_id();
    let (_, rated) = curl(
        &ns,
        &[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            "{\"rating\": 4}",
            &srv.url(&format!("/api/v1/videos/{cats}/rating")),
        ],
    );
    assert!(rated.starts_with("HTTP/1.1 200"), "{rated}");
    let second = next_id();
    assert!(first != second && second != "null", "{first} then {second}");
    let _ = events.kill();
    let _ = events.wait();
    // Events go only to the address that subscribed; a renewal needs a
    // known SID; one SUBSCRIBE is one or the other.
    let subscribe = |headers: &[&str]| {
        let mut args = vec!["-o", "/dev/null", "-X", "SUBSCRIBE"];
        for h in headers {
            args.extend(["-H", h]);
        }
        let url = srv.url("/dlna/cds/events");
        args.push(&url);
        curl(&ns, &args).1
    };
    let elsewhere = subscribe(&["CALLBACK: <http://10.9.9.9:4000/x>", "NT: upnp:event"]);
    assert!(elsewhere.starts_with("HTTP/1.1 412"), "{elsewhere}");
    let granted = subscribe(&["CALLBACK: <http://127.0.0.1:9/x>", "NT: upnp:event", "TIMEOUT: Second-600"]);
    assert!(granted.starts_with("HTTP/1.1 200") && granted.to_lowercase().contains("timeout: second-600"), "{granted}");
    let sid = granted.lines().find_map(|l| l.strip_prefix("sid: ")).unwrap().trim().to_string();
    let renewed = subscribe(&[&format!("SID: {sid}")]);
    assert!(renewed.starts_with("HTTP/1.1 200"), "{renewed}");
    assert!(subscribe(&["SID: uuid:nobody"]).starts_with("HTTP/1.1 412"));
    assert!(subscribe(&[&format!("SID: {sid}"), "CALLBACK: <http://127.0.0.1:9/x>"]).starts_with("HTTP/1.1 400"));
    let (_, ended) = curl(&ns, &["-X", "UNSUBSCRIBE", "-H", &format!("SID: {sid}"), &srv.url("/dlna/cds/events")]);
    assert!(ended.starts_with("HTTP/1.1 200"), "{ended}");

    // Goodbye on shutdown; the listener heard both.
    srv.stop();
    std::thread::sleep(Duration::from_millis(500));
    let _ = heard.kill();
    let mut said = String::new();
    std::io::Read::read_to_string(heard.stdout.as_mut().unwrap(), &mut said).unwrap();
    let _ = heard.wait();
    assert!(said.contains("ssdp:alive") && said.contains(&udn), "announcements: {said}");
    assert!(said.contains("ssdp:byebye"), "announcements: {said}");
}

#[test]
fn players_see_only_what_the_dlna_profile_may() {
    let Some(client) = upnp_client() else { return };
    let Some(ns) = Netns::new("sight") else { return };
    let fx = Fixture::new();
    let (kids, films) = (fx.path().join("Kids"), fx.path().join("Films"));
    clip(&kids, "cartoon.mp4", "1");
    clip(&films, "thriller.mp4", "2");
    // Subtitles inside it.
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&kids.join("sing-along.mkv"), aux.path(), &["srt"]);
    let data = tempfile::tempdir().unwrap();
    // Kids is a library; the DLNA profile is given only it.
    let library = crate::libraries::library(data.path(), fx.path(), &["add", "Kids", kids.to_str().unwrap()]);
    assert!(library.status.success(), "{}", String::from_utf8_lossy(&library.stderr));
    let set = crate::people::user(data.path(), &["libraries", "dlna", "Kids"], None);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let srv = Server::start(&ns, &[fx.path()], data.path());
    let all = browse(&ns, &client, &srv, "all", "BrowseDirectChildren", 0, 0);
    let (_, items) = objects(all["Result"].as_str().unwrap());
    let titles: Vec<&str> = items.iter().map(|i| i.1.as_str()).collect();
    assert_eq!(titles, ["cartoon", "sing-along"], "{all}");
    // Subtitles inside a file are named once the server has read them
    // (its page opened), never by reading files to answer a Browse.
    let sing = items[1].0.rsplit('/').next().unwrap().to_string();
    let inside = srv.url(&format!("/dlna/subtitles/{sing}/e0.srt"));
    assert!(!all["Result"].as_str().unwrap().contains(&inside), "{all}");
    let (_, opened) = curl(&ns, &["-o", "/dev/null", &srv.url(&format!("/watch/{sing}"))]);
    assert!(opened.starts_with("HTTP/1.1 200"), "{opened}");
    let again = browse(&ns, &client, &srv, "all", "BrowseDirectChildren", 0, 0);
    assert!(
        again["Result"].as_str().unwrap().contains(&format!("<sec:CaptionInfoEx sec:type=\"srt\">{inside}<")),
        "{again}"
    );
    let (srt, headers) = curl(&ns, &[&inside]);
    assert!(headers.starts_with("HTTP/1.1 200") && !srt.is_empty(), "{headers}");
    // Folders holding nothing it may see are not listed.
    let (roots, _) =
        objects(browse(&ns, &client, &srv, "folders", "BrowseDirectChildren", 0, 0)["Result"].as_str().unwrap());
    let names: Vec<&str> = roots.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names, ["Kids"]);
    // The film's bytes are not to be had by guessing its id either (the
    // web API, without accounts, names it).
    let (listed, _) = curl(&ns, &[&srv.url("/api/v1/videos?per_page=10")]);
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    let film_id = listed["videos"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["file_title"] == "thriller"))
        .and_then(|v| v["id"].as_str())
        .unwrap_or_else(|| panic!("the API lists the film: {listed}"))
        .to_string();
    for path in [format!("/dlna/media/{film_id}"), format!("/dlna/play/{film_id}"), format!("/dlna/art/{film_id}.jpg")]
    {
        let (_, headers) = curl(&ns, &["-o", "/dev/null", &srv.url(&path)]);
        assert!(headers.starts_with("HTTP/1.1 404"), "{path}: {headers}");
    }
    srv.stop();
}

/// gmediarender (a UPnP renderer from Debian, GStreamer playing to null
/// sinks in real time) inside the namespace; killed on drop.
struct Renderer {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Renderer {
    fn start(ns: &Netns, name: &str) -> Option<Renderer> {
        if Command::new("gmediarender").arg("--version").output().is_err() {
            skip("no gmediarender (apt-get install gmediarender gstreamer1.0-plugins-good gstreamer1.0-libav)");
            return None;
        }
        let log = tempfile::NamedTempFile::new().unwrap();
        let child = ns
            .command("gmediarender")
            .args(["-I", "vs0", "-f", name, "-u", "5d0c1e2a-7b3f-4c55-9e21-0a1b2c3d4e5f", "--port", "49494"])
            .args(["--gstout-videopipe", "fakesink sync=true", "--gstout-audiopipe", "fakesink sync=true"])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap();
        // Its UPnP library retries each second until the new link's
        // addresses are usable; the test starts once it listens.
        ns.wait_for_listener("-Htln", 49494);
        Some(Renderer { child, log })
    }

    /// What it said, for failure messages.
    fn said(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minute of a test picture and a tone in an MP4 with its index first,
/// as browsers and TVs play it.
fn minute_film(out: &Path) {
    let picture = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=frequency=440"];
    let coded = ["-t", "60", "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"];
    ffmpeg(out, &[&picture[..], &coded[..], &["-movflags", "+faststart"]].concat());
}

/// A JSON request to the server inside the namespace: (status, answer).
fn api(ns: &Netns, method: &str, url: &str, body: Option<&str>) -> (u16, Value) {
    let mut args = vec!["-sS", "--max-time", "20", "-X", method, "-w", "\n%{http_code}"];
    if let Some(b) = body {
        args.extend(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    args.push(url);
    let out = ns.command("curl").args(&args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (json, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), serde_json::from_str(json).unwrap_or(Value::Null))
}

/// Polls `url` until `done` holds of its answer (at most `secs`).
fn until(ns: &Netns, url: &str, secs: u64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, v) = api(ns, "GET", url, None);
        if status == 200 && done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: last answer {status} {v}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn plays_on_a_tv_from_the_watch_page() {
    let Some(ns) = Netns::new("cast") else { return };
    let ns = ns.with_ethernet();
    let Some(client) = upnp_client() else { return };
    let Some(renderer) = Renderer::start(&ns, "Living room TV") else { return };
    let fx = Fixture::new();
    fx.write("film.srt", b"1\n00:00:01,000 --> 00:00:05,000\nHello from the sofa\n\n");
    // A minute, stored as browsers (and the TV) play it: index first.
    let film = fx.path().join("film.mp4");
    minute_film(&film);
    // The same minute as Matroska: the TV gets the remuxed MP4.
    let mkv = fx.path().join("film.mkv");
    ffmpeg(&mkv, &["-i", film.to_str().unwrap(), "-c", "copy"]);
    let data = tempfile::tempdir().unwrap();
    let srv = Server::on(&ns, &[fx.path()], data.path(), "vs0");
    let base = format!("http://10.77.0.1:{}", srv.port);
    let (_, listed) = api(&ns, "GET", &format!("{base}/api/v1/videos"), None);
    let id_of = |name: &str| {
        listed["videos"].as_array().unwrap().iter().find(|v| v["paths"][0] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (video, remuxed) = (id_of("film.mp4"), id_of("film.mkv"));

    // Found on the network (asking searches again).
    let found = until(&ns, &format!("{base}/api/v1/renderers"), 30, "the TV is found", |v| {
        v["renderers"].as_array().is_some_and(|r| r.iter().any(|r| r["name"] == "Living room TV"))
    });
    let id = found["renderers"][0]["id"].as_str().unwrap().to_string();
    let tv = format!("{base}/api/v1/renderers/{id}");

    // Played from 20 s: the TV fetches the signed link and goes there.
    let body = format!(r#"{{"video":"{video}","position_ms":20000}}"#);
    let (status, sent) = api(&ns, "POST", &format!("{tv}/play"), Some(&body));
    assert_eq!(status, 200, "{sent}\nthe renderer said: {}", renderer.said());
    assert_eq!(sent["casting"]["video"], video.as_str());
    until(&ns, &tv, 30, "it plays from the resume position", |v| {
        v["casting"]["state"] == "PLAYING" && v["casting"]["position_ms"].as_u64().is_some_and(|p| p >= 20_000)
    });

    // The description the TV was given names the subtitle beside the film,
    // by a signed link it fetches without a cookie (read back from the TV).
    let out = ns
        .command(&client)
        .args(["--timeout", "3", "search", "--bind", "10.77.0.1", "--search_target"])
        .arg("urn:schemas-upnp-org:device:MediaRenderer:1")
        .output()
        .unwrap();
    let location = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|f| f["location"].as_str().map(String::from))
        .expect("the TV answers a search");
    let out = ns
        .command(&client)
        .args(["--timeout", "10", "call-action", &location, "AVT/GetMediaInfo", "InstanceID=0"])
        .output()
        .unwrap();
    let media: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let meta = media["out_parameters"]["CurrentURIMetaData"].as_str().unwrap_or_default().to_string();
    let caption = meta
        .split("<sec:CaptionInfoEx sec:type=\"srt\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(|c| c.replace("&amp;", "&"))
        .unwrap_or_else(|| panic!("a caption in the TV's description: {media}"));
    assert!(caption.starts_with(&format!("{base}/subtitles/{video}/0.srt?")), "{caption}");
    assert!(meta.contains("protocolInfo=\"http-get:*:text/srt:*\""), "{meta}");
    let (srt, headers) = curl(&ns, &[&caption]);
    assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
    assert!(String::from_utf8_lossy(&srt).contains("Hello from the sofa"));
    // The link opens that video's subtitles only, and not once changed.
    let (_, headers) = curl(&ns, &["-o", "/dev/null", &format!("{caption}0")]);
    assert!(headers.starts_with("HTTP/1.1 403"), "{headers}");
    let other = caption.replace(&format!("/subtitles/{video}/"), &format!("/subtitles/{remuxed}/"));
    let (_, headers) = curl(&ns, &["-o", "/dev/null", &other]);
    assert!(headers.starts_with("HTTP/1.1 403"), "{headers}");

    // Paused, moved on while paused, played on, and stopped.
    let (status, _) = api(&ns, "POST", &format!("{tv}/pause"), None);
    assert_eq!(status, 200);
    until(&ns, &tv, 10, "it pauses", |v| v["casting"]["state"] == "PAUSED_PLAYBACK");
    let (status, moved) = api(&ns, "POST", &format!("{tv}/seek"), Some(r#"{"position_ms":40000}"#));
    assert_eq!(status, 200, "{moved}");
    let (status, _) = api(&ns, "POST", &format!("{tv}/resume"), None);
    assert_eq!(status, 200);
    until(&ns, &tv, 15, "it plays on from 40 s", |v| {
        v["casting"]["state"] == "PLAYING" && v["casting"]["position_ms"].as_u64().is_some_and(|p| p >= 40_000)
    });
    let (status, stopped) = api(&ns, "POST", &format!("{tv}/stop"), None);
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["casting"]["state"], "STOPPED");
    let at = stopped["casting"]["position_ms"].as_u64().unwrap();
    assert!((40_000..50_000).contains(&at), "{stopped}");

    // The position is in the history, where the watch page resumes.
    let (_, mine) = api(&ns, "GET", &format!("{base}/api/v1/videos/{video}"), None);
    let kept = mine["position_ms"].as_u64().unwrap_or(0);
    assert!((40_000..50_000).contains(&kept), "{mine}");

    // The remuxed MP4 (fragmented: GStreamer's renderer cannot seek it)
    // is sent from the time to start at, and again from a time sought.
    let body = format!(r#"{{"video":"{remuxed}","position_ms":20000}}"#);
    let (status, sent) = api(&ns, "POST", &format!("{tv}/play"), Some(&body));
    assert_eq!(status, 200, "{sent}\nthe renderer said: {}", renderer.said());
    until(&ns, &tv, 30, "it plays from 20 s", |v| {
        v["casting"]["state"] == "PLAYING"
            && v["casting"]["position_ms"].as_u64().is_some_and(|p| (19_000..35_000).contains(&p))
    });
    let (status, moved) = api(&ns, "POST", &format!("{tv}/seek"), Some(r#"{"position_ms":40000}"#));
    assert_eq!(status, 200, "{moved}\nthe renderer said: {}", renderer.said());
    until(&ns, &tv, 30, "it plays on from 40 s", |v| {
        v["casting"]["state"] == "PLAYING"
            && v["casting"]["position_ms"].as_u64().is_some_and(|p| (39_500..55_000).contains(&p))
    });
    let (status, stopped) = api(&ns, "POST", &format!("{tv}/stop"), None);
    assert_eq!(status, 200, "{stopped}");
    let (_, mine) = api(&ns, "GET", &format!("{base}/api/v1/videos/{remuxed}"), None);
    assert!(mine["position_ms"].as_u64().is_some_and(|p| (39_500..60_000).contains(&p)), "{mine}");

    // Nothing plays now: control answers 409; an unknown TV 404; junk 400.
    let (status, _) = api(&ns, "POST", &format!("{tv}/pause"), None);
    assert_eq!(status, 409);
    let (status, _) = api(&ns, "POST", &format!("{base}/api/v1/renderers/0000000000000000/play"), Some(&body));
    assert_eq!(status, 404);
    for junk in [r#"{"video":"nope"}"#, "not json", r#"{"position_ms":5}"#] {
        let (status, v) = api(&ns, "POST", &format!("{tv}/play"), Some(junk));
        assert_eq!(status, 400, "{junk}: {v}");
    }
    let (status, _) = api(&ns, "POST", &format!("{tv}/play"), Some(r#"{"video":"0000000000000001"}"#));
    assert_eq!(status, 404, "a video that is not there");
    srv.stop();
}

/// The watch page's TV controls in Chromium (outside the namespace, its
/// requests carried in): the TV offered, sent the video from where the
/// player is, paused, moved, played on and stopped, the player here taking
/// over where the TV was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_page_controls_the_tv_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let Some(ns) = Netns::new("castui") else { return };
    let ns = ns.with_ethernet();
    let Some(renderer) = Renderer::start(&ns, "Kitchen TV") else { return };
    let fx = Fixture::new();
    let film = fx.path().join("film.mp4");
    minute_film(&film);
    let data = tempfile::tempdir().unwrap();
    let srv = Server::on(&ns, &[fx.path()], data.path(), "vs0");
    let base = format!("http://10.77.0.1:{}", srv.port);
    let (_, listed) = api(&ns, "GET", &format!("{base}/api/v1/videos"), None);
    let video = listed["videos"][0]["id"].as_str().unwrap().to_string();
    until(&ns, &format!("{base}/api/v1/renderers"), 30, "the TV is found", |v| {
        v["renderers"].as_array().is_some_and(|r| r.iter().any(|r| r["name"] == "Kitchen TV"))
    });
    let here = ns.forward(srv.port);
    let driver = crate::driver::Driver::start().await;
    driver.goto(&format!("http://127.0.0.1:{here}/watch/{video}")).await;
    crate::support::eventually(Duration::from_secs(20), "the TV offered beside the player", || async {
        driver.js("const b = document.getElementById('tv'); return !b.hidden && document.getElementById('tv-choice').textContent").await
            == "Kitchen TV"
    })
    .await;
    // From where the player is (20 s in).
    driver.js("const p = document.getElementById('player'); p.pause(); p.currentTime = 20; return 0").await;
    driver.click("#tv-send").await;
    status_is(&driver, "it plays on the TV", "Playing on Kitchen TV").await;
    crate::support::eventually(Duration::from_secs(30), "the TV plays from the player's position", || async {
        driver.js("return Number(document.getElementById('tv-seek').value)").await.as_f64().unwrap_or(0.0) >= 19.0
    })
    .await;
    assert!(!renderer.said().is_empty());
    assert_eq!(driver.js("return document.getElementById('player').paused").await, true, "the page's player waits");
    driver.click("#tv-pause").await;
    status_is(&driver, "it pauses", "Paused on Kitchen TV").await;
    assert_eq!(driver.js("return document.getElementById('tv-pause').textContent").await, "Play");
    // The slider moves the TV.
    driver
        .js("const s = document.getElementById('tv-seek'); s.value = '40'; s.dispatchEvent(new Event('change')); return 0")
        .await;
    crate::support::eventually(Duration::from_secs(30), "the TV moved to 40 s", || async {
        driver.js("return Number(document.getElementById('tv-seek').value)").await.as_f64().unwrap_or(0.0) >= 40.0
    })
    .await;
    driver.click("#tv-pause").await;
    status_is(&driver, "it plays on", "Playing on Kitchen TV").await;
    driver.click("#tv-stop").await;
    status_is(&driver, "it stops", "Stopped on Kitchen TV.").await;
    // The player here takes over where the TV was.
    let mine = driver.js("return document.getElementById('player').currentTime").await.as_f64().unwrap_or(0.0);
    assert!((40.0..55.0).contains(&mine), "the page's player at {mine} s");
    driver.call("DELETE", "", serde_json::json!({})).await;
    srv.stop();
}

/// Waits (30 s at most) for the TV controls' status to say `said`.
async fn status_is(driver: &crate::driver::Driver, what: &str, said: &str) {
    crate::support::eventually(Duration::from_secs(30), what, || async {
        driver.js("return document.getElementById('tv-status').textContent").await == said
    })
    .await;
}
