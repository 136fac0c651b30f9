// The dashboard: reads the reporting service's reports with the user's bearer token, draws them,
// and re-reads the reports an arriving event concerns (live stream, debounced).
"use strict";

(() => {
  const TOKEN_KEY = "itsm.dashboard.token";
  const REFRESH_DEBOUNCE_MS = 400;
  const FALLBACK_REFRESH_MS = 60_000; // also catches events another replica consumed
  const $ = (id) => document.getElementById(id);

  // Which reports each panel draws from, and which reports an event type may change.
  const PANELS = {
    tiles: ["incidents", "service-levels", "changes", "dora"],
    trend: ["workload"],
    sla: ["service-levels"],
    backlog: ["incidents"],
    changes: ["changes", "dora"],
    cis: ["hotspots"],
    suppliers: ["suppliers"],
    satisfaction: ["satisfaction"],
    capacity: ["capacity"],
    costs: ["costs"],
    "change-costs": ["change-costs"],
    improvements: ["improvements"],
  };
  // Sources that are not reports: the improvement register (4.5.5), read as it stands (no filters).
  const REGISTERS = { improvements: { path: "/api/v1/improvements", params: { limit: 200 } } };
  const AFFECTED_BY = [
    [/^itsm\.(incident|sla)\./, ["incidents", "service-levels", "workload", "availability", "dora", "suppliers", "hotspots", "problems"]],
    [/^itsm\.request\./, ["requests", "workload"]],
    [/^itsm\.problem\./, ["problems", "hotspots"]],
    [/^itsm\.(change|deployment|release)\./, ["changes", "dora"]],
    [/^itsm\.(ci|config)\./, ["cmdb", "hotspots"]],
    [/^itsm\.capacity\./, ["capacity"]],
    [/^itsm\.incident\./, ["capacity"]],
    [/^itsm\.(supplier|contract|dispute)\./, ["suppliers"]],
    [/^itsm\.(survey|complaint)\./, ["satisfaction"]],
    [/^itsm\.improvement\./, ["improvements"]],
    [/^itsm\.(budget|cost)\./, ["costs"]],
    [/^itsm\.change\.cost_stated\./, ["change-costs"]],
    [/^itsm\.ci\./, ["costs", "change-costs"]], // service names
  ];

  const state = {
    token: null,
    definitions: new Map(), // report name -> definition (only reports the server has)
    reports: new Map(), // report name -> last response body
    services: new Map(), // service id -> name, as seen in any report
    groups: new Set(),
    suppliers: new Map(),
    pending: new Set(),
    timer: null,
    stream: null,
    tickets: new Map(), // report name -> number of its latest request (older answers are dropped)
    fallback: null,
  };

  // ---- token -------------------------------------------------------------------------------
  function takeTokenFromFragment() {
    const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
    if (!match) return;
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar and history
  }

  function signIn(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.stream) state.stream.abort();
    $("dashboard").hidden = true;
    $("filters").hidden = true;
    $("sign-out").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    setLive("off", "signed out");
  }

  class Unauthorised extends Error {}

  async function api(path, params = {}) {
    const url = new URL(path, location.origin);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const response = await fetch(url, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
    if (response.status === 401) throw new Unauthorised("The token was refused (expired or not for this suite).");
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail || detail;
      } catch (_) { /* not JSON */ }
      throw new Error(`${path}: ${response.status} ${detail}`);
    }
    return response.json();
  }

  // ---- filters -----------------------------------------------------------------------------
  const form = () => $("filters");

  function filterValues() {
    const data = new FormData(form());
    const values = Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v)]));
    const day = 86_400_000;
    let from, to;
    if (values.period === "custom") {
      from = values.from ? new Date(values.from + "T00:00:00Z") : null;
      to = values.to ? new Date(new Date(values.to + "T00:00:00Z").getTime() + day) : null;
    } else {
      to = new Date();
      from = new Date(to.getTime() - Number(values.period || 30) * day);
    }
    return {
      from: from ? from.toISOString() : "",
      to: to ? to.toISOString() : "",
      service_id: values.service_id,
      group: values.group,
      priority: values.priority,
      supplier_id: values.supplier_id,
    };
  }

  function filtersFor(name, extra = {}) {
    const definition = state.definitions.get(name);
    const accepted = new Set(definition?.filters || []);
    const params = {};
    for (const [key, value] of Object.entries({ ...filterValues(), ...extra })) {
      if (accepted.has(key)) params[key] = value;
    }
    return params;
  }

  function ignoredFilters(name) {
    const definition = state.definitions.get(name);
    const accepted = new Set(definition?.filters || []);
    const labels = { service_id: "service", group: "group", priority: "priority", supplier_id: "supplier" };
    return Object.entries(filterValues())
      .filter(([key, value]) => value && labels[key] && !accepted.has(key))
      .map(([key]) => labels[key]);
  }

  function saveFiltersInUrl() {
    const data = new FormData(form());
    const query = new URLSearchParams();
    for (const [key, value] of data.entries()) {
      if (value && !(key === "period" && value === "30")) query.set(key, String(value));
    }
    const search = query.toString();
    history.replaceState(null, "", location.pathname + (search ? `?${search}` : ""));
  }

  function loadFiltersFromUrl() {
    const query = new URLSearchParams(location.search);
    for (const [key, value] of query.entries()) {
      const field = form().elements.namedItem(key);
      if (!field) continue;
      if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) {
        field.appendChild(new Option(value, value)); // a service or supplier id not seen yet
      }
      field.value = value;
    }
    toggleCustom();
  }

  function toggleCustom() {
    const custom = form().elements.namedItem("period").value === "custom";
    document.querySelectorAll(".filters .custom").forEach((label) => (label.hidden = !custom));
  }

  function fillOptions(name, entries, allLabel) {
    const select = form().elements.namedItem(name);
    const current = select.value;
    const wanted = [["", allLabel], ...entries.sort((a, b) => a[1].localeCompare(b[1]))];
    if (current && !wanted.some(([value]) => value === current)) wanted.push([current, current]);
    const same = select.options.length === wanted.length && wanted.every(([v, l], i) => select.options[i].value === v && select.options[i].text === l);
    if (same) return;
    select.replaceChildren(...wanted.map(([value, label]) => new Option(label, value)));
    select.value = current;
  }

  function learnOptions(body) {
    for (const row of body.rows || []) {
      if (row.service_id) state.services.set(row.service_id, row.service_name || state.services.get(row.service_id) || shortId(row.service_id));
      if (row.assignment_group) state.groups.add(row.assignment_group);
      if (row.supplier_id) state.suppliers.set(row.supplier_id, row.supplier_name || shortId(row.supplier_id));
    }
    fillOptions("service_id", [...state.services.entries()], "All services");
    fillOptions("group", [...state.groups].map((g) => [g, g]), "All groups");
    fillOptions("supplier_id", [...state.suppliers.entries()], "All suppliers");
  }

  // ---- loading -----------------------------------------------------------------------------
  const EXTRA = { workload: { period: "day" } };

  async function load(names) {
    const wanted = [...names].filter((name) => state.definitions.has(name) || name in REGISTERS);
    const problems = [];
    await Promise.all(
      wanted.map(async (name) => {
        const ticket = (state.tickets.get(name) || 0) + 1;
        state.tickets.set(name, ticket);
        try {
          const register = REGISTERS[name];
          const body = register
            ? await api(register.path, register.params)
            : await api(`/api/v1/reports/${name}`, filtersFor(name, EXTRA[name]));
          if (state.tickets.get(name) !== ticket) return; // a newer request for it is on its way
          state.reports.set(name, body);
          learnOptions(body);
        } catch (error) {
          if (error instanceof Unauthorised) throw error;
          problems.push(error.message);
        }
      }),
    );
    $("problems").textContent = problems.join(" · ");
    draw(names);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  async function loadAll() {
    try {
      await load(new Set(Object.values(PANELS).flat()));
    } catch (error) {
      if (error instanceof Unauthorised) signIn(error.message);
      else $("problems").textContent = error.message;
    }
  }

  function scheduleRefresh(reports) {
    reports.forEach((name) => state.pending.add(name));
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => {
      const names = new Set(state.pending);
      state.pending.clear();
      try {
        await load(names);
      } catch (error) {
        if (error instanceof Unauthorised) signIn(error.message);
      }
    }, REFRESH_DEBOUNCE_MS);
  }

  // ---- live stream (fetch, so the token goes in a header, not the URL) ----------------------
  function setLive(kind, label) {
    const badge = $("live");
    badge.className = `live ${kind}`;
    badge.textContent = label;
  }

  async function listen() {
    let delay = 1000;
    while (state.token) {
      const controller = new AbortController();
      state.stream = controller;
      try {
        const response = await fetch("/api/v1/stream", {
          headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" },
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 401) return signIn("The token was refused (expired or not for this suite).");
        if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
        setLive("on", "live");
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            onMessage(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (controller.signal.aborted && !state.token) return;
      }
      if (!state.token) return;
      setLive("waiting", "reconnecting");
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 30_000);
      scheduleRefresh(Object.values(PANELS).flat()); // catch up on what we missed meanwhile
    }
  }

  function onMessage(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trim());
    }
    if (event === "resync") return scheduleRefresh(Object.values(PANELS).flat());
    if (event !== "recorded" || !data.length) return;
    const recorded = JSON.parse(data.join("\n"));
    for (const [pattern, reports] of AFFECTED_BY) {
      if (pattern.test(recorded.type)) scheduleRefresh(reports);
    }
  }

  // ---- formatting --------------------------------------------------------------------------
  const shortId = (id) => String(id).slice(0, 8);
  const num = (v) => (v === null || v === undefined || v === "" ? null : Number(v));
  const pct = (v) => (num(v) === null ? "–" : `${num(v).toFixed(1)}%`);
  function duration(hours) {
    const h = num(hours);
    if (h === null) return "–";
    if (h < 1) return `${Math.round(h * 60)} min`;
    if (h < 48) return `${h.toFixed(1)} h`;
    return `${(h / 24).toFixed(1)} d`;
  }
  const serviceName = (row) => row.service_name || state.services.get(row.service_id) || (row.service_id ? shortId(row.service_id) : "(no service)");
  const rate = (v) => (num(v) === null ? "–" : num(v) >= 1 ? `${num(v).toFixed(1)}/day` : `${(num(v) * 7).toFixed(1)}/week`);
  function grade(value, good, warn, higherIsBetter = true) {
    const v = num(value);
    if (v === null) return "";
    if (higherIsBetter) return v >= good ? "good" : v >= warn ? "warn" : "bad";
    return v <= good ? "good" : v <= warn ? "warn" : "bad";
  }

  function sumBy(rows, key, fields) {
    const out = new Map();
    for (const row of rows) {
      const k = typeof key === "function" ? key(row) : row[key];
      const acc = out.get(k) || Object.fromEntries(fields.map((f) => [f, 0]));
      for (const f of fields) acc[f] += Number(row[f]) || 0;
      acc._row = acc._row || row;
      out.set(k, acc);
    }
    return out;
  }

  function tile(name, figure, note, tone) {
    $(`tile-${name}`).textContent = figure;
    $(`tile-${name}-note`).textContent = note;
    const card = document.querySelector(`[data-tile="${name}"]`);
    card.classList.remove("good", "warn", "bad");
    if (tone) card.classList.add(tone);
  }

  function unavailable(containerId, report) {
    Charts.empty($(containerId), `The ${report} report is not available on this reporting service.`);
  }

  function ignoredHint(panelId, reports) {
    const panel = $(panelId);
    const hint = panel.querySelector(".ignored") || panel.querySelector("header").appendChild(Object.assign(document.createElement("span"), { className: "hint ignored" }));
    const ignored = [...new Set(reports.flatMap(ignoredFilters))];
    hint.textContent = ignored.length ? `not filtered by ${ignored.join(", ")}` : "";
  }

  // ---- panels ------------------------------------------------------------------------------
  function drawTiles() {
    const incidents = state.reports.get("incidents")?.totals;
    const levels = state.reports.get("service-levels")?.totals;
    const changes = state.reports.get("changes")?.totals;
    const dora = state.reports.get("dora")?.totals;
    if (levels) {
      tile("sla", pct(levels.resolution_compliance_pct), `response ${pct(levels.response_compliance_pct)} · ${levels.breaches} breaches`, grade(levels.resolution_compliance_pct, 95, 85));
    }
    if (incidents) {
      tile("backlog", String(incidents.backlog), `of ${incidents.opened} opened · oldest ${duration(incidents.backlog_oldest_age_hours)}`, grade(incidents.backlog, 10, 25, false));
      tile("mttr", duration(incidents.mttr_hours), `acknowledged in ${duration(num(incidents.mtta_minutes) === null ? null : incidents.mtta_minutes / 60)} on average`, "");
      const numbers = incidents.major_incident_numbers || [];
      tile("major", String(incidents.major_incidents), numbers.length ? numbers.slice(0, 3).join(", ") + (numbers.length > 3 ? "…" : "") : "none in the period", incidents.major_incidents ? "bad" : "good");
    }
    if (changes) {
      tile("changes", pct(changes.success_rate_pct), `${changes.changes} changes · ${pct(changes.emergency_ratio_pct)} emergency`, grade(changes.success_rate_pct, 95, 85));
    }
    if (dora) {
      if (dora.deployments) {
        tile("deploys", rate(dora.deployment_frequency_per_day), `${dora.deployments} to production · ${pct(dora.change_failure_rate_pct)} failed`, grade(dora.change_failure_rate_pct, 10, 15, false));
      } else {
        tile("deploys", "–", "no production deployments recorded", "");
      }
    }
  }

  function days(fromIso, toIso) {
    const out = [];
    if (!fromIso || !toIso) return out;
    const start = new Date(fromIso.slice(0, 10) + "T00:00:00Z");
    const end = new Date(toIso);
    for (let d = start; d < end && out.length < 400; d = new Date(d.getTime() + 86_400_000)) out.push(d.toISOString().slice(0, 10));
    return out;
  }

  function drawTrend() {
    const body = state.reports.get("workload");
    if (!body) return unavailable("chart-trend", "workload");
    ignoredHint("panel-trend", ["workload"]);
    const perDay = sumBy(body.rows, "period", ["incidents_opened", "incidents_resolved"]);
    const filters = filterValues();
    const labels = days(filters.from, filters.to);
    for (const day of perDay.keys()) if (!labels.includes(day)) labels.push(day);
    labels.sort();
    if (![...perDay.values()].some((v) => v.incidents_opened || v.incidents_resolved)) return Charts.empty($("chart-trend"), "No incidents in this period.");
    Charts.lines($("chart-trend"), {
      label: "Incidents opened and resolved per day",
      labels,
      series: [
        { name: "opened", bars: true, values: labels.map((d) => perDay.get(d)?.incidents_opened || 0), color: "#93c5fd" },
        { name: "resolved (of those opened that day)", values: labels.map((d) => perDay.get(d)?.incidents_resolved || 0), color: "#16a34a" },
      ],
    });
  }

  function drawSla() {
    const body = state.reports.get("service-levels");
    if (!body) return unavailable("chart-sla", "service-levels");
    ignoredHint("panel-sla", ["service-levels"]);
    const fields = ["response_measured", "response_met", "resolution_measured", "resolution_met"];
    const perService = [...sumBy(body.rows, (r) => r.service_id || "", fields).entries()].filter(([, v]) => v.response_measured || v.resolution_measured);
    if (!perService.length) return Charts.empty($("chart-sla"), "No service level results in this period (they come with resolved incidents that have SLA targets).");
    perService.sort((a, b) => serviceName(a[1]._row).localeCompare(serviceName(b[1]._row)));
    const share = (met, measured) => (measured ? Math.round((1000 * met) / measured) / 10 : 0);
    Charts.bars($("chart-sla"), {
      label: "Compliance per service (%)",
      labels: perService.map(([, v]) => serviceName(v._row)),
      max: 100,
      format: (v) => `${Math.round(v)}%`,
      series: [
        { name: "response", values: perService.map(([, v]) => share(v.response_met, v.response_measured)), color: "#0891b2" },
        { name: "resolution", values: perService.map(([, v]) => share(v.resolution_met, v.resolution_measured)), color: "#2563eb" },
      ],
    });
  }

  function drawBacklog() {
    const body = state.reports.get("incidents");
    if (!body) return unavailable("chart-backlog", "incidents");
    ignoredHint("panel-backlog", ["incidents"]);
    const perGroup = [...sumBy(body.rows, (r) => r.assignment_group || "(unassigned)", ["backlog"]).entries()]
      .filter(([, v]) => v.backlog > 0)
      .sort((a, b) => b[1].backlog - a[1].backlog)
      .slice(0, 10);
    if (!perGroup.length) return Charts.empty($("chart-backlog"), "No open incidents. 🎉");
    const oldest = new Map();
    for (const row of body.rows) {
      const group = row.assignment_group || "(unassigned)";
      oldest.set(group, Math.max(oldest.get(group) || 0, num(row.backlog_oldest_age_hours) || 0));
    }
    Charts.hbars($("chart-backlog"), {
      label: "open incidents",
      labels: perGroup.map(([g]) => g),
      values: perGroup.map(([, v]) => v.backlog),
      colours: perGroup.map(([g]) => ((oldest.get(g) || 0) > 24 * 7 ? "#dc2626" : (oldest.get(g) || 0) > 48 ? "#f59e0b" : "#2563eb")),
    });
  }

  const DORA_BANDS = {
    deployment_frequency_per_day: (v) => (v >= 1 ? "elite" : v >= 1 / 7 ? "high" : v >= 1 / 30 ? "medium" : "low"),
    lead_time_hours: (v) => (v < 24 ? "elite" : v < 168 ? "high" : v < 720 ? "medium" : "low"),
    change_failure_rate_pct: (v) => (v <= 5 ? "elite" : v <= 10 ? "high" : v <= 15 ? "medium" : "low"),
    time_to_restore_hours: (v) => (v < 1 ? "elite" : v < 24 ? "high" : v < 168 ? "medium" : "low"),
  };

  function drawChanges() {
    ignoredHint("panel-changes", ["changes", "dora"]);
    const dora = state.reports.get("dora");
    const box = $("dora");
    box.replaceChildren();
    if (dora) {
      const t = dora.totals;
      const figures = [
        ["Deployment frequency", "deployment_frequency_per_day", t.deployments ? rate(t.deployment_frequency_per_day) : "–"],
        ["Lead time for changes", "lead_time_hours", duration(t.lead_time_hours)],
        ["Change failure rate", "change_failure_rate_pct", pct(t.change_failure_rate_pct)],
        ["Time to restore", "time_to_restore_hours", duration(t.time_to_restore_hours)],
      ];
      for (const [title, key, shown] of figures) {
        const cell = document.createElement("div");
        cell.dataset.dora = key;
        const measured = num(t[key]) !== null && !(key === "deployment_frequency_per_day" && !t.deployments);
        const band = measured ? DORA_BANDS[key](num(t[key])) : "";
        cell.innerHTML = `<span class="name"></span><div class="val"></div><span class="band ${band}"></span>`;
        cell.querySelector(".name").textContent = title;
        cell.querySelector(".val").textContent = shown;
        cell.querySelector(".band").textContent = band;
        box.appendChild(cell);
      }
    }
    const changes = state.reports.get("changes");
    if (!changes) return unavailable("chart-changes", "changes");
    const rows = changes.rows.filter((r) => r.changes > 0);
    if (!rows.length) return Charts.empty($("chart-changes"), "No changes in this period.");
    Charts.bars($("chart-changes"), {
      label: "Changes by type and outcome",
      labels: rows.map((r) => r.type),
      stacked: true,
      series: [
        { name: "implemented", values: rows.map((r) => r.implemented), color: "#16a34a" },
        { name: "failed", values: rows.map((r) => r.failed), color: "#dc2626" },
        { name: "in progress", values: rows.map((r) => Math.max(0, r.changes - r.implemented - r.failed)), color: "#94a3b8" },
      ],
    });
  }

  function drawCis() {
    const body = state.reports.get("hotspots");
    if (!body) return unavailable("chart-cis", "hotspots");
    ignoredHint("panel-cis", ["hotspots"]);
    const rows = body.rows.filter((r) => r.incidents > 0).slice(0, 10);
    if (!rows.length) return Charts.empty($("chart-cis"), "No incidents on configuration items in this period.");
    Charts.hbars($("chart-cis"), {
      label: "incidents",
      labels: rows.map((r) => r.ci_name || shortId(r.ci_id)),
      values: rows.map((r) => r.incidents),
      colours: rows.map((r) => (r.problems ? "#7c3aed" : r.open ? "#f59e0b" : "#2563eb")),
    });
  }

  function drawSuppliers() {
    const body = state.reports.get("suppliers");
    const box = $("suppliers");
    if (!body) return unavailable("suppliers", "suppliers");
    ignoredHint("panel-suppliers", ["suppliers"]);
    if (!body.rows.length) return Charts.empty(box, "No suppliers yet.");
    const table = document.createElement("table");
    table.className = "scores";
    table.innerHTML = "<thead><tr><th>Supplier</th><th>Status</th><th>Contracts</th><th>Incidents</th><th>Resolution on target</th><th>Target breaches</th><th>Open disputes</th><th>Score</th></tr></thead><tbody></tbody>";
    const sorted = [...body.rows].sort((a, b) => (b.target_breaches - a.target_breaches) || String(a.supplier_name).localeCompare(String(b.supplier_name)));
    for (const row of sorted) {
      const compliance = num(row.resolution_compliance_pct);
      const tone = row.target_breaches > 2 || (compliance !== null && compliance < 80) || row.open_disputes ? "bad" : row.target_breaches > 0 || (compliance !== null && compliance < 95) ? "warn" : "good";
      const tr = document.createElement("tr");
      tr.dataset.supplier = row.supplier_id;
      const cells = [
        row.supplier_name || shortId(row.supplier_id),
        row.status || "",
        String(row.active_contracts ?? "–"),
        `${row.incidents_resolved ?? 0}/${row.incidents ?? 0} resolved`,
        null,
        String(row.target_breaches ?? 0),
        String(row.open_disputes ?? 0),
        null,
      ];
      cells.forEach((content, i) => {
        const td = document.createElement("td");
        if (i === 4) {
          const meter = document.createElement("span");
          meter.className = "meter";
          const fill = document.createElement("span");
          fill.style.width = `${compliance ?? 0}%`;
          fill.style.background = compliance === null ? "#cbd5e1" : compliance >= 95 ? "#16a34a" : compliance >= 80 ? "#f59e0b" : "#dc2626";
          meter.appendChild(fill);
          td.append(meter, pct(compliance));
          td.dataset.value = compliance ?? "";
        } else if (i === 7) {
          const pill = document.createElement("span");
          pill.className = `pill ${tone}`;
          pill.textContent = { good: "on target", warn: "watch", bad: "at risk" }[tone];
          td.appendChild(pill);
        } else {
          td.textContent = content;
        }
        tr.appendChild(td);
      });
      table.tBodies[0].appendChild(tr);
    }
    box.replaceChildren(table);
  }

  function drawSatisfaction() {
    const body = state.reports.get("satisfaction");
    if (!body) return unavailable("chart-satisfaction", "satisfaction");
    ignoredHint("panel-satisfaction", ["satisfaction"]);
    const services = body.rows.filter((r) => r.scope === "service");
    const name = (r) => r.service_name || (r.service_id ? shortId(r.service_id) : "no service");
    const t = body.totals;
    $("satisfaction-note").textContent = `${t.answered} of ${t.surveys_issued} surveys answered · ${t.complaints} complaints`;
    const scored = services.filter((r) => r.average_score !== null);
    if (!scored.length) Charts.empty($("chart-satisfaction"), "No survey answered in this period.");
    else Charts.hbars($("chart-satisfaction"), {
      label: "average score",
      labels: scored.map(name),
      values: scored.map((r) => r.average_score),
      max: 5,
      colours: scored.map((r) => (r.average_score >= 4 ? "#16a34a" : r.average_score >= 3 ? "#f59e0b" : "#dc2626")),
    });
    const complained = services.filter((r) => r.complaints > 0);
    if (!complained.length) Charts.empty($("chart-complaints"), "No complaints in this period.");
    else Charts.hbars($("chart-complaints"), { label: "complaints", labels: complained.map(name), values: complained.map((r) => r.complaints) });
  }

  function drawCapacity() {
    const body = state.reports.get("capacity");
    const box = $("capacity");
    if (!body) return unavailable("capacity", "capacity");
    ignoredHint("panel-capacity", ["capacity"]);
    const rows = body.rows.filter((r) => r.level !== "ok").slice(0, 15);
    if (!rows.length) return Charts.empty(box, "No CI is at a capacity threshold.");
    const table = document.createElement("table");
    table.className = "scores";
    table.innerHTML = "<thead><tr><th>CI</th><th>Metric</th><th>Level</th><th>Utilisation of critical</th><th>Runway</th><th>Performance incidents</th></tr></thead><tbody></tbody>";
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.ci = row.ci_id;
      const runway = num(row.runway_days);
      const cells = [
        row.ci_name || shortId(row.ci_id),
        `${row.metric} (${row.unit || ""})`,
        null,
        row.utilisation_pct === null || row.utilisation_pct === undefined ? "–" : `${row.utilisation_pct}%`,
        runway === null ? "–" : runway === 0 ? "now" : `${runway} d`,
        String(row.performance_incidents ?? 0),
      ];
      cells.forEach((content, i) => {
        const td = document.createElement("td");
        if (i === 2) {
          const pill = document.createElement("span");
          pill.className = `pill ${row.level === "critical" ? "bad" : "warn"}`;
          pill.textContent = row.level;
          td.appendChild(pill);
        } else {
          td.textContent = content;
        }
        tr.appendChild(td);
      });
      table.tBodies[0].appendChild(tr);
    }
    box.replaceChildren(table);
  }

  // Money comes as exact strings ("1200.50"): the table shows them as they are; only the bars'
  // lengths go through Number.
  const STATUS_TONE = { within: "good", at_risk: "warn", over: "bad" };

  function drawCosts() {
    const body = state.reports.get("costs");
    const box = $("costs");
    if (!body) return unavailable("chart-costs", "costs");
    ignoredHint("panel-costs", ["costs"]);
    const budgets = body.rows.filter((r) => r.scope === "service");
    const t = body.totals;
    $("costs-note").textContent = budgets.length
      ? `${t.budgets} budget${t.budgets === 1 ? "" : "s"} · ${t.over} over · ${t.at_risk} at risk · ${t.within} within · actuals to ${t.as_of}` +
        (t.currency ? ` · in all ${t.actual} of ${t.budget} ${t.currency}` : "")
      : "";
    if (!budgets.length) {
      Charts.empty($("chart-costs"), "No budget for these services in this period.");
      return box.replaceChildren();
    }
    const label = (r) => `${serviceName(r)} ${r.period_start.slice(0, 7)}${r.currency === t.currency ? "" : ` (${r.currency})`}`;
    Charts.bars($("chart-costs"), {
      label: "cost against budget",
      labels: budgets.map(label),
      series: [
        { name: "budget", values: budgets.map((r) => r.budget), color: "#94a3b8" },
        { name: "actual", values: budgets.map((r) => r.actual), color: "#2563eb" },
        { name: "forecast", values: budgets.map((r) => r.forecast), color: "#f59e0b" },
      ],
      format: (v) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : String(Math.round(v))),
    });
    const table = document.createElement("table");
    table.className = "scores";
    table.innerHTML = "<thead><tr><th>Service</th><th>Period</th><th>Budget</th><th>Actual</th><th>Variance</th><th>Forecast</th><th>Status</th></tr></thead><tbody></tbody>";
    for (const row of budgets) {
      const tr = document.createElement("tr");
      tr.dataset.service = row.service_id;
      tr.dataset.period = row.period_start;
      const cells = [
        serviceName(row),
        `${row.period_start} to ${row.period_end}`,
        `${row.budget} ${row.currency}`,
        `${row.actual} ${row.currency}`,
        `${row.variance.startsWith("-") ? "" : "+"}${row.variance}`,
        `${row.forecast} ${row.currency}`,
        null,
      ];
      cells.forEach((content, i) => {
        const td = document.createElement("td");
        if (i === 6) {
          const pill = document.createElement("span");
          pill.className = `pill ${STATUS_TONE[row.status] || ""}`;
          pill.textContent = row.status.replace("_", " ");
          td.appendChild(pill);
        } else {
          td.textContent = content;
        }
        tr.appendChild(td);
      });
      table.tBodies[0].appendChild(tr);
    }
    box.replaceChildren(table);
  }

  // The cost of changes per service and month (6.4): a change touching two services is in both rows.
  function drawChangeCosts() {
    const body = state.reports.get("change-costs");
    const box = $("change-costs");
    if (!body) return unavailable("change-costs", "change-costs");
    ignoredHint("panel-change-costs", ["change-costs"]);
    const t = body.totals;
    $("change-costs-note").textContent = t.changes
      ? `${t.changes} change${t.changes === 1 ? "" : "s"} costed · ${t.with_actual} with an actual` +
        (t.currency ? ` · estimated ${t.estimated}, actual ${t.actual} ${t.currency}` : "")
      : "";
    if (!body.rows.length) return Charts.empty(box, "No change costed for these services in this period.");
    const table = document.createElement("table");
    table.className = "scores";
    table.innerHTML = "<thead><tr><th>Service</th><th>Month</th><th>Changes</th><th>Estimated</th><th>Actual</th><th>Variance</th></tr></thead><tbody></tbody>";
    for (const row of body.rows) {
      const tr = document.createElement("tr");
      tr.dataset.service = row.service_id || "";
      tr.dataset.period = row.period_start;
      const cells = [
        serviceName(row),
        row.period_start.slice(0, 7),
        String(row.changes),
        `${row.estimated} ${row.currency}`,
        `${row.actual} ${row.currency}`,
        `${row.variance.startsWith("-") ? "" : "+"}${row.variance}`,
      ];
      for (const content of cells) {
        const td = document.createElement("td");
        td.textContent = content;
        tr.appendChild(td);
      }
      table.tBodies[0].appendChild(tr);
    }
    box.replaceChildren(table);
  }

  function drawImprovements() {
    const body = state.reports.get("improvements");
    const box = $("improvements");
    if (!body) return Charts.empty(box, "The improvement register is not available on this reporting service.");
    const byStatus = {};
    for (const e of body.items) byStatus[e.status] = (byStatus[e.status] || 0) + 1;
    $("improvements-note").textContent = Object.entries(byStatus).map(([s, n]) => `${n} ${s.replace("_", " ")}`).join(" · ") || "";
    const today = new Date().toISOString().slice(0, 10);
    const open = body.items.filter((e) => !["closed", "rejected"].includes(e.status))
      .sort((a, b) => a.target_date.localeCompare(b.target_date)).slice(0, 10);
    if (!open.length) return Charts.empty(box, "No open improvement or nonconformity.");
    const table = document.createElement("table");
    table.className = "scores";
    table.innerHTML = "<thead><tr><th>Entry</th><th>Title</th><th>Source</th><th>Owner</th><th>Status</th><th>Target</th></tr></thead><tbody></tbody>";
    for (const e of open) {
      const tr = document.createElement("tr");
      tr.dataset.improvement = e.number;
      const cells = [e.number, e.title, `${e.source.replaceAll("_", " ")} ${e.source_ref || ""}`.trim(), e.owner, e.status.replace("_", " "), null];
      cells.forEach((content, i) => {
        const td = document.createElement("td");
        if (i === 5) {
          const pill = document.createElement("span");
          pill.className = `pill ${e.target_date < today ? "bad" : "good"}`;
          pill.textContent = e.target_date < today ? `overdue ${e.target_date}` : e.target_date;
          td.appendChild(pill);
        } else {
          td.textContent = content;
        }
        tr.appendChild(td);
      });
      table.tBodies[0].appendChild(tr);
    }
    box.replaceChildren(table);
  }

  const DRAW = { improvements: drawImprovements, tiles: drawTiles, trend: drawTrend, sla: drawSla, backlog: drawBacklog, changes: drawChanges, cis: drawCis, suppliers: drawSuppliers, satisfaction: drawSatisfaction, capacity: drawCapacity, costs: drawCosts, "change-costs": drawChangeCosts };

  // Panels kept in their own scripts (panels_*.js, loaded before this one) register in
  // window.DashboardPanels: { panel, reports, affectedBy: [[pattern, reports]], draw(helpers) }.
  const HELPERS = { reports: state.reports, $, Charts, unavailable, ignoredHint, serviceName, shortId, num, duration };
  for (const extra of window.DashboardPanels || []) {
    PANELS[extra.panel] = extra.reports;
    AFFECTED_BY.push(...extra.affectedBy);
    DRAW[extra.panel] = () => extra.draw(HELPERS);
  }

  function draw(reportNames) {
    const changed = new Set(reportNames);
    for (const [panel, reports] of Object.entries(PANELS)) {
      if (!reports.some((r) => changed.has(r))) continue;
      DRAW[panel]();
      const article = document.querySelector(`[data-panel="${panel}"]`);
      if (article) {
        article.dataset.draws = String(Number(article.dataset.draws || 0) + 1);
        article.classList.add("refreshed");
        setTimeout(() => article.classList.remove("refreshed"), 700);
      }
    }
  }

  // ---- start -------------------------------------------------------------------------------
  async function start() {
    $("signin").hidden = true;
    $("dashboard").hidden = false;
    $("filters").hidden = false;
    $("sign-out").hidden = false;
    try {
      const definitions = await api("/api/v1/reports");
      const list = Array.isArray(definitions) ? definitions : definitions.items || definitions.reports || [];
      state.definitions = new Map(list.map((d) => [d.name, d]));
    } catch (error) {
      if (error instanceof Unauthorised) return signIn(error.message);
      $("problems").textContent = `The report definitions could not be read: ${error.message}`;
      return;
    }
    await loadAll();
    listen();
    if (!state.fallback) state.fallback = setInterval(() => state.token && loadAll(), FALLBACK_REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    takeTokenFromFragment();
    loadFiltersFromUrl();
    form().addEventListener("change", () => {
      toggleCustom();
      saveFiltersInUrl();
      loadAll();
    });
    form().addEventListener("reset", () => setTimeout(() => {
      toggleCustom();
      saveFiltersInUrl();
      loadAll();
    }));
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = new FormData(event.target).get("token").trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      state.token = token;
      event.target.reset();
      start();
    });
    $("sign-out").addEventListener("click", () => signIn("Token forgotten."));
    state.token = sessionStorage.getItem(TOKEN_KEY);
    if (state.token) start();
    else signIn();
  });
})();
