import sys, subprocess, tempfile, time, os, json, threading, http.client, shutil
from concurrent.futures import ThreadPoolExecutor
BIN, PORT = sys.argv[1], int(sys.argv[2])
d = tempfile.mkdtemp(); os.mkdir(d + "/v"); shutil.copy("/tmp/crafted/good.mp4", d + "/v/a.mp4")
subprocess.run([BIN, "user", "add", "ann", "--role", "admin", "--password-stdin", "--data", d + "/data"], input=b"long enough\n", check=True, capture_output=True)
tok = subprocess.run([BIN, "user", "token", "ann", "--data", d + "/data"], capture_output=True, check=True).stdout.decode().split()[-1]
p = subprocess.Popen([BIN, "--dir", d + "/v", "--data", d + "/data", "--bind", f"127.0.0.1:{PORT}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def req(method, path, body=None, headers={}):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
    try:
        c.request(method, path, body=body, headers=headers); r = c.getresponse(); r.read(); return r.status
    except Exception as e:
        return "err"
    finally:
        c.close()
for _ in range(100):
    if req("GET", "/readyz") == 200: break
    time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", PORT); c.request("GET", "/api/v1/videos", headers={"Authorization": "Bearer " + tok}); vid = json.loads(c.getresponse().read())["videos"][0]["id"]
H = {"Content-Type": "application/x-www-form-urlencoded"}
results = []
unrelated = []
def probe():
    time.sleep(0.3)
    s = time.time(); st = req("GET", f"/api/v1/videos/{vid}", headers={"Authorization": "Bearer " + tok}); unrelated.append((st, round((time.time() - s) * 1000)))
t = threading.Thread(target=probe); t.start()
start = time.time()
with ThreadPoolExecutor(600) as ex:
    results = list(ex.map(lambda i: req("POST", "/login", f"username=ann&password=guess{i:04d}", H), range(600)))
t.join()
from collections import Counter
print(BIN, dict(Counter(results)), f"burst {time.time()-start:.1f} s", "unrelated request during burst:", unrelated)
p.terminate(); p.wait(); shutil.rmtree(d)
