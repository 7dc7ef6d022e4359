/*
 * A campaign page's progress, kept current: no dependencies, no build step.
 *
 * While the campaign moves (`data-moving="true"`: fanning out, or messages still on their way) the section
 * `#campaign-progress` polls `data-progress-url` every two seconds and redraws its numbers. When the status or
 * the buttons that apply change, the page is reloaded instead, so its forms match the campaign again.
 */
"use strict";

(() => {
  const EVERY_MS = 2000;
  const section = document.getElementById("campaign-progress");
  if (!section || section.dataset.moving !== "true") return;

  function field(name) {
    return section.querySelector(`[data-field="${name}"]`);
  }

  /** `{reason: count}` as the page draws it: one `name: count` item each, or `empty` when there are none. */
  function drawCounts(target, counts, empty) {
    const names = Object.keys(counts).sort();
    target.replaceChildren();
    if (!names.length) {
      target.textContent = empty;
      return;
    }
    for (const name of names) {
      const item = document.createElement("span");
      item.className = "kv";
      item.textContent = `${name}: ${counts[name]}`;
      target.append(item, " ");
    }
  }

  function draw(campaign) {
    field("targeted").textContent = String(campaign.progress.targeted);
    field("queued").textContent = String(campaign.progress.queued);
    drawCounts(field("skipped"), campaign.progress.skipped, "0");
    drawCounts(field("messages"), campaign.progress.messages, "–");
    if (!campaign.moving) field("moving").textContent = "Settled.";
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.progressUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const type = response.headers.get("content-type") || "";
      if (response.redirected || !type.startsWith("application/json")) return; // signed out: stop
      const campaign = await response.json();
      const changed =
        campaign.status !== section.dataset.status || campaign.actions.join(" ") !== section.dataset.actions;
      if (changed) {
        window.location.reload();
        return;
      }
      draw(campaign);
      if (campaign.moving) setTimeout(poll, EVERY_MS);
    } catch (error) {
      setTimeout(poll, EVERY_MS * 2); // a network blip: try again, more slowly
    }
  }

  setTimeout(poll, EVERY_MS);
})();
