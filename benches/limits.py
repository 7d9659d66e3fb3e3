#!/usr/bin/env python3
"""What one request can cost: runs each amplification class against a
vidserve binary on loopback and prints the server's peak memory growth
(VmHWM) and the time, so that two builds can be compared in one run:

    python3 benches/limits.py target/dist/vidserve [OTHER_BINARY]

Makes its own fixture (ffmpeg) in a temporary folder; every request goes
to 127.0.0.1 only; each class is bounded in count and time."""

import json, os, socket, subprocess, sys, tempfile, threading, time, zlib, struct

def rss_peak_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

def exchange(port, data, read=True, timeout=60):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    s.sendall(data)
    if not read:
        return s
    out = b""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            if len(out) < 1 << 16:  # keep the start only
                out += chunk
    except OSError:
        pass
    s.close()
    return out

def count_body(port, data, timeout=120):
    """Sends a request and counts the bytes of the answer (not kept)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    s.sendall(data)
    n, head = 0, b""
    try:
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            if len(head) < 200:
                head += chunk[:200]
            n += len(chunk)
    except OSError:
        pass
    s.close()
    return head, n

def png(side):
    raw = b"".join(b"\0" + b"\x07" * side for _ in range(side))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

def post(port, path, body, ctype="application/json"):
    head = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return exchange(port, head + body)

def get_json(port, path):
    out = exchange(port, f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    return json.loads(out.split(b"\r\n\r\n", 1)[1] or b"null")

def run(binary, videos, data):
    port = 18400 + os.getpid() % 500
    proc = subprocess.Popen([binary, "--dir", videos, "--data", data, "--bind", f"127.0.0.1:{port}",
                             "--log", "error", "--ffmpeg", "/no/such/ffmpeg"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if b" 200 " in exchange(port, b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")[:20]:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        ids = [v["id"] for v in get_json(port, "/api/v1/videos?sort=size&order=asc")["videos"]]
        big = get_json(port, "/api/v1/videos?sort=size&order=desc")["videos"][0]
        results = []

        def measure(name, fn):
            before, t0 = rss_peak_mib(proc.pid), time.time()
            detail = fn()
            results.append((name, rss_peak_mib(proc.pid) - before, time.time() - t0, detail))

        def batch():
            body = json.dumps({"ids": [ids[0]] * 1500, "add_tags": [f"t{i}" for i in range(40)]}).encode()
            out = post(port, "/api/v1/batch", body)
            return out.split(b"\r\n", 1)[0].decode() + " " + out.split(b"\r\n\r\n", 1)[-1][:60].decode(errors="replace")
        measure("batch: 1 id x1500, 40 tags", batch)

        def ranges():
            hdr = ",".join(["0-"] * 32)
            head, n = count_body(port, f"GET /video/{big['id']} HTTP/1.1\r\nHost: localhost\r\nRange: bytes={hdr}\r\nConnection: close\r\n\r\n".encode())
            return f"{n / 1e6:.1f} MB sent for a file of {big['size'] / 1e6:.1f} MB"
        measure("ranges: 32 x bytes=0-", ranges)

        def bombs():
            image = png(6000)
            outs = []
            def one(i):
                outs.append(post(port, f"/api/v1/videos/{ids[i % len(ids)]}/thumbnail", image, "image/png").split(b"\r\n", 1)[0])
            threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            return f"{len(image)} byte PNG of 6000x6000, answers {sorted(set(o.decode() for o in outs))}"
        measure("uploads: 8 image bombs at once", bombs)

        def unread():
            socks = [exchange(port, f"GET /video/{big['id']} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), read=False) for _ in range(20)]
            time.sleep(3)
            metrics = exchange(port, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").decode(errors="replace")
            active = [l for l in metrics.splitlines() if l.startswith("vidserve_active_streams ")]
            [s.close() for s in socks]
            return f"after 3 s: {active[0] if active else '?'} (closed after --write-timeout, 60 s by default)"
        measure("responses nobody reads: 20", unread)

        def streams():
            socks, answers = [], {}
            for _ in range(300):
                s = exchange(port, b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n", read=False)
                s.settimeout(5)
                try:
                    status = s.recv(64).split(b" ")[1].decode()
                except (OSError, IndexError):
                    status = "none"
                answers[status] = answers.get(status, 0) + 1
                socks.append(s)
            [s.close() for s in socks]
            return f"answers {answers}"
        measure("event streams: 300 from one client", streams)

        def slow_body():
            s = exchange(port, f"PUT /api/v1/videos/{ids[0]}/rating HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{".encode(), read=False)
            s.settimeout(25)
            try:
                got = s.recv(64).split(b"\r\n", 1)[0].decode()
            except OSError:
                got = "nothing within 25 s (still held)"
            s.close()
            return got
        measure("a body that never finishes", slow_body)
        return results
    finally:
        proc.terminate()
        proc.wait()

def main():
    binaries = sys.argv[1:] or ["target/dist/vidserve"]
    with tempfile.TemporaryDirectory() as tmp:
        videos = os.path.join(tmp, "videos")
        os.mkdir(videos)
        # About 30 MB: noise does not compress.
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        "testsrc=duration=20:size=640x360:rate=25,noise=alls=60:allf=t+u",
                        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "12M", os.path.join(videos, "big.mp4")],
                       check=True)
        for i in range(8):
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=duration=1:size=64x48:rate={5 + i}",
                            "-c:v", "libx264", os.path.join(videos, f"small{i}.mp4")], check=True)
        for binary in binaries:
            data = tempfile.mkdtemp(dir=tmp)
            print(f"\n{binary}")
            print(f"{'class':40} {'peak +MiB':>10} {'seconds':>8}  detail")
            for name, mib, secs, detail in run(binary, videos, data):
                print(f"{name:40} {mib:10.1f} {secs:8.2f}  {detail}")

if __name__ == "__main__":
    main()
