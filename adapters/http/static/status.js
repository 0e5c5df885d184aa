// Live status page: polls /api/status and redraws. No dependencies, no external requests.
"use strict";

const POLL_MS = 1500;
const HISTORY_MS = 5 * 60 * 1000;
// Step errors and optimizer fallbacks are warned about for this long after the last one.
const RECENT_MS = 10 * 60 * 1000;
const PHASES = ["L1", "L2", "L3"];
const SVG_NS = "http://www.w3.org/2000/svg";
const loadHistory = [];

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

// Through the CSSOM, which the page's Content-Security-Policy allows (style attributes it blocks).
function positioned(node, left, width) {
  node.style.left = left;
  if (width !== undefined) node.style.width = width;
  return node;
}

const fixed = (value, digits = 1) => (value === null || value === undefined ? "—" : value.toFixed(digits));
const words = (text) => (text ? text.replaceAll("_", " ") : "");

function setBadge(node, text, level) {
  node.textContent = text;
  node.className = `badge ${level}`;
}

function renderHeader(status) {
  const { site, health } = status;
  $("site-name").textContent = site.name;
  document.title = `${site.name} · charging status`;
  $("updated").textContent = new Date(status.at).toLocaleTimeString();
  setBadge($("mode"), `mode ${site.mode}`, site.mode === "normal" ? "ok" : "bad");
  const meter = site.meter;
  const age = meter.age_s === null ? "no reading" : `${fixed(meter.age_s)} s ago`;
  const meterOk = meter.valid && meter.age_s !== null && meter.age_s <= meter.stale_after_s;
  setBadge($("meter"), meterOk ? `meter ${age}` : `meter ${meter.valid ? "stale" : "invalid"} · ${age}`,
    meterOk ? "ok" : "bad");
  // The limit in force when an override or a grid operator's cap holds it below the fuse.
  const lowered = site.limit_reason ?? null;
  const override = $("override");
  override.hidden = lowered === null;
  const power = site.power_limit_w === null ? "" : ` · ${fixed(site.power_limit_w / 1000)} kW`;
  override.textContent = `limit ${fixed(site.limit_a.L1)} A${power} · ${lowered}`;
  const exporting = site.export_w !== null && site.export_w !== undefined && site.export_w > 0;
  $("export").hidden = !exporting;
  $("export").textContent = exporting ? `exporting ${fixed(site.export_w / 1000)} kW` : "";
  // With a PV meter: what it produces, and how much of that the site uses itself.
  const pv = site.pv_power_w ?? null;
  $("pv").hidden = pv === null;
  $("pv").textContent = pv === null ? "" : `solar ${fixed(pv / 1000)} kW`
    + (site.self_consumption_w === null ? "" : ` · ${fixed(site.self_consumption_w / 1000)} kW used on site`);
  const problems = $("problems");
  problems.hidden = health.ok;
  problems.textContent = health.problems.join(" · ");
}

const clock = (at) => new Date(at).toLocaleTimeString();

// Whatever the control loop cannot do or prove, one line each: how many, which, since when.
function faultLines(status) {
  const { controller, counters } = status;
  const now = Date.parse(status.at);
  const recent = (at) => at !== null && now - Date.parse(at) <= RECENT_MS;
  const lines = [];
  if (counters.step_errors > 0 && recent(controller.last_error_at)) {
    lines.push(["step-errors", `Controller errors: ${counters.step_errors} since the start, last at `
      + `${clock(controller.last_error_at)}: ${controller.last_error}`]);
  }
  if (counters.fallback_steps > 0 && recent(controller.last_fallback_at)) {
    lines.push(["fallback-steps", `Optimizer fell back to its safe allocation in `
      + `${counters.fallback_steps} step${counters.fallback_steps === 1 ? "" : "s"}, last at `
      + `${clock(controller.last_fallback_at)} (${words(controller.last_fallback_status)})`]);
  }
  if (controller.unproven.length) {
    const names = controller.unproven.map((u) => `${u.key} (${fixed(u.for_s, 0)} s)`).join(", ");
    lines.push(["unproven", `Unproven, counted at their hardware maximum (no profile confirmed): ${names}`]);
  }
  for (const reason of controller.untrusted_circuit_meters || []) {
    lines.push(["circuit-meter", `Circuit planned on its highest recent load: ${reason}`]);
  }
  if (controller.held_raises.length) {
    lines.push(["held-raises", `Raises held until lowerings elsewhere free the room: `
      + controller.held_raises.join(", ")]);
  }
  return lines;
}

function renderFaults(status) {
  const lines = faultLines(status);
  const faults = $("faults");
  faults.hidden = lines.length === 0;
  faults.replaceChildren(...lines.map(([kind, text]) => el("div", { class: "fault", "data-fault": kind }, text)));
}

function renderPhases(site) {
  const scale = Math.max(site.configured_limit_a || 0, ...PHASES.map((p) => site.limit_a[p] || 0),
    ...PHASES.map((p) => site.current_a[p] || 0)) * 1.05 || 1;
  const pct = (amps) => `${Math.max(0, Math.min(100, (100 * amps) / scale))}%`;
  const rows = PHASES.map((phase) => {
    const current = site.current_a[phase];
    const base = site.base_load_a[phase];
    const limit = site.limit_a[phase];
    const known = current !== null;
    const baseA = base === null ? 0 : Math.min(base, current ?? base);
    const evA = known ? Math.max(0, current - baseA) : 0;
    const row = el("div", { class: `phase${known && current > limit ? " over" : ""}`, "data-phase": phase });
    row.append(el("span", { class: "name" }, phase));
    const bar = el("div", { class: "bar" });
    bar.append(
      positioned(el("div", { class: "seg base" }), "0%", pct(baseA)),
      positioned(el("div", { class: "seg ev" }), pct(baseA), pct(evA)),
      positioned(el("div", { class: "limit" }), `calc(${pct(limit)} - 1px)`),
    );
    row.append(bar, el("span", { class: "figure" }, `${fixed(current)} / ${fixed(limit, 0)} A`));
    return row;
  });
  $("phases").replaceChildren(...rows);
}

const peak = (phases) => Math.max(...PHASES.map((p) => phases[p] ?? 0));

function remember(at, current, limit) {
  const t = Date.parse(at);
  if (loadHistory.length && t <= loadHistory[loadHistory.length - 1].t) return;
  loadHistory.push({ t, current: { ...current }, limit: peak(limit) });
  while (loadHistory.length && loadHistory[0].t < t - HISTORY_MS) loadHistory.shift();
}

function renderHistory() {
  const W = 600, H = 200, top = 10, bottom = 10, left = 50;
  const now = loadHistory.length ? loadHistory[loadHistory.length - 1].t : 0;
  const limit = loadHistory.length ? loadHistory[loadHistory.length - 1].limit : 0;
  const max = Math.max(1, ...loadHistory.map((h) => Math.max(h.limit, peak(h.current)))) * 1.1;
  const x = (t) => left + (W - left) * (1 - (now - t) / HISTORY_MS);
  const y = (amps) => top + (H - top - bottom) * (1 - amps / max);
  const nodes = [];
  for (const amps of [0, limit / 2, limit]) {
    nodes.push(svg("line", { class: "grid", x1: left, x2: W, y1: y(amps), y2: y(amps) }));
    const label = svg("text", { class: "axis", x: 0, y: y(amps) + 5 });
    label.textContent = `${amps.toFixed(0)} A`;
    nodes.push(label);
  }
  const path = (points) => points.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join("");
  nodes.push(svg("path", { class: "line limit", d: path(loadHistory.map((h) => [x(h.t), y(h.limit)])) }));
  for (const phase of PHASES) {
    const points = loadHistory.filter((h) => h.current[phase] !== null).map((h) => [x(h.t), y(h.current[phase])]);
    nodes.push(svg("path", { class: `line ${phase.toLowerCase()}`, d: path(points) }));
  }
  $("history").replaceChildren(...nodes);
}

function phaseCells(values, field) {
  const cell = el("td", { class: "num", "data-field": field });
  for (const phase of PHASES) {
    const value = values[phase];
    const zero = value === null || Math.abs(value) < 0.05;
    cell.append(el("span", { class: `ph${zero ? " zero" : ""}`, "data-phase": phase }, fixed(value)));
  }
  return cell;
}

const hhmm = (at) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const price = (value) => (value === null ? "—" : value.toFixed(4));
const NEXT_PRICES = 12;

function ageText(seconds) {
  if (seconds === null) return "never read";
  if (seconds < 120) return `${fixed(seconds, 0)} s old`;
  if (seconds < 7200) return `${fixed(seconds / 60, 0)} min old`;
  return `${fixed(seconds / 3600, 1)} h old`;
}

// The building's load the plan expects: its highest quarter hour ahead, and now.
function loadAheadText(ahead) {
  if (ahead.length === 0) return "not learned yet: it takes a day of site meter readings";
  const highest = ahead.reduce((a, b) => (b.kw > a.kw ? b : a));
  const now = new Date(ahead[0].from) <= new Date() ? ` · ${fixed(ahead[0].kw)} kW now` : "";
  return `highest ${fixed(highest.kw)} kW at ${hhmm(highest.from)}${now}`;
}

// What power costs now and ahead, the demand charge's peak, and how fresh the price series is.
function renderMoney(money) {
  $("money").hidden = money === null;
  if (money === null) return;
  $("price-now").textContent = money.price_per_kwh === null ? "—" : `${price(money.price_per_kwh)} /kWh`;
  $("export-price").textContent = money.export_price_per_kwh ? `feed-in ${price(money.export_price_per_kwh)} /kWh` : "";
  const demand = money.demand;
  $("demand-peak").textContent = `${fixed(demand.peak_kw)} kW`;
  $("demand-cap").textContent = demand.charge_per_kw
    ? `planned cap ${fixed(demand.planned_cap_kw)} kW · ${demand.charge_per_kw} per kW above it`
    : "no demand charge";
  const items = money.prices_ahead.slice(0, NEXT_PRICES).map((p, i) => {
    const item = el("li", { class: i === 0 ? "now" : "", "data-from": p.from });
    item.append(el("span", { class: "at" }, i === 0 ? "now" : hhmm(p.from)), price(p.price_per_kwh));
    return item;
  });
  $("prices-ahead").replaceChildren(...items);
  $("load-ahead").textContent = loadAheadText(money.load_ahead);
  const source = money.prices_source;
  $("prices-source-row").hidden = source === null;
  if (source !== null) {
    const node = $("prices-source");
    node.textContent = `${source.name} · ${ageText(source.age_s)}`
      + (source.error ? ` · last refresh failed: ${source.error}` : "");
    node.className = `note${source.error ? " bad" : ""}`;
  }
}

const MODES = ["fast", "planned", "solar", "min+solar"];
const CHARGER_DEFAULT = "";

// A running session's mode as a select that asks the operator API to change it (the token
// comes from the field beside the table); a connector without a session shows its mode.
function modeCell(c) {
  const cell = el("td", { "data-field": "mode" });
  if (c.session_id === null) {
    cell.textContent = c.charging_mode;
    return cell;
  }
  const select = el("select", { class: "mode-choice", "aria-label": `Charging mode of ${c.key}` });
  for (const mode of [...MODES, CHARGER_DEFAULT]) {
    const attrs = { value: mode };
    if (mode === c.charging_mode) attrs.selected = "";
    select.append(el("option", attrs, mode === CHARGER_DEFAULT ? "default" : mode));
  }
  select.addEventListener("change", () => {
    // Give the focus back, so that the next poll redraws the table with the new mode.
    select.blur();
    chooseMode(c, select.value === CHARGER_DEFAULT ? null : select.value);
  });
  cell.append(select);
  return cell;
}

function operatorNote(text, bad) {
  const note = $("operator-note");
  note.hidden = false;
  note.textContent = text;
  note.className = `note${bad ? " bad" : ""}`;
}

// Posts an operator action on connector `c` with the token from the field beside the table,
// and says in the note what came of it: `done` on success, the controller's error if not.
async function operatorAction(c, action, body, what, done) {
  const token = $("operator-token").value.trim();
  if (!token) {
    operatorNote(`Enter the operator token to ${what}.`, true);
    return;
  }
  const path = `/api/chargers/${encodeURIComponent(c.charger_id)}/connectors/${c.connector_id}/${action}`;
  try {
    const response = await fetch(path, {
      method: "POST",
      cache: "no-store",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      operatorNote(`${c.key}: ${done}`, false);
    } else {
      operatorNote(`${c.key}: not changed — ${answer.error ?? `HTTP ${response.status}`}`, true);
    }
  } catch (error) {
    operatorNote(`${c.key}: not changed — no answer from the controller`, true);
  }
}

function chooseMode(c, mode) {
  const done = `${mode ?? "its charger's default mode"} until the session ends`;
  return operatorAction(c, "mode", { mode }, "change a mode", done);
}

// A charger once caught drawing more than it was allowed: its sessions start on probation,
// until an operator who had it repaired trusts it again.
function stateCell(c) {
  const cell = el("td", { "data-field": "state" });
  cell.append(el("span", { class: "pill state" }, c.state));
  if (!c.caught_drawing_too_much) return cell;
  cell.append(" ", el("span", { class: "pill caught", title: "caught drawing more than allowed: its sessions start on probation" }, "caught"));
  const button = el("button", { type: "button", class: "trust-again", "aria-label": `Trust ${c.key} again` }, "trust again");
  button.addEventListener("click", () =>
    operatorAction(c, "trust", {}, "trust a charger again", "trusted again; its sessions are no longer on probation"));
  cell.append(" ", button);
  return cell;
}

function renderConnectors(connectors) {
  // Not while the operator has a mode select open: the redraw would close it.
  if (document.activeElement?.classList.contains("mode-choice")) return;
  const rows = connectors.map((c) => {
    const classes = `connector state-${c.state}${c.bound_proven ? "" : " unproven"}`;
    const row = el("tr", { class: classes, "data-connector": c.key });
    row.append(el("td", { class: "conn", "data-field": "key" }, c.key));
    row.append(el("td", { "data-field": "status" }, c.status ?? "—"));
    row.append(stateCell(c), modeCell(c));
    row.append(phaseCells(c.allowed_a, "allowed"), phaseCells(c.drawn_a, "drawn"));
    row.append(el("td", { class: "num", "data-field": "bound" }, fixed(c.bound_a)));
    const source = el("td", { class: "source", "data-field": "bound-source" }, c.bound_source || "—");
    if (!c.bound_proven) source.prepend(el("span", { class: "pill unproven" }, "unproven"), " ");
    row.append(source);
    row.append(el("td", { class: "num", "data-field": "power" }, c.power_w === null ? "—" : fixed(c.power_w / 1000)));
    row.append(el("td", { class: "num", "data-field": "energy" }, c.energy_wh === null ? "—" : fixed(c.energy_wh / 1000, 2)));
    row.append(el("td", { class: "reason", "data-field": "reason" }, words(c.reason)));
    return row;
  });
  $("connectors").tBodies[0].replaceChildren(...rows);
  $("no-connectors").hidden = connectors.length > 0;
}

function renderFacts(status) {
  const online = status.chargers.filter((c) => c.connected).length;
  $("chargers").textContent = `${online} / ${status.chargers.length}`;
  $("sessions").textContent = String(status.sessions.length);
  const allocation = status.allocation;
  $("solve").textContent = allocation ? `${fixed(allocation.solve_ms)} ms` : "—";
  $("solve-status").textContent = allocation ? words(allocation.status) : "";
  $("bottleneck").textContent = allocation && allocation.binding.length ? allocation.binding.join(", ") : "none";
}

function render(status) {
  renderHeader(status);
  renderFaults(status);
  renderPhases(status.site);
  remember(status.at, status.site.current_a, status.site.limit_a);
  renderHistory();
  renderFacts(status);
  renderMoney(status.money ?? null);
  renderConnectors(status.connectors);
}

async function fetchJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function poll() {
  let status = null;
  try {
    status = await fetchJson("/api/status");
  } catch (error) {
    $("offline").hidden = false;
  } finally {
    setTimeout(poll, POLL_MS);
  }
  if (status !== null) {
    $("offline").hidden = true;
    render(status);
  }
}

// The server keeps the last minutes of load, so the chart starts full.
async function start() {
  try {
    for (const sample of (await fetchJson("/api/history")).samples) {
      remember(sample.at, sample.current_a, sample.limit_a);
    }
  } catch (error) {
    // The chart then fills from the polls alone.
  }
  poll();
}

start();
