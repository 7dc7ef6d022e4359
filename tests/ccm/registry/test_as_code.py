"""Templates as code: `pull` writes the registry's latest versions as folders, `push` saves what differs as
drafts and never publishes; pull -> push -> pull changes nothing, and a bad folder saves nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ccm.access.identity import CLI_IDENTITY
from ccm.access.models import Role
from ccm.database import session_scope
from ccm.registry.as_code.format import MalformedFolder
from ccm.registry.as_code.sync import pull, push
from tests.ccm.conftest import Service, publish_reviewed

BRAND = {
    "key": "brand",
    "name": "Brand",
    "email": "<html><body><h1>ACME</h1>{% block content %}{% endblock %}{% include 'legal' %}</body></html>",
    "pdf": "<html><body><h1>ACME letterhead</h1>{% block content %}{% endblock %}</body></html>",
}
LEGAL = {
    "key": "legal",
    "name": "Legal footer",
    "source": "<p>ACME Ltd, {{ customer.first_name }}: {{ order.ref }}</p>\n",
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["order"],
    "properties": {"order": {"type": "object", "properties": {"id": {"type": "string"}}}},
}
NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "description": "An order notice in three languages",
    "parts": {
        "email": {
            "subject": "Order {{ order.id }}",
            "html": "<p>Dear {{ customer.first_name }}</p>\r\n<p>Order {{ order.id }}</p>",
            "text": "Dear {{ customer.first_name }}, order {{ order.id }}",
        },
        "sms": {"text": "Order {{ order.id }} {% include 'legal' %}"},
    },
    "locales": {
        "it": {"sms": {"text": "Ordine {{ order.id }}"}, "email": {"subject": "Ordine {{ order.id }}"}},
        "de_CH": {"email": {"subject": "Bestellung {{ order.id }}", "text": None}},
    },
    "sample_data": {"order": {"id": "A-1", "total": 12.5}},
    "schema": SCHEMA,
    "layout": {"key": "brand", "version": 1},
}
PLAIN = {
    "key": "plain",
    "name": "Plain",
    "category": "marketing",
    "parts": {"sms": {"text": "Hi {{ customer.first_name | default('you') }}"}},
    "schema": False,
}


def _post(service: Service, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    response = service.client.post(path, json=body, headers=headers or service.headers(Role.MARKETER))
    assert response.status_code in (200, 201), response.text
    return response.json()


def _get(service: Service, path: str) -> Any:
    response = service.client.get(path, headers=service.headers())
    return response.json() if response.status_code == 200 else None


@pytest.fixture
def registry(service: Service) -> Service:
    """The starter templates plus a live partial and layout, and two templates using what ccm offers:
    locale variants (one with a field set to null), a schema, none (`false`), a layout pin, an include."""
    _post(service, "/v1/partials", LEGAL)
    publish_reviewed(service, "legal", 1, kind="partial")
    _post(service, "/v1/layouts", BRAND)
    publish_reviewed(service, "brand", 1, kind="layout")
    _post(service, "/v1/templates", NOTICE)
    _post(service, "/v1/templates", PLAIN)
    return service


def _pull(service: Service, root: Path) -> list[str]:
    with session_scope(service.runtime.engine) as session:
        return pull(session, root)


def _push(service: Service, root: Path, author: str = CLI_IDENTITY) -> list[str]:
    with session_scope(service.runtime.engine) as session:
        return push(session, root, author)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The folder pulled to and pushed from (tmp_path also holds the service's data folder)."""
    return tmp_path / "repo"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_pull_writes_the_folder_format(registry: Service, root: Path) -> None:
    lines = _pull(registry, root)
    assert "template notice: v1 (draft) written" in lines
    assert (
        "layout brand: v1 (published) written" in lines and "partial legal: v1 (published) written" in lines
    )
    notice = root / "notice"
    meta = json.loads((notice / "template.json").read_text())
    assert meta["layout"] == {"key": "brand", "version": 1}
    assert meta["email"] == {"attach_pdf": False, "subject": "Order {{ order.id }}"}
    assert "schema" not in meta and json.loads((notice / "schema.json").read_text()) == SCHEMA
    assert (notice / "email.html").read_bytes() == NOTICE["parts"]["email"]["html"].encode()  # type: ignore[index]
    assert (notice / "locales/it/sms.txt").read_text() == "Ordine {{ order.id }}"
    assert json.loads((notice / "locales/it/template.json").read_text()) == {
        "email": {"subject": "Ordine {{ order.id }}"}
    }
    assert json.loads((notice / "locales/de-CH/template.json").read_text()) == {
        "email": {"subject": "Bestellung {{ order.id }}", "text": None}
    }
    assert json.loads((root / "plain/template.json").read_text())["schema"] is False
    assert (root / "_layouts/brand/pdf.html").read_text() == BRAND["pdf"]
    assert (root / "_partials/legal/source.jinja").read_text() == LEGAL["source"]
    assert json.loads((root / "_partials/legal/partial.json").read_text()) == {
        "key": "legal",
        "name": "Legal footer",
    }
    assert all(p.read_text().endswith("}\n") for p in root.rglob("*.json"))


def test_pull_push_pull_is_a_no_op(registry: Service, root: Path) -> None:
    written = _pull(registry, root)
    before = _tree(root)
    lines = _push(registry, root)
    assert len(lines) == len(written) and all(": unchanged (v1)" in line for line in lines), lines
    assert _get(registry, "/v1/templates/notice")["latest_version"] == 1
    assert _get(registry, "/v1/layouts/brand")["latest_version"] == 1
    assert all(line.endswith(" unchanged") for line in _pull(registry, root))
    assert _tree(root) == before


def test_pushed_edits_are_new_drafts_and_nothing_goes_live(registry: Service, root: Path) -> None:
    _pull(registry, root)
    (root / "notice/locales/it/sms.txt").write_text("Ordine {{ order.id }} spedito")
    (root / "_partials/legal/source.jinja").write_text("<p>ACME Ltd</p>")
    _post(registry, "/v1/templates/plain/versions/1/submit")
    _post(registry, "/v1/templates/plain/versions/1/approve", headers=registry.reviewer_headers())
    _post(registry, "/v1/templates/plain/versions/1/publish")
    (root / "plain/sms.txt").write_text("Hello {{ customer.first_name | default('you') }}")
    brand = (root / "_layouts/brand/layout.json").read_bytes()
    (root / "_layouts/brand/layout.json").write_text('{"name": "Brand 2"}')

    lines = _push(registry, root, author="user:42")
    assert "partial legal: new draft v2" in lines and "template notice: new draft v2" in lines
    assert "template plain: new draft v2" in lines
    assert (
        "layout brand: unchanged (v1); its name differs from the registry's ('Brand'), which push keeps"
        in lines
    )

    plain = _get(registry, "/v1/templates/plain")
    assert plain["published_version"] == 1 and plain["latest"]["status"] == "draft"
    assert plain["latest"]["created_by"] == "user:42" and plain["latest"]["schema"] is None
    notice = _get(registry, "/v1/templates/notice")["latest"]
    assert notice["locales"]["it"]["sms"]["text"] == "Ordine {{ order.id }} spedito"
    assert notice["partials"] == {"legal": 1}  # pinned to the live one: the pushed v2 is a draft
    assert _get(registry, "/v1/partials/legal")["published_version"] == 1
    (root / "_layouts/brand/layout.json").write_bytes(brand)
    edited = _tree(root)
    assert all(": unchanged (v2)" in line for line in _push(registry, root) if "v2" in line)
    _pull(registry, root)
    assert _tree(root) == edited


def test_a_new_folder_is_created_as_a_draft(registry: Service, root: Path) -> None:
    _pull(registry, root)
    shutil.copytree(root / "notice", root / "notice-b")
    (root / "notice-b/schema.json").unlink()  # one is proposed, from the parts and the pinned library
    meta = json.loads((root / "notice-b/template.json").read_text())
    (root / "notice-b/template.json").write_text(json.dumps({**meta, "key": "notice-b"}))
    shutil.copytree(root / "_partials/legal", root / "_partials/small-print")
    (root / "_partials/small-print/partial.json").write_text('{"name": "Small print"}')

    lines = _push(registry, root)
    assert (
        "template notice-b: created (draft v1)" in lines
        and "partial small-print: created (draft v1)" in lines
    )
    created = _get(registry, "/v1/templates/notice-b")
    assert created["published_version"] is None and created["latest"]["created_by"] == CLI_IDENTITY
    assert set(created["latest"]["schema"]["properties"]["order"]["properties"]) == {"id", "ref"}
    assert created["latest"]["locales"] == _get(registry, "/v1/templates/notice")["latest"]["locales"]
    assert _get(registry, "/v1/partials/small-print")["published_version"] is None
    again = _push(registry, root)
    assert "template notice-b: unchanged (v1)" in again and "partial small-print: unchanged (v1)" in again


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)

    return change


def _edit_meta(**changes: Any) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        meta = json.loads((root / "notice/template.json").read_text())
        (root / "notice/template.json").write_text(json.dumps({**meta, **changes}))

    return change


@pytest.mark.parametrize(
    ("change", "named", "problem"),
    [
        (_write("notice/template.json", '{"name": '), "notice/template.json", "not JSON"),
        (_write("notice/sms.text", "typo"), "notice/sms.text", "not part of the format"),
        (
            _write("notice/locales/it/sms.txt", "Ciao {{ x }"),
            "notice/locales/it/sms.txt",
            "locales.it.sms.text",
        ),
        (_write("notice/locales/de-CH/email.txt", "hi"), "notice/locales/de-CH/email.txt", "give it once"),
        (_write("notice/locales/xx-ZZ/sms.txt", "hi"), "notice/locales", "'xx-ZZ' is not a locale"),
        (_write("notice/schema.json", '{"type": "nothing"}'), "notice/schema.json", "schema"),
        (_write("_layouts/brand/email.html", "<html></html>"), "_layouts/brand/email.html", "content"),
        (_edit_meta(key="other"), "notice/template.json", "folder is named 'notice'"),
        (_edit_meta(layout={"key": "brand", "version": 9}), "notice/template.json", "no published version 9"),
        (_edit_meta(email={"subject": "a\nb"}), "notice/template.json", "parts.email.subject"),
        (_edit_meta(colour="red"), "notice/template.json", "unknown key 'colour'"),
    ],
)
def test_a_malformed_folder_is_named_and_nothing_is_saved(
    registry: Service, root: Path, change: Callable[[Path], None], named: str, problem: str
) -> None:
    _pull(registry, root)
    shutil.copytree(root / "plain", root / "fresh")  # sorted before notice: saved first, then undone
    (root / "fresh/template.json").write_text(json.dumps({"name": "Fresh", "category": "transactional"}))
    change(root)
    with pytest.raises(MalformedFolder) as refused:
        _push(registry, root)
    assert refused.value.message.startswith(f"{root / named}: "), refused.value.message
    assert problem in refused.value.message
    assert _get(registry, "/v1/templates/fresh") is None
    assert _get(registry, "/v1/layouts/brand")["latest_version"] == 1


def test_a_template_topic_is_pulled_and_a_new_folder_keeps_it(registry: Service, root: Path) -> None:
    topic = {"key": "news", "name": "News", "channels": ["email", "sms"]}
    _post(registry, "/v1/topics", topic)
    _post(registry, "/v1/templates", {**PLAIN, "key": "promo", "category": "marketing", "topic": "news"})

    _pull(registry, root)
    meta = json.loads((root / "promo/template.json").read_text())
    assert meta["topic"] == "news"
    assert "topic" not in json.loads((root / "notice/template.json").read_text())
    shutil.copytree(root / "promo", root / "promo-b")
    (root / "promo-b/template.json").write_text(json.dumps({**meta, "key": "promo-b"}))

    lines = _push(registry, root)
    assert "template promo: unchanged (v1)" in lines and "template promo-b: created (draft v1)" in lines
    assert _get(registry, "/v1/templates/promo-b")["topic"] == "news"
