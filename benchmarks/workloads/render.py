"""Workload 1, personalised email renders/s: ccm's email render against the naive path, each recipient
different, the starter invoice email (28 lines).

ccm: `renderers.email.render_email` as a send calls it — the version's Jinja compiled once and reused,
then per recipient MJML (MRML) and CSS inlining, tracked links, the open pixel and the text part.
Naive: per message, parse and compile the Jinja source, render it, compile the MJML, inline the CSS: what
code that caches nothing does (Jinja with the same filters, so both render the same letter; it makes no text
part and tracks no links, so ccm does more per message). No goal: the ratio is reported.

    .venv/bin/python -m benchmarks.workloads.render [--quick]
"""

from __future__ import annotations

import itertools
from typing import Any

import css_inline
import jinja2
import mjml

from benchmarks.workloads.messages import customer, invoice_template
from benchmarks.workloads.result import Result
from benchmarks.workloads.runner import main
from benchmarks.workloads.timing import paired_rates
from renderers.email import EmailTemplate, render_email
from renderers.filters import FILTERS
from renderers.localisation import SETTINGS_KEY, render_settings
from renderers.mjml_compiler import split_inline_styles


def naive_render(template: EmailTemplate, context: dict[str, Any]) -> str:
    """Everything from the source, every time: Jinja compile + render, MJML compile, CSS inline."""
    environment = jinja2.Environment(autoescape=True)
    environment.filters.update(FILTERS)
    assert template.mjml is not None
    source = environment.from_string(template.mjml).render(
        {**context, SETTINGS_KEY: render_settings("en", "UTC")}
    )
    mjml_source, css = split_inline_styles(source)
    return str(css_inline.inline(mjml.mjml2html(mjml_source), extra_css=css or None))


def measure(quick: bool) -> list[Result]:
    """Both paths on a stream of distinct recipients."""
    template, data = invoice_template()
    numbers = itertools.count()

    def ours() -> object:
        n = next(numbers)
        return render_email(
            template,
            {"customer": customer(n), **data},
            locale="en",
            link_rewriter=lambda url: f"https://ccm.example/t/c/{n}-{len(url)}",
            open_pixel_url=f"https://ccm.example/t/o/{n}",
        )

    def naive() -> object:
        return naive_render(template, {"customer": customer(next(numbers)), **data})

    rate, reference = paired_rates(ours, naive, 6.0 if quick else 20.0)
    notes = "ccm also rewrites links, adds the open pixel and writes the text part"
    return [Result("1 render", rate, reference, "emails/s", "naive per message", None, notes)]


if __name__ == "__main__":
    main(measure)
