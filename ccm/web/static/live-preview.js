/*
 * The editor page's live preview and lint, for plain textareas: no dependencies, no build step.
 *
 * A form marked `data-live-preview` is posted (urlencoded, with its CSRF token) to `data-preview-url` about
 * 400 ms after the author stops typing; the server answers with the preview partials' HTML, which replaces
 * the element named by `data-preview-target`. Nothing is saved. When `data-lint-url` is set the same fields
 * go there too and the issues are shown beside the fields they concern. Errors that name a field (an element
 * with `data-input`) are repeated next to that field, so they appear where the author is looking.
 *
 * The code editor bundle (ccm/web/editor/editor.js), when built, only replaces textareas with CodeMirror:
 * it keeps each textarea's value current and dispatches `input` events, so this script works the same with
 * or without it, and it listens for the `ccm:diagnostics` events sent here to mark lines in the editor.
 */
"use strict";

(() => {
  const DELAY_MS = 400;

  /** The element after which notes about a field go: its label, or the code editor that replaced it. */
  function anchorOf(input) {
    const box = input.closest("label") || input;
    const next = box.nextElementSibling;
    return next && next.classList.contains("cm-editor") ? next : box;
  }

  /** Items grouped by the form input they name (`data-input`), read from a server-rendered fragment. */
  function itemsByInput(root) {
    const grouped = new Map();
    for (const item of root.querySelectorAll("[data-input]")) {
      const name = item.dataset.input;
      if (!name) continue;
      const line = Number(item.dataset.line) || null;
      const entry = {
        line,
        message: item.dataset.message || item.textContent.trim(),
        severity: item.dataset.severity || "error",
      };
      grouped.set(name, [...(grouped.get(name) || []), entry]);
    }
    return grouped;
  }

  class LivePreview {
    constructor(form) {
      this.form = form;
      this.target = document.querySelector(form.dataset.previewTarget);
      this.lintTarget = form.dataset.lintTarget ? document.querySelector(form.dataset.lintTarget) : null;
      this.status = form.querySelector("[data-preview-status]");
      this.timer = null;
      this.controller = null;
      this.pdfUrls = [];
      this.notes = { preview: new Map(), lint: new Map() };
      form.addEventListener("input", () => this.schedule());
      form.addEventListener("change", (event) => {
        if (event.target.matches("select, input[type=checkbox]")) this.schedule(); // text already sent `input`
      });
      if (form.dataset.lintUrl) this.refresh({ previewing: false }); // the saved content's issues at once
    }

    schedule() {
      clearTimeout(this.timer);
      this.say("pending", "Preview updating…");
      this.timer = setTimeout(() => this.refresh(), DELAY_MS);
    }

    say(state, text) {
      this.form.dataset.previewState = state;
      if (this.status) this.status.textContent = text;
    }

    async refresh({ previewing = true } = {}) {
      if (this.controller) this.controller.abort();
      this.controller = new AbortController();
      const signal = this.controller.signal;
      const body = new URLSearchParams(new FormData(this.form));
      const jobs = previewing ? [this.preview(body, signal)] : [];
      if (this.form.dataset.lintUrl) jobs.push(this.lint(body, signal));
      try {
        await Promise.all(jobs);
      } catch (error) {
        if (error.name !== "AbortError") this.say("failed", `Preview unavailable: ${error.message}`);
      }
    }

    async post(url, body, signal) {
      const response = await fetch(url, {
        method: "POST",
        body,
        signal,
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.redirected) throw new Error("your session has ended; sign in again");
      if (response.status !== 200 && response.status !== 422) throw new Error(`HTTP ${response.status}`);
      return { ok: response.status === 200, html: await response.text() };
    }

    async preview(body, signal) {
      const { ok, html } = await this.post(this.form.dataset.previewUrl, body, signal);
      const checked = [...this.target.querySelectorAll("input:checked")].map((input) => input.id);
      this.target.innerHTML = html;
      for (const id of checked) {
        const input = id && document.getElementById(id);
        if (input) input.checked = true;
      }
      this.framePdfs();
      this.annotate("preview", itemsByInput(this.target));
      this.say(ok ? "fresh" : "failed", ok ? "Preview shows your unsaved changes." : "Preview failed: see the error.");
    }

    async lint(body, signal) {
      const { html } = await this.post(this.form.dataset.lintUrl, body, signal);
      const holder = document.createElement("div");
      holder.innerHTML = html;
      if (this.lintTarget) this.lintTarget.innerHTML = html;
      this.annotate("lint", itemsByInput(holder));
    }

    /** A PDF of unsaved content arrives inline (base64) and is framed from a blob: URL of this page. */
    framePdfs() {
      for (const url of this.pdfUrls) URL.revokeObjectURL(url);
      this.pdfUrls = [];
      for (const frame of this.target.querySelectorAll("iframe[data-pdf-base64]")) {
        const bytes = Uint8Array.from(atob(frame.dataset.pdfBase64), (c) => c.charCodeAt(0));
        const url = URL.createObjectURL(new Blob([bytes], { type: "application/pdf" }));
        this.pdfUrls.push(url);
        frame.src = url;
        const link = frame.parentElement.querySelector("a[data-pdf-link]");
        if (link) link.href = url;
      }
    }

    /** Show one source's items (preview errors or lint issues) beside their fields, replacing its last. */
    annotate(source, grouped) {
      const stale = source === "preview" ? ".field-note[data-source=preview], .field-note[data-source=saved]" : `.field-note[data-source="${source}"]`;
      for (const note of this.form.querySelectorAll(stale)) note.remove();
      this.notes[source] = grouped;
      for (const [name, items] of grouped) {
        const input = this.form.elements.namedItem(name);
        if (!(input instanceof HTMLElement)) continue;
        const list = document.createElement("ul");
        list.className = `field-note ${source}`;
        list.dataset.source = source;
        list.dataset.for = name;
        list.setAttribute("role", source === "preview" ? "alert" : "status");
        for (const item of items) {
          const entry = document.createElement("li");
          entry.className = `severity-${item.severity}`;
          entry.textContent = item.line ? `line ${item.line}: ${item.message}` : item.message;
          list.append(entry);
        }
        anchorOf(input).after(list);
      }
      this.signalEditors();
    }

    /** Tell each code editor the lines to mark (both sources together); plain textareas ignore it. */
    signalEditors() {
      for (const textarea of this.form.querySelectorAll("textarea[data-editor]")) {
        const items = [
          ...(this.notes.preview.get(textarea.name) || []),
          ...(this.notes.lint.get(textarea.name) || []),
        ];
        const invalid = items.some((item) => item.severity === "error");
        if (invalid) textarea.setAttribute("aria-invalid", "true");
        else textarea.removeAttribute("aria-invalid");
        textarea.dispatchEvent(new CustomEvent("ccm:diagnostics", { detail: items }));
      }
    }
  }

  for (const form of document.querySelectorAll("form[data-live-preview]")) new LivePreview(form);
})();
