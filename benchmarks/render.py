"""Render costs per message on this machine: the figures the capacity model in docs/ starts from.

Run: .venv/bin/python benchmarks/render.py [--repeat N]
Prints medians (ms) for each channel's render of the starter templates and the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from renderers.email import EmailTemplate, render_email
from renderers.mime import Attachment, build_email_message
from renderers.pdf import PdfTemplate, render_pdf
from renderers.sms import render_sms

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CUSTOMER = {
    "external_id": "c-1",
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "locale": "it",
}


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # warm caches (compiled templates, fonts)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    invoice = TEMPLATES / "invoice"
    meta = json.loads((invoice / "template.json").read_text())
    context = {"customer": CUSTOMER, **meta["sample_data"]}
    email = EmailTemplate(subject=meta["email"]["subject"], mjml=(invoice / "email.mjml").read_text())
    pdf = PdfTemplate(html=(invoice / "pdf.html").read_text(), css=(invoice / "pdf.css").read_text())
    sms = (invoice / "sms.txt").read_text()
    assets = TEMPLATES / "_assets"
    rendered_pdf = render_pdf(pdf, context, locale="it", assets_dir=assets).data

    rendered = render_email(email, context, locale="it")

    def mime() -> bytes:
        return build_email_message(
            sender="billing@example.com",
            recipient="ada@example.com",
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            message_id="<1@example.com>",
            date=datetime(2026, 1, 1, tzinfo=UTC),
            attachments=[Attachment("invoice.pdf", "application/pdf", rendered_pdf)],
        )

    def email_render() -> object:
        return render_email(email, context, locale="it", link_rewriter=lambda url: url + "?t=1")

    figures = {
        "email render (Jinja+MJML+inline+links+text)": median_ms(email_render, args.repeat),
        "MIME build with PDF attached": median_ms(mime, args.repeat),
        "SMS render + segmentation": median_ms(lambda: render_sms(sms, context, locale="it"), args.repeat),
        "invoice PDF (WeasyPrint)": median_ms(
            lambda: render_pdf(pdf, context, locale="it", assets_dir=assets), max(5, args.repeat // 5)
        ),
        "invoice PDF as PDF/A-3b": median_ms(
            lambda: render_pdf(pdf, context, locale="it", assets_dir=assets, pdf_variant="pdf/a-3b"),
            max(5, args.repeat // 5),
        ),
    }
    email_ms = figures["email render (Jinja+MJML+inline+links+text)"]
    print(f"{'operation':48} {'median ms':>10} {'x email':>8}")
    for name, value in figures.items():
        print(f"{name:48} {value:10.2f} {value / email_ms:8.1f}")
    per_message = email_ms + figures["MIME build with PDF attached"] + figures["invoice PDF (WeasyPrint)"]
    per_core = 1000 / per_message
    print(f"\ninvoice email with its PDF, rendered on one core: {per_core:.1f} messages/s")


if __name__ == "__main__":
    main()
