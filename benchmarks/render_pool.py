"""What bounded rendering costs: the same email render in this process and in the render pool.

Run: .venv/bin/python -m benchmarks.render_pool [--repeat N]
Prints the medians (ms) of the starter invoice email rendered inline (the reference) and through a
`renderers.pool.RenderPool` child under the default limits, the difference (the pool's cost per render:
sending the template and context, returning the result) and the ratio. The aim is under 1 ms added.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.render import median_ms
from renderers.email import EmailTemplate, RenderedEmail, render_email
from renderers.pool import RenderLimits, RenderPool

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CUSTOMER = {"external_id": "c-1", "email": "ada@example.com", "first_name": "Ada", "locale": "it"}


def render(template: EmailTemplate, context: dict[str, object]) -> RenderedEmail:
    return render_email(template, context, locale="it")


def nothing() -> None:
    """An empty task: its round trip is the pool's fixed cost per render."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    invoice = TEMPLATES / "invoice"
    meta = json.loads((invoice / "template.json").read_text())
    context = {"customer": CUSTOMER, **meta["sample_data"]}
    template = EmailTemplate(subject=meta["email"]["subject"], mjml=(invoice / "email.mjml").read_text())
    pool = RenderPool(RenderLimits(), preload=["renderers.email", "benchmarks.render_pool"])
    try:
        inline = median_ms(lambda: render(template, context), args.repeat)
        pooled = median_ms(lambda: pool.run("bench", render, template, context), args.repeat)
        round_trip = median_ms(lambda: pool.run("bench", nothing), args.repeat)
    finally:
        pool.close()
    print(f"{'email render':32} {'median ms':>10}")
    print(f"{'in this process (reference)':32} {inline:10.3f}")
    print(f"{'in the render pool':32} {pooled:10.3f}")
    print(f"{'an empty task in the pool':32} {round_trip:10.3f}")
    print(f"\nadded by the pool: {pooled - inline:.3f} ms per render (ratio {pooled / inline:.2f})")


if __name__ == "__main__":
    main()
