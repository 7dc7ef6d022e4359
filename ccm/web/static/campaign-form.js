/*
 * The "New campaign" form's helpers: no dependencies, no build step; the form works without them.
 *
 * The live count: whenever the recipients change (every customer, a saved segment, a typed rule) the form is
 * posted (urlencoded, with its CSRF token) to `data-count-url` about 400 ms later, and `#segment-count`
 * shows how many customers the segment selects now, or the path and message of what is wrong with the rule.
 * The channels: picking a template ticks its default campaign channels and disables those it has no part for.
 */
"use strict";

(() => {
  const DELAY_MS = 400;
  const form = document.getElementById("campaign-form");
  if (!form) return;
  const output = document.getElementById("segment-count");
  const template = document.getElementById("campaign-template");
  let timer = null;
  let pending = null;

  function show(state, text) {
    output.dataset.state = state;
    output.textContent = text;
  }

  async function count() {
    if (pending) pending.abort();
    pending = new AbortController();
    show("counting", "Counting…");
    try {
      const response = await fetch(form.dataset.countUrl, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        signal: pending.signal,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.redirected) throw new Error("your session has ended; sign in again");
      const type = response.headers.get("content-type") || "";
      if (!type.startsWith("application/json")) throw new Error(`HTTP ${response.status}`);
      const answer = await response.json();
      if (answer.error) {
        show("error", answer.error.message);
      } else {
        const noun = answer.count === 1 ? "customer" : "customers";
        show("counted", `${answer.count.toLocaleString()} ${noun} selected now`);
      }
    } catch (error) {
      if (error.name !== "AbortError") show("error", `Could not count: ${error.message}`);
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(count, DELAY_MS);
  }

  function fillChannels() {
    const chosen = template.selectedOptions[0];
    if (!chosen || !chosen.value) return;
    const has = new Set((chosen.dataset.channels || "").split(" "));
    const defaults = new Set((chosen.dataset.defaults || "").split(" "));
    for (const box of form.querySelectorAll("input[name=channels]")) {
      box.disabled = !has.has(box.value);
      box.checked = defaults.has(box.value);
    }
  }

  const KIND_OF_INPUT = { segment: "rule", segment_key: "saved" };

  /** Typing a rule or picking a saved segment chooses that kind of recipients too. */
  function segmentChanged(target) {
    const kind = KIND_OF_INPUT[target.name];
    if (kind) form.querySelector(`input[name=segment_kind][value=${kind}]`).checked = true;
    if (kind || target.name === "segment_kind") later();
  }

  form.addEventListener("input", (event) => segmentChanged(event.target));
  form.addEventListener("change", (event) => {
    if (event.target === template) fillChannels();
    // A textarea's `change` comes late, on blur (after the saved segment may have been picked): its
    // `input` events have already counted it.
    if (event.target.tagName !== "TEXTAREA") segmentChanged(event.target);
  });
  if (template.value && !form.querySelector("input[name=channels]:checked")) fillChannels();
  count();
})();
