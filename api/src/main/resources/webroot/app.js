// The intent web page: every app with desired vs live per host, refreshed from /v1/events (Server-Sent Events read
// with fetch so the bearer token travels in a header, never in a URL), with polling as a fallback.
// No framework and no build step; every value from the API goes through textContent, never innerHTML.
"use strict";

// drafts: what the user picked or typed but has not applied yet; live refreshes must not clobber it
const state = { token: localStorage.getItem("intent.token") || "", refreshTimer: null, stream: null, busy: false,
  drafts: {} };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function banner(text, info) {
  const b = document.getElementById("banner");
  if (!text) { b.hidden = true; b.textContent = ""; return; }
  b.hidden = false;
  b.className = info ? "info" : "";
  b.textContent = text;
}

async function api(method, path, body, headers) {
  const h = Object.assign({ "Accept": "application/json" }, headers || {});
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    const e = json && json.error;
    const details = e && e.details && e.details.length
      ? "\n" + e.details.map(d => (d.field ? d.field + ": " : "") + d.reason).join("\n") : "";
    const err = new Error((e ? e.message : "HTTP " + r.status) + details);
    err.status = r.status;
    throw err;
  }
  return { json, etag: r.headers.get("ETag") };
}

function stateBadge(s, attrs) {
  return el("span", Object.assign({ class: "state " + s }, attrs || {}), s);
}

function progressOf(h) {
  if (!h.progress) return null;
  if (h.progress.percent !== undefined) return el("progress", { max: 100, value: h.progress.percent });
  return null;
}

// GET /v1/status is paged (apps, then hosts, all pages at the first page's revision): read every page
async function allStatus() {
  const first = await api("GET", "/v1/status");
  let page = first.json;
  while (page.continue) {
    page = (await api("GET", "/v1/status?continue=" + encodeURIComponent(page.continue))).json;
    first.json.apps.push(...page.apps);
    first.json.hosts.push(...page.hosts);
  }
  delete first.json.continue;
  return first;
}

async function refresh() {
  if (!state.token) { banner("Enter an API token (viewer to watch, operator to act).", true); return; }
  try {
    const [st, apps, lead] = await Promise.all([allStatus(), api("GET", "/v1/apps"),
      api("GET", "/v1/leader")]);
    renderApps(st.json, apps.json);
    renderHosts(st.json);
    renderLeader(lead.json);
    document.getElementById("revision").textContent = "revision " + st.json.revision;
    if (!state.busy) banner(st.json.disruption ? "Disruption mode: " + st.json.disruption.replace(/^disruption mode: /, "")
      : null);
  } catch (e) {
    banner(e.status === 401 ? "The token was refused: " + e.message : "Cannot read status: " + e.message);
  }
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, 150);
}

/** Which release channel an app follows, or when and why it stopped following (an operator must act). */
function channelNote(app, ch) {
  if (!ch) return "";
  if (ch.stopped) {
    return el("div", { class: "channel stopped", "data-channel": app },
      "stopped following " + ch.follow + (ch.stoppedAt ? " at " + ch.stoppedAt : "") + ": " + ch.stopped);
  }
  return el("div", { class: "channel muted", "data-channel": app },
    "follows " + ch.follow + (ch.version ? " (moved to " + ch.version + " by channel revision " + ch.revision + ")" : ""));
}

function renderApps(status, apps) {
  const versions = {};
  const channels = {};
  for (const a of apps.apps) {
    versions[a.name] = a.intent ? Object.keys(a.intent.versions).sort() : [];
    if (a.intent && a.intent.channel) channels[a.name] = a.intent.channel;
  }
  const tbody = document.querySelector("#apps tbody");
  const rows = [];
  for (const a of status.apps) {
    const picked = state.drafts["version:" + a.app] ?? a.active;
    const select = el("select", { "data-version-for": a.app, "aria-label": "version of " + a.app,
        onchange: ev => { state.drafts["version:" + a.app] = ev.target.value; } },
      (versions[a.app] || []).map(v => el("option", { value: v, selected: v === picked }, v)));
    const scale = el("input", { type: "number", min: 0, value: state.drafts["scale:" + a.app] ?? a.wanted,
      "data-scale-for": a.app, "aria-label": "scale of " + a.app,
      oninput: ev => { state.drafts["scale:" + a.app] = ev.target.value; } });
    rows.push(el("tr", { class: "app", "data-app": a.app },
      el("td", {}, a.app),
      el("td", {}, stateBadge(a.state, { "data-state-app": a.app })),
      el("td", { "data-ready": a.app }, a.ready + "/" + a.wanted),
      el("td", { "data-active": a.app }, a.active || "-"),
      el("td", {}, channelNote(a.app, channels[a.app])),
      el("td", { class: "muted" }, a.message || (a.converged ? "converged" : "")),
      el("td", {},
        select, " ", el("button", { "data-deploy": a.app, onclick: () => deploy(a.app, select.value) }, "Set active"),
        " ", scale, " ", el("button", { "data-scale": a.app, onclick: () => scaleApp(a.app, scale.value) }, "Scale"),
        " ", el("button", { "data-restart": a.app, onclick: () => restartApp(a.app) }, "Restart"))));
    for (const h of a.hosts) {
      rows.push(el("tr", { class: "host", "data-host-row": a.app + "/" + h.host },
        el("td", {}, h.host, h.placed ? "" : el("span", { class: "muted" }, " (leaving)")),
        el("td", {}, stateBadge(h.state, { "data-state-host": a.app + "/" + h.host })),
        el("td", {}, ""),
        el("td", { class: "muted" }, a.active || "-"),
        el("td", { "data-running": a.app + "/" + h.host }, h.version || "-"),
        el("td", { class: "muted" }, progressOf(h), " ", h.message || (h.live ? "" : "host not live"),
          el("div", { class: "muted", "data-instance": a.app + "/" + h.host }, instanceOf(h))),
        el("td", {}, el("button", { "data-logs": a.app + "/" + h.host, onclick: () => showLogs(a.app, h.host) },
          "Logs"))));
    }
  }
  tbody.replaceChildren(...rows);
  document.getElementById("no-apps").hidden = status.apps.length > 0;
}

// the last lines of one instance, on demand (GET /v1/apps/{app}/logs?host=&tail=): a snapshot, not a follow
async function showLogs(app, host) {
  const panel = document.getElementById("logs-panel");
  const text = document.getElementById("logs-text");
  document.getElementById("logs-title").textContent = app + " on " + host + " (last 100 lines)";
  panel.hidden = false;
  text.textContent = "loading...";
  const h = { "Accept": "text/plain" };
  if (state.token) h["Authorization"] = "Bearer " + state.token;
  try {
    const r = await fetch("/v1/apps/" + encodeURIComponent(app) + "/logs?tail=100&host=" + encodeURIComponent(host),
      { headers: h });
    const body = await r.text();
    if (!r.ok) {
      let msg = "HTTP " + r.status;
      try { msg = JSON.parse(body).error.message; } catch (e) { /* not JSON */ }
      text.textContent = "cannot read the logs: " + msg;
      return;
    }
    text.textContent = body || "(no output yet)";
    text.scrollTop = text.scrollHeight;
  } catch (e) {
    text.textContent = "cannot read the logs: " + e.message;
  }
}
document.getElementById("logs-close").addEventListener("click", () => {
  document.getElementById("logs-panel").hidden = true;
});

function renderHosts(status) {
  const tbody = document.querySelector("#hosts tbody");
  tbody.replaceChildren(...status.hosts.map(h => el("tr", { "data-host": h.host },
    el("td", {}, h.host, h.address ? el("span", { class: "muted" }, " " + h.address) : ""),
    el("td", {}, stateBadge(h.state)),
    el("td", {}, h.live ? "yes" : "no"),
    el("td", { "data-drain-state": h.host }, h.drain ? "draining" : "no"),
    el("td", { class: "muted" }, h.apps.map(x => x.app + " " + x.state).join(", ")),
    el("td", {}, h.registered
      ? el("button", { "data-drain": h.host, onclick: () => drain(h.host, !h.drain) }, h.drain ? "Undrain" : "Drain")
      : el("span", { class: "muted" }, "not registered")))));
}

function renderLeader(l) {
  const p = document.getElementById("leader");
  p.textContent = l.leader
    ? l.leader.id + " leads since revision " + l.leader.createRevision + " (seen by this API since "
      + new Date(l.leader.observedSince).toLocaleString() + ")"
    : "no leader";
}

// Read-modify-write with If-Match: a change made meanwhile by someone else is reported, never overwritten.
async function edit(path, field, change, what, draft) {
  state.busy = true;
  try {
    const cur = await api("GET", path);
    const value = JSON.parse(JSON.stringify(cur.json[field]));
    change(value);
    await api("PUT", path, value, { "If-Match": cur.etag, "Idempotency-Key": requestKey() });
    if (draft) delete state.drafts[draft];
    banner(what, true);
    scheduleRefresh();
  } catch (e) {
    banner(e.status === 412 ? what + " failed: it was changed meanwhile; try again" : what + " failed: " + e.message);
  } finally {
    state.busy = false;
  }
}

// crypto.randomUUID exists only in secure contexts (https, localhost); the key only has to be unique.
function requestKey() {
  return crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2);
}

function deploy(app, version) {
  return edit("/v1/apps/" + encodeURIComponent(app), "intent", i => { i.active = version; },
    "app " + app + ": active version set to " + version, "version:" + app);
}

function scaleApp(app, n) {
  return edit("/v1/apps/" + encodeURIComponent(app), "intent", i => { i.scale = parseInt(n, 10); },
    "app " + app + ": scale set to " + n, "scale:" + app);
}

// An instance's state as setlive reports it: pid or container, start, restarts, last exit, health.
function instanceOf(h) {
  const s = (h.agents || []).find(x => x.agent === "setlive");
  const d = s && s.details ? s.details : {};
  const parts = [];
  if (d.pid) parts.push("pid " + d.pid);
  if (d.containerId) parts.push("container " + d.containerId);
  if (d.startedAt) parts.push("up since " + d.startedAt);
  if (d.restarts !== undefined) parts.push("restarts " + d.restarts);
  if (d.lastExitCode !== undefined) parts.push("last exit " + d.lastExitCode + (d.lastSignal ? " (signal " + d.lastSignal + ")" : ""));
  if (d.oomKilled) parts.push("OOM-killed");
  if (d.health) parts.push("health " + d.health);
  if (d.sick) parts.push("sick: " + d.recentFailures + " failures in " + d.failureWindowSeconds + " s");
  return parts.join(", ");
}

async function restartApp(app) {
  state.busy = true;
  try {
    await api("POST", "/v1/apps/" + encodeURIComponent(app) + "/restart", {}, { "Idempotency-Key": requestKey() });
    banner("app " + app + ": restart requested", true);
    scheduleRefresh();
  } catch (e) {
    banner("app " + app + ": restart failed: " + e.message);
  } finally {
    state.busy = false;
  }
}

function drain(host, on) {
  return edit("/v1/hosts/" + encodeURIComponent(host), "spec", s => { s.drain = on; },
    "host " + host + (on ? ": draining" : ": no longer draining"));
}

// Server-Sent Events over fetch: EventSource cannot send an Authorization header.
async function follow() {
  if (state.stream) state.stream.abort();
  if (!state.token) return;
  const ctl = new AbortController();
  state.stream = ctl;
  const pill = document.getElementById("live");
  try {
    const r = await fetch("/v1/events", { headers: { "Authorization": "Bearer " + state.token }, signal: ctl.signal });
    if (!r.ok) throw new Error("HTTP " + r.status);
    pill.textContent = "live"; pill.className = "pill on";
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (frame.split("\n").some(l => l.startsWith("data:"))) scheduleRefresh();
      }
    }
  } catch (e) {
    if (ctl.signal.aborted) return;
  }
  pill.textContent = "polling"; pill.className = "pill poll";
  setTimeout(follow, 3000);
}

document.getElementById("auth").addEventListener("submit", ev => {
  ev.preventDefault();
  state.token = document.getElementById("token").value.trim();
  localStorage.setItem("intent.token", state.token);
  document.getElementById("token").value = "";
  document.getElementById("who").textContent = state.token ? "token set" : "";
  refresh();
  follow();
});

setInterval(refresh, 5000);
if (state.token) document.getElementById("who").textContent = "token set";
refresh();
follow();
