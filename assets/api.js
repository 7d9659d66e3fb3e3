// One way to talk to the server: `api()` sends JSON, returns the JSON answer,
// and tells the person when a change failed (never silently).

let toastTimer = null;

/** Shows a short message in a live region screen readers announce. */
export function notify(message) {
  let box = document.getElementById("toast");
  if (!box) {
    box = document.createElement("div");
    box.id = "toast";
    box.className = "toast";
    box.setAttribute("role", "alert");
    document.body.appendChild(box);
  }
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

/**
 * Sends `method url` with an optional JSON body (or a Blob as is). Resolves
 * to the parsed answer, or to null after telling the person what failed.
 * `quiet` skips the message (best-effort requests such as positions).
 */
export async function api(method, url, body, { quiet = false, keepalive = false } = {}) {
  const opts = { method, headers: { Accept: "application/json" }, keepalive };
  if (body instanceof Blob) {
    opts.headers["Content-Type"] = body.type;
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, opts);
  } catch (e) {
    if (!quiet) notify("The server could not be reached; the change was not saved.");
    return null;
  }
  let answer = null;
  try { answer = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    const why = (answer && answer.error && answer.error.message) || res.statusText || "error " + res.status;
    if (!quiet) notify("Not saved: " + why);
    return null;
  }
  return answer;
}

/** The ` · 4★` and ` · 12 views` texts of a card, as the server renders them. */
export function userSummary(d) {
  return {
    rated: d.rating ? d.rating + "★" : "",
    viewed: d.views ? d.views + (d.views === 1 ? " view" : " views") : "",
  };
}
