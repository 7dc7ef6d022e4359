/*
 * The draft form's "Add locale" button, without a round trip: copies the page's hidden variant fieldset
 * (`<template data-locale-template>`, its inputs named `locale:__LOCALE__:…`) for the tag typed, and offers
 * the new locale in the live preview's locale select. No dependencies, no build step.
 *
 * Without this script the button posts the form and the server answers the page with the fieldset added
 * (nothing saved). Tags are tidied as the server does (`de_ch` -> `de-CH`); whether Babel knows the locale
 * is the server's to say, beside the fieldset, when the preview or the save is refused.
 */
"use strict";

(() => {
  const TAG = /^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$/;
  const BLANK = "__LOCALE__";

  /** `de_ch` -> `de-CH`, or null for what is not a language with an optional region. */
  function tidy(typed) {
    const match = TAG.exec(typed.trim());
    if (!match) return null;
    const language = match[1].toLowerCase();
    return match[2] ? `${language}-${match[2].toUpperCase()}` : language;
  }

  /** The blank variant's copy, its names, label and marker carrying `tag`. */
  function variantFor(template, tag) {
    const copy = template.content.firstElementChild.cloneNode(true);
    copy.dataset.locale = tag;
    for (const element of copy.querySelectorAll("[name]")) {
      element.setAttribute("name", element.getAttribute("name").replace(BLANK, tag));
    }
    const label = copy.querySelector("[data-locale-label]");
    if (label) label.textContent = tag;
    return copy;
  }

  function offerInPreview(form, tag) {
    const select = form.querySelector("select[name=preview_locale]");
    if (!select || [...select.options].some((option) => option.value === tag)) return;
    select.append(new Option(tag, tag));
  }

  function setUp(form) {
    const section = form.querySelector("[data-locale-variants]");
    const input = form.querySelector("input[name=new_locale]");
    const button = form.querySelector("button[name=add_locale]");
    if (!section || !input || !button) return;
    const list = section.querySelector("[data-locale-list]");
    const template = section.querySelector("template[data-locale-template]");

    const add = () => {
      const tag = tidy(input.value);
      input.setCustomValidity(tag ? "" : "Type a language with an optional region, like it or de-CH.");
      if (!tag) return input.reportValidity();
      const existing = [...list.children].find((variant) => variant.dataset.locale === tag);
      const variant = existing || list.appendChild(variantFor(template, tag));
      if (!existing) variant.dispatchEvent(new CustomEvent("ccm:fields-added", { bubbles: true }));
      offerInPreview(form, tag);
      input.value = "";
      variant.open = true;
      variant.querySelector("input, textarea")?.focus();
      return true;
    };
    button.addEventListener("click", (event) => {
      event.preventDefault();
      add();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter here adds the locale, not saves the draft
      add();
    });
    input.addEventListener("input", (event) => {
      event.stopPropagation(); // typing a tag changes nothing to preview
      input.setCustomValidity("");
    });
  }

  for (const form of document.querySelectorAll("form[data-live-preview]")) setUp(form);
})();
