/*
 * The code editor of the template pages: CodeMirror 6 on every `<textarea data-editor="html|css|json|text">`.
 *
 * Bundled by `make editor` (esbuild) into ccm/web/static/editor/editor.js; the page loads it only when it was
 * built. It only upgrades textareas: each keeps its value (so the form posts as before) and gets an `input`
 * event on every change, which the dependency-free live preview (ccm/web/static/live-preview.js) listens to.
 * That script sends `ccm:diagnostics` events with the preview's errors and the lint issues; they are shown
 * here as marks on their lines.
 */
import { css } from "@codemirror/lang-css";
import { html } from "@codemirror/lang-html";
import { json } from "@codemirror/lang-json";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, basicSetup } from "codemirror";

const LANGUAGES = {
  html: () => [html()],
  css: () => [css()],
  json: () => [json()],
  text: () => [EditorView.lineWrapping],
};

/** The textarea's label text, so screen readers name the editor as they named the field. */
function labelOf(textarea) {
  const label = textarea.closest("label");
  return label ? label.firstChild.textContent.trim() : textarea.name;
}

/** Diagnostics on whole lines (the server reports lines, not columns); lines past the end go to the last. */
function toDiagnostics(state, items) {
  return items.map((item) => {
    const line = state.doc.line(Math.min(Math.max(item.line || 1, 1), state.doc.lines));
    const severity = ["error", "warning", "info"].includes(item.severity) ? item.severity : "info";
    return { from: line.from, to: line.to, severity, message: item.message };
  });
}

function upgrade(textarea) {
  const language = LANGUAGES[textarea.dataset.editor] || LANGUAGES.text;
  const mirror = EditorView.updateListener.of((update) => {
    if (!update.docChanged) return;
    textarea.value = update.state.doc.toString();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        basicSetup,
        language(),
        lintGutter(),
        mirror,
        EditorView.contentAttributes.of({ "aria-label": labelOf(textarea), "data-for": textarea.name }),
      ],
    }),
  });
  view.dom.dataset.for = textarea.name;
  (textarea.closest("label") || textarea).after(view.dom);
  textarea.hidden = true;
  textarea.dataset.upgraded = "codemirror";
  textarea.addEventListener("ccm:diagnostics", (event) => {
    view.dispatch(setDiagnostics(view.state, toDiagnostics(view.state, event.detail)));
  });
}

for (const textarea of document.querySelectorAll("textarea[data-editor]")) upgrade(textarea);
// Fields added later (a locale variant's fieldset, by locale-variants.js) get an editor too.
document.addEventListener("ccm:fields-added", (event) => {
  for (const textarea of event.target.querySelectorAll("textarea[data-editor]:not([data-upgraded])")) {
    upgrade(textarea);
  }
});
document.documentElement.dataset.codeEditor = "codemirror";
