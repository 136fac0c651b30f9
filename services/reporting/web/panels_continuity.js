// Continuity and availability panels (ISO/IEC 20000-1 6.3): the continuity tests due and the
// unplanned outages without an investigation. app.js takes each entry of DashboardPanels as a
// panel of its own (which reports it draws from, which event types re-read them, how to draw).
// Every figure goes into the page as text (textContent), never as markup.
"use strict";

(() => {
  const panels = (window.DashboardPanels = window.DashboardPanels || []);

  function table(headings) {
    const element = document.createElement("table");
    element.className = "scores";
    const row = element.createTHead().insertRow();
    for (const heading of headings) {
      const th = document.createElement("th");
      th.textContent = heading;
      row.appendChild(th);
    }
    element.createTBody();
    return element;
  }

  // cells: text, or [text, tone] for a pill.
  function addRow(element, dataset, cells) {
    const tr = document.createElement("tr");
    Object.assign(tr.dataset, dataset);
    for (const cell of cells) {
      const td = document.createElement("td");
      if (Array.isArray(cell)) {
        const pill = document.createElement("span");
        pill.className = `pill ${cell[1]}`;
        pill.textContent = cell[0];
        td.appendChild(pill);
      } else {
        td.textContent = cell;
      }
      tr.appendChild(td);
    }
    element.tBodies[0].appendChild(tr);
  }

  const day = (iso) => (iso ? String(iso).slice(0, 10) : "–");
  const minute = (iso) => (iso ? String(iso).slice(0, 16).replace("T", " ") : "–");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  // The plans whose test is due or overdue, or whose re-test a major change made due: the report's
  // order (overdue first, then the soonest due). The status is as of now: the period does not apply.
  panels.push({
    panel: "continuity",
    reports: ["continuity"],
    affectedBy: [[/^itsm\.continuity\./, ["continuity"]], [/^itsm\.ci\./, ["continuity"]]],
    draw(h) {
      const body = h.reports.get("continuity");
      const box = h.$("continuity");
      if (!body) return h.unavailable("continuity", "continuity");
      h.ignoredHint("panel-continuity", ["continuity"]);
      const t = body.totals;
      h.$("continuity-note").textContent = t.plans
        ? `${plural(t.plans, "plan")} · ${t.tests_overdue} overdue · ${t.tests_due} due · ${plural(t.retests_due, "re-test")} due · ${plural(t.invocations, "invocation")}`
        : "";
      const rows = body.rows.filter((r) => r.test_status === "overdue" || r.test_status === "due" || r.retest_change_number);
      if (!rows.length) return h.Charts.empty(box, t.plans ? "No continuity test is due." : "No continuity plan recorded.");
      const element = table(["Plan", "Kind", "Services", "Test due", "Status", "Re-test after change", "Last tested"]);
      for (const row of rows) {
        const status = row.test_status === "overdue" ? ["overdue", "bad"] : row.test_status === "due" ? ["due", "warn"] : ["re-test", "warn"];
        addRow(element, { plan: row.plan_id }, [
          row.title || h.shortId(row.plan_id),
          row.kind || "",
          row.service_names || "–",
          day(row.test_due_at),
          status,
          row.retest_change_number || "–",
          day(row.last_tested_at),
        ]);
      }
      box.replaceChildren(element);
    },
  });

  // Unplanned outages (priority 1 or major incidents on a service) longer than the threshold with
  // no problem linked: the report's order, the longest first.
  panels.push({
    panel: "outages",
    reports: ["outage-investigations"],
    affectedBy: [[/^itsm\.(incident|problem|ci)\./, ["outage-investigations"]]],
    draw(h) {
      const body = h.reports.get("outage-investigations");
      const box = h.$("outages");
      if (!body) return h.unavailable("outages", "outage-investigations");
      h.ignoredHint("panel-outages", ["outage-investigations"]);
      const t = body.totals;
      h.$("outages-note").textContent = t.outages_over_threshold
        ? `${plural(t.outages_over_threshold, "outage")} over ${t.threshold_minutes} min · ${t.investigated} investigated · ${t.without_investigation} without`
        : "";
      if (!body.rows.length) return h.Charts.empty(box, `No unplanned outage over ${t.threshold_minutes} min without a problem in this period.`);
      const element = table(["Incident", "Service", "Priority", "Opened", "Resolved", "Duration"]);
      for (const row of body.rows) {
        addRow(element, { incident: row.incident_id }, [
          row.number || h.shortId(row.incident_id),
          h.serviceName(row),
          [row.priority ? `P${row.priority}` : "", row.major ? "major" : ""].filter(Boolean).join(" · "),
          minute(row.opened_at),
          minute(row.resolved_at),
          [h.duration(h.num(row.duration_minutes) / 60), "bad"],
        ]);
      }
      box.replaceChildren(element);
    },
  });
})();
