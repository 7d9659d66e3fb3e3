import sys, subprocess, tempfile, time, os, socket, shutil, http.client
BIN, PORT = sys.argv[1], int(sys.argv[2])
d = tempfile.mkdtemp(); os.mkdir(d + "/v"); shutil.copy("/tmp/crafted/good.mp4", d + "/v/a.mp4")
p = subprocess.Popen([BIN, "--dir", d + "/v", "--data", d + "/data", "--bind", f"127.0.0.1:{PORT}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def health(src):
    s = time.time()
    try:
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5, source_address=(src, 0)); c.request("GET", "/healthz"); st = c.getresponse().status
    except Exception as e:
        st = type(e).__name__
    return st, round((time.time() - s) * 1000)
for _ in range(100):
    if health("127.0.0.1")[0] == 200: break
    time.sleep(0.1)
held = []
for i in range(1100):
    s = socket.socket(); s.connect(("127.0.0.1", PORT)); held.append(s)
time.sleep(1)
open_ = 0
for s in held:
    s.setblocking(False)
    try:
        b = s.recv(1)
        if b == b"": continue
        open_ += 1
    except BlockingIOError:
        open_ += 1
    except ConnectionResetError:
        pass
print(BIN, f"idle connections one address holds: {open_} of 1100;", "healthz from 127.0.0.2:", health("127.0.0.2"), "from 127.0.0.1:", health("127.0.0.1"))
for s in held: s.close()
p.terminate(); p.wait(); shutil.rmtree(d)
