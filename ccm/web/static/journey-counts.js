/*
 * A journey page's counts, kept current: no dependencies, no build step.
 *
 * `#journey-flow` polls `data-counts-url` every three seconds (the numbers `GET /v1/journeys/{key}` gives)
 * and rewrites every element marked `data-step` + `data-count` (waiting, passed, skipped, exited, goal,
 * the skip reasons) or `data-way` (a branch's or split's runs per way), in the diagram and the table.
 * When the journey's state changes (paused, resumed, stopped elsewhere) the page reloads for its buttons.
 */
"use strict";

(() => {
  const EVERY_MS = 3000;
  const section = document.getElementById("journey-flow");
  if (!section) return;

  function total(counts) {
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  function reasons(skipped) {
    const names = Object.keys(skipped).sort();
    return "skipped: " + (names.length ? names.map((r) => `${r} ${skipped[r]}`).join(", ") : "none");
  }

  function drawSkips(steps) {
    const body = document.querySelector('[data-field="skips"]');
    if (!body) return;
    const rows = [];
    for (const row of document.querySelectorAll("[data-step-row]")) {
      const step = row.dataset.stepRow;
      const skipped = (steps[step] || { skipped: {} }).skipped;
      for (const reason of Object.keys(skipped).sort()) rows.push([step, reason, skipped[reason]]);
    }
    body.replaceChildren();
    for (const [step, reason, count] of rows) {
      const tr = document.createElement("tr");
      for (const [label, value, code] of [["Step", step, true], ["Reason", reason, true], ["Runs", count, false]]) {
        const td = document.createElement("td");
        td.dataset.label = label;
        const inner = code ? document.createElement("code") : td;
        inner.textContent = String(value);
        if (code) td.append(inner);
        tr.append(td);
      }
      body.append(tr);
    }
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 3;
      td.className = "muted";
      td.textContent = "No step was skipped.";
      tr.append(td);
      body.append(tr);
    }
  }

  // The same text as the page's `way_share`: this way's part of the runs that left the step, or nothing.
  function share(ways, key) {
    const all = total(ways);
    return all ? `(${Math.round((100 * (ways[key] || 0)) / all)}%)` : "";
  }

  function draw(steps) {
    for (const element of document.querySelectorAll("[data-step][data-count]")) {
      const counts = steps[element.dataset.step];
      if (!counts) continue;
      const name = element.dataset.count;
      if (name === "skipped") element.textContent = String(total(counts.skipped));
      else if (name === "reasons") element.textContent = reasons(counts.skipped);
      else element.textContent = String(counts[name]);
    }
    for (const element of document.querySelectorAll("[data-step][data-way]")) {
      const counts = steps[element.dataset.step];
      if (counts) element.textContent = String(counts.ways[element.dataset.way] || 0);
    }
    for (const element of document.querySelectorAll("[data-step][data-share]")) {
      const counts = steps[element.dataset.step];
      if (counts) element.textContent = share(counts.ways, element.dataset.share);
    }
    drawSkips(steps);
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.countsUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const type = response.headers.get("content-type") || "";
      if (response.redirected || !type.startsWith("application/json")) return; // signed out: stop
      const body = await response.json();
      if (body.state !== section.dataset.state) {
        window.location.reload();
        return;
      }
      draw(body.steps);
      setTimeout(poll, EVERY_MS);
    } catch (error) {
      setTimeout(poll, EVERY_MS * 2); // a network blip: try again, more slowly
    }
  }

  setTimeout(poll, EVERY_MS);
})();
