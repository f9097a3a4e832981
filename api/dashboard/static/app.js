// outage-radar dashboard: reads the public /v1 API and redraws what changed, every few seconds.
// Views: "#/" (services and incidents) and "#/services/<slug>" (one service). No framework and
// no build step: DOM built with createElement, charts drawn as SVG.
import { sparkline, reportsChart } from "./charts.js";

const REFRESH_SECONDS = Number(document.querySelector('meta[name="refresh-seconds"]').content) || 10;
const KEY_STORE = "outage-radar-api-key";
const STATE_ORDER = { problems: 0, "possible problems": 1, ok: 2 };
const main = document.getElementById("main");
const statusLine = document.getElementById("status");

// --- formatting: every time in the viewer's own zone ------------------------------------------

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const whenFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  timeZoneName: "short",
});
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const countryNames = typeof Intl.DisplayNames === "function"
  ? new Intl.DisplayNames(undefined, { type: "region" }) : null;
const numberFormat = new Intl.NumberFormat();
const percentFormat = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });

document.getElementById("zone").textContent = zone;

/** A <time> element showing `iso` in the viewer's zone. */
function timeEl(iso, format = whenFormat) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.textContent = format.format(new Date(iso));
  el.title = new Date(iso).toISOString().replace(".000Z", "Z");
  return el;
}

function duration(fromIso, toIso) {
  const minutes = Math.max(0, Math.round((new Date(toIso) - new Date(fromIso)) / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

function countryName(code) {
  try {
    return (countryNames && countryNames.of(code)) || code;
  } catch {
    return code;
  }
}

function flag(code) {
  return /^[A-Z]{2}$/.test(code)
    ? String.fromCodePoint(...[...code].map((c) => 0x1f1a5 + c.charCodeAt(0))) : "";
}

function share(value) {
  return value > 0 && value < 0.01 ? "<1%" : percentFormat.format(value);
}

function humanize(name) {
  const text = name.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// --- DOM helpers --------------------------------------------------------------------------------

/** el("td", {className: "num"}, "12", child...) */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name in node && !name.startsWith("aria") && name !== "role") node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function stateBadge(state) {
  const kind = state === "possible problems" ? "possible" : state;
  return el("span", { className: `state ${kind}` }, state === "ok" ? "no problems" : state);
}

function severityBadge(incident) {
  return el("span", { className: `state ${incident.severity}` }, incident.severity);
}

function serviceLink(slug, name) {
  return el("a", { href: `#/services/${encodeURIComponent(slug)}` }, name || slug);
}

function incidentLink(id, text) {
  return el("a", { href: `#/incidents/${encodeURIComponent(id)}` }, text);
}

function table(caption, headers, rows, emptyText) {
  if (!rows.length) return el("p", { className: "empty" }, emptyText);
  const head = el("tr", {}, headers.map(([label, cls]) => el("th", { scope: "col", className: cls }, label)));
  return el("div", { className: "scroll" },
    el("table", {}, el("caption", { className: "skip" }, caption), el("thead", {}, head), el("tbody", {}, rows)));
}

/** Replace the children of region `id` under `parent` unless what it shows is unchanged. */
function region(parent, id, signature, build) {
  let node = parent.querySelector(`[data-region="${id}"]`);
  if (node && node.dataset.signature === signature) return node;
  const fresh = build();
  fresh.dataset.region = id;
  fresh.dataset.signature = signature;
  if (node) node.replaceWith(fresh);
  else parent.append(fresh);
  return fresh;
}

// --- the API ------------------------------------------------------------------------------------

class NeedsKey extends Error {}

async function api(path) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = `Bearer ${key}`;
  // "no-cache": ask every time, but let the browser revalidate with the ETag it holds (304).
  const answer = await fetch(path, { headers, cache: "no-cache" });
  if (answer.status === 401) throw new NeedsKey();
  if (answer.status === 404) return null;
  if (!answer.ok) {
    let detail = answer.statusText;
    try { detail = (await answer.json()).detail || detail; } catch { /* not a problem body */ }
    throw new Error(`${path}: ${answer.status} ${detail}`);
  }
  return answer.json();
}

// --- views --------------------------------------------------------------------------------------

async function overview(view) {
  const [services, incidents, sources] = await Promise.all([
    api("/v1/services?sparkline_hours=24"),
    api("/v1/incidents?limit=100"),
    api("/v1/sources"),
  ]);
  setTitle(view, "Status");
  const names = Object.fromEntries(services.items.map((s) => [s.service, s.name]));
  const ordered = [...incidents.items].sort(
    (a, b) => (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1) || b.start.localeCompare(a.start));
  region(view, "incidents", JSON.stringify(ordered), () => el("section", { className: "panel", "aria-labelledby": "incidents-h" },
    el("h2", { id: "incidents-h" }, "Incidents"),
    table("Incidents, open first", [["Service"], ["Severity"], ["Status"], ["Started"], ["Duration"], ["Countries", "wide-only"], ["Reports", "num"]],
      ordered.map((i) => el("tr", { className: i.status, "data-incident": i.id },
        el("th", { scope: "row" }, incidentLink(i.id, names[i.service] || i.service)),
        el("td", {}, severityBadge(i)),
        el("td", {}, i.status),
        el("td", {}, timeEl(i.start)),
        el("td", {}, duration(i.start, i.end || services.as_of || i.updated_at), i.end ? "" : " so far"),
        el("td", { className: "wide-only" }, i.countries.map((c) => el("abbr", { title: countryName(c) }, `${flag(c)} ${c}`)).flatMap((n, k) => (k ? [", ", n] : [n]))),
        el("td", { className: "num" }, numberFormat.format(i.reports)))),
      "No incidents.")));
  const items = [...services.items].sort(
    (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]
      || b.reports_last_hour - a.reports_last_hour || a.service.localeCompare(b.service));
  // Names found outside the catalog ("unknown:...") are often not services at all: folded away
  // unless the detector has something to say about them.
  const listed = items.filter((s) => !s.service.startsWith("unknown:") || s.state !== "ok");
  const folded = items.filter((s) => !listed.includes(s));
  const headers = [["Service"], ["State"], ["Last 24 h", "wide-only"], ["Reports, last hour", "num"], ["Open incident", "wide-only"]];
  region(view, "services", JSON.stringify(items), () => el("section", { className: "panel", "aria-labelledby": "services-h" },
    el("h2", { id: "services-h" }, "Services"),
    table("Services by current state", headers, listed.map(serviceRow), "No complaints yet."),
    folded.length ? el("details", { className: "more" },
      el("summary", {}, `${folded.length} more names people complained about, outside the service catalog`),
      table("Names outside the catalog", headers, folded.map(serviceRow), "")) : null));
  if (sources && sources.sources.length) sourcesRegion(view, sources);
  return services.as_of;
}

// A source that is silent or failing leaves its share of reports out: say so where people look.
const SOURCE_BADGE = { ok: "ok", starting: "ok", standby: "ok", silent: "possible", stopped: "possible", failing: "problems" };

function sourcesRegion(view, answer) {
  const sources = answer.sources;
  const down = sources.filter((s) => s.status === "silent" || s.status === "failing");
  // Another server process reads the sources: what it reported and the gaps it recorded (both
  // shared through the database) say whether any is down.
  const elsewhere = !answer.reading_here;
  const missing = new Map(down.map((s) => [s.name, s.status]));
  if (elsewhere) {
    for (const g of answer.gaps) if (g.ended_at === null && !missing.has(g.source)) missing.set(g.source, g.status);
  }
  const reported = sources.filter((s) => s.status !== "standby").map((s) => s.as_of).sort().at(0);
  region(view, "sources", JSON.stringify(answer), () => el("section", { className: "panel", "aria-labelledby": "sources-h" },
    el("h2", { id: "sources-h" }, "Live sources"),
    missing.size ? el("p", { className: "warning", role: "status" },
      `Not every source is reporting (${[...missing].map(([name, status]) => `${name}: ${status}`).join(", ")}): `,
      "quiet services may simply be unobserved.") : null,
    elsewhere ? el("p", { className: "muted", "data-reader": answer.reader || "" },
      answer.reader ? `Read by another server process (${answer.reader}); this one stands by.` : "No server process reads the sources at the moment.",
      reported ? [" Health as it reported it at ", timeEl(reported, clockFormat), "."] : null) : null,
    table("Live sources and their health", [["Source"], ["Status"], ["Posts/min", "num"], ["Last post", "wide-only"], ["Errors", "num"], ["Last error", "wide-only"]],
      sources.map((s) => el("tr", { "data-source": s.name },
        el("th", { scope: "row" }, `${s.name} `, el("small", {}, s.kind)),
        el("td", {}, el("span", { className: `state ${SOURCE_BADGE[s.status] || "possible"}` }, s.status)),
        el("td", { className: "num" }, numberFormat.format(s.posts_per_minute)),
        el("td", { className: "wide-only" }, s.last_post_at ? timeEl(s.last_post_at) : "none yet"),
        el("td", { className: "num" }, numberFormat.format(s.errors)),
        el("td", { className: "wide-only" }, s.last_error || ""))),
      "")));
}

function serviceRow(s) {
  return el("tr", { className: s.state === "ok" ? "" : "open", "data-service": s.service },
    el("th", { scope: "row" }, serviceLink(s.service, s.name)),
    el("td", {}, stateBadge(s.state)),
    el("td", { className: "wide-only" }, s.sparkline ? sparkline(s.sparkline, `${s.name || s.service}: reports per hour, last 24 hours`) : ""),
    el("td", { className: "num" }, numberFormat.format(s.reports_last_hour)),
    el("td", { className: "wide-only" }, s.open_incident ? incidentLink(s.open_incident, "see incident") : ""));
}

async function servicePage(view, slug) {
  const path = encodeURIComponent(slug);
  const [service, series, incidents] = await Promise.all([
    api(`/v1/services/${path}`),
    api(`/v1/services/${path}/timeseries?bucket=15`),
    api(`/v1/incidents?service=${path}&limit=5`),
  ]);
  if (service === null) {
    setTitle(view, slug);
    region(view, "missing", slug, () => el("section", { className: "panel" },
      el("p", {}, `No complaints or incidents for “${slug}”. `, el("a", { href: "#/" }, "All services"))));
    return null;
  }
  const label = service.name || service.slug || service.service;
  setTitle(view, label, stateBadge(service.state));
  chartRegion(view, series, "Reports against the expected baseline, last 24 hours");
  const incidentItems = incidents ? incidents.items : [];
  region(view, "incidents", JSON.stringify(incidentItems), () => el("section", { className: "panel", "aria-labelledby": "inc-h" },
    el("h2", { id: "inc-h" }, "Incidents"),
    incidentItems.length ? el("ul", { className: "posts" }, incidentItems.map((i) => el("li", { "data-incident": i.id },
      el("div", {}, severityBadge(i), " ", i.status, " · started ", timeEl(i.start), " · ",
        duration(i.start, i.end || service.as_of || i.updated_at), i.end ? "" : " so far", " · ", incidentLink(i.id, "details")),
      el("p", { className: "explanation" }, i.explanation))))
      : el("p", { className: "empty" }, "No incidents.")));
  evidenceRegions(view, service.evidence, "No reports in the last 24 hours.");
  return service.as_of;
}

async function incidentPage(view, id) {
  const incident = await api(`/v1/incidents/${encodeURIComponent(id)}`);
  if (incident === null) {
    setTitle(view, "Incident not found");
    region(view, "missing", id, () => el("section", { className: "panel" },
      el("p", {}, `No incident “${id}”. `, el("a", { href: "#/" }, "All services"))));
    return null;
  }
  // The day around the incident: from 6 hours before it began.
  const since = new Date(new Date(incident.start).getTime() - 6 * 3600e3);
  const until = new Date(since.getTime() + 24 * 3600e3);
  const path = encodeURIComponent(incident.service);
  const [series, services] = await Promise.all([
    api(`/v1/services/${path}/timeseries?bucket=15&since=${since.toISOString()}&until=${until.toISOString()}`),
    api("/v1/services"),
  ]);
  const name = (services.items.find((s) => s.service === incident.service) || {}).name || incident.service;
  setTitle(view, `${name} incident`, severityBadge(incident));
  region(view, "summary", JSON.stringify(incident, (k, v) => (k === "series" || k === "evidence" ? undefined : v)),
    () => el("section", { className: "panel", "aria-labelledby": "summary-h" },
      el("h2", { id: "summary-h" }, incident.status === "open" ? "Ongoing" : "Resolved"),
      el("p", {}, "Started ", timeEl(incident.start), " · detected ", timeEl(incident.detected_at),
        incident.end ? [" · ended ", timeEl(incident.end)] : " · still open",
        " · ", duration(incident.start, incident.end || services.as_of || incident.updated_at),
        " · ", serviceLink(incident.service, `${name}: last 24 hours`)),
      el("p", { className: "explanation" }, incident.explanation)));
  chartRegion(view, series, "Reports against the expected baseline, the day around the incident");
  evidenceRegions(view, incident.evidence, "No reports.");
  return services.as_of;
}

function chartRegion(view, series, title) {
  region(view, "chart", JSON.stringify(series), () => el("section", { className: "panel", "aria-labelledby": "chart-h" },
    el("h2", { id: "chart-h" }, title),
    series && series.buckets.length ? reportsChart(series, clockFormat) : el("p", { className: "empty" }, "No reports in this window."),
    el("ul", { className: "legend" },
      el("li", {}, el("span", { className: "sw bars" }), `Reports per ${series ? series.bucket_minutes : 15} minutes`),
      el("li", {}, el("span", { className: "sw base" }), "Expected (baseline)"))));
}

function evidenceRegions(view, evidence, emptyPosts) {
  region(view, "evidence", JSON.stringify(evidence, (k, v) => (k === "posts" ? undefined : v)), () => el("div", { className: "grid" },
    ranked("symptoms", "What people report", evidence.symptoms, evidence.reports, humanize),
    ranked("errors", "Error messages", evidence.errors, evidence.reports, (n) => `“${n}”`),
    ranked("features", "What stopped working", evidence.features, evidence.reports, humanize),
    countries(evidence)));
  region(view, "posts", JSON.stringify(evidence.posts), () => el("section", { className: "panel", "aria-labelledby": "posts-h" },
    el("h2", { id: "posts-h" }, "Representative posts"),
    evidence.posts.length ? el("ul", { className: "posts" }, evidence.posts.map((p) => el("li", {},
      el("blockquote", {}, p.text || ""),
      el("div", { className: "meta" }, p.created_at ? timeEl(p.created_at) : "", p.country ? ` · ${flag(p.country)} ${countryName(p.country)}` : "",
        p.source ? ` · ${p.source}` : "", p.url ? [" · ", el("a", { href: p.url, rel: "noopener noreferrer" }, "original")] : ""))))
      : el("p", { className: "empty" }, emptyPosts)));
}

function ranked(id, title, items, total, show) {
  return el("section", { className: "panel", "aria-labelledby": `${id}-h`, "data-list": id },
    el("h2", { id: `${id}-h` }, title),
    items.length ? el("ul", { className: "ranked" }, items.map((item) => el("li", {},
      el("span", {}, show(item.name)),
      el("span", { className: "share" }, `${share(item.share)} (${numberFormat.format(item.count)})`),
      el("meter", { min: 0, max: 1, value: item.share, "aria-label": `${show(item.name)}: ${percentFormat.format(item.share)} of ${total} reports` }))))
      : el("p", { className: "empty" }, "None reported."));
}

const TOP_COUNTRIES = 12;

function countries(evidence) {
  const row = (c) => el("tr", { "data-country": c.country },
    el("th", { scope: "row" }, `${flag(c.country)} ${countryName(c.country)}`),
    el("td", { className: "num" }, numberFormat.format(c.count)),
    el("td", { className: "num" }, share(c.share)));
  const headers = [["Country"], ["Reports", "num"], ["Share", "num"]];
  const rest = evidence.countries.slice(TOP_COUNTRIES);
  return el("section", { className: "panel", "aria-labelledby": "countries-h", "data-list": "countries" },
    el("h2", { id: "countries-h" }, "Where reports come from"),
    el("p", { className: "muted" }, `${numberFormat.format(evidence.located)} of ${numberFormat.format(evidence.reports)} reports located`),
    table("Reports by country", headers, evidence.countries.slice(0, TOP_COUNTRIES).map(row), "No located reports."),
    rest.length ? el("details", { className: "more" }, el("summary", {}, `${rest.length} more countries`),
      table("More countries", headers, rest.map(row), "")) : null);
}

function setTitle(view, text, ...extra) {
  region(view, "title", text + extra.map((n) => n.outerHTML).join(""), () => el("h1", {}, text, ...extra));
  document.title = `${text} · outage-radar`;
}

function keyForm(view) {
  view.replaceChildren(el("section", { className: "panel" },
    el("h1", {}, "An API key is needed"),
    el("p", {}, "This server shares its data with key holders only. Create one with ",
      el("code", {}, "outage-radar apikey create NAME"), "; it is kept in this tab only."),
    el("form", { className: "key", onsubmit: (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY_STORE, event.target.elements.key.value.trim());
      refresh({ rebuild: true });
    } },
    el("label", { htmlFor: "key" }, "API key"),
    el("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true }),
    el("button", { type: "submit" }, "Show the dashboard"))));
  view.querySelector("input").focus();
}

// --- the loop -----------------------------------------------------------------------------------

let shown = null; // the route the view was built for
let view = null;
let running = false;
let pending = null; // what was asked while a refresh was running

function route() {
  const service = location.hash.match(/^#\/services\/(.+)$/);
  if (service) return { kind: "service", id: decodeURIComponent(service[1]) };
  const incident = location.hash.match(/^#\/incidents\/(.+)$/);
  if (incident) return { kind: "incident", id: decodeURIComponent(incident[1]) };
  return { kind: "overview" };
}

const VIEWS = { overview: (v) => overview(v), service: (v, r) => servicePage(v, r.id), incident: (v, r) => incidentPage(v, r.id) };

/**
 * Redraw the view for the current route. A poll only replaces the regions whose data changed,
 * so the page does not flicker and what a reader has open (a <details>, the focus) stays put;
 * `rebuild` starts the view afresh (a new route, a new key), and `focus` moves the reader there.
 */
async function refresh({ rebuild = false, focus = false } = {}) {
  if (running) {
    // A navigation during a poll is not lost: it runs as soon as the poll is done.
    pending = { rebuild: rebuild || Boolean(pending?.rebuild), focus: focus || Boolean(pending?.focus) };
    return;
  }
  running = true;
  const current = route();
  const key = JSON.stringify(current);
  if (rebuild || key !== shown) {
    view = el("div", { className: "view" });
    main.replaceChildren(view);
    shown = key;
    if (focus) main.focus({ preventScroll: true }); // a new view: start reading there
  }
  try {
    const asOf = await VIEWS[current.kind](view, current);
    const updated = clockFormat.format(new Date());
    statusLine.textContent = `${asOf ? `Data up to ${whenFormat.format(new Date(asOf))} · ` : ""}checked ${updated}, every ${REFRESH_SECONDS} s`;
    document.body.dataset.updated = String(Date.now());
  } catch (error) {
    if (error instanceof NeedsKey) {
      sessionStorage.removeItem(KEY_STORE);
      keyForm(view);
      statusLine.textContent = "An API key is needed.";
    } else {
      statusLine.textContent = `Could not update: ${error.message}. Trying again in ${REFRESH_SECONDS} s.`;
    }
  } finally {
    running = false;
    if (pending) {
      const next = pending;
      pending = null;
      refresh(next);
    }
  }
}

window.addEventListener("hashchange", () => refresh({ rebuild: true, focus: true }));
// The skip link moves the focus; following its "#main" would leave the view (routes are hashes).
document.querySelector(".skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
setInterval(() => {
  if (!document.hidden) refresh();
}, REFRESH_SECONDS * 1000);
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});
refresh({ rebuild: true });
