"""The message the email workloads share: the starter invoice email, rendered and composed as ccm sends it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from renderers.email import EmailTemplate, render_email
from renderers.mime import build_email_message

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


LINES = 28
"""Invoice lines per message: the starter's sample has 3; 28 make the issue's ~30 KB email."""


def invoice_template() -> tuple[EmailTemplate, dict[str, Any]]:
    """The starter invoice's email part and its sample data, with `LINES` invoice lines."""
    folder = TEMPLATES / "invoice"
    meta = json.loads((folder / "template.json").read_text())
    template = EmailTemplate(subject=meta["email"]["subject"], mjml=(folder / "email.mjml").read_text())
    data = meta["sample_data"]
    sample = data["invoice"]["lines"]
    data["invoice"]["lines"] = [
        {**sample[n % len(sample)], "description": f"{sample[n % len(sample)]['description']} #{n}"}
        for n in range(LINES)
    ]
    return template, data


def customer(n: int) -> dict[str, Any]:
    """The n-th recipient: every one differs, so no cache can answer for the next."""
    return {
        "external_id": f"c-{n}",
        "email": f"person{n}@example.com",
        "first_name": f"Name{n}",
        "last_name": "Lovelace",
        "locale": "en",
    }


@cache
def invoice_email() -> bytes:
    """The invoice email for one recipient as CRLF bytes, unsigned (~30 KB)."""
    template, data = invoice_template()
    rendered = render_email(template, {"customer": customer(1), **data}, locale="en")
    return build_email_message(
        sender="Billing <billing@example.com>",
        recipient="person1@example.com",
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        message_id="<bench-1@example.com>",
        date=datetime(2026, 12, 1, tzinfo=UTC),
        headers={"List-Unsubscribe": "<https://ccm.example/u/abc>"},
    )
