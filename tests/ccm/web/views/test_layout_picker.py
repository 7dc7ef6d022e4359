"""The draft form's layout picker: a published layout version chosen in the form is previewed unsaved,
pinned when the draft is saved, and refused beside the field when it cannot be pinned."""

from __future__ import annotations

from typing import Any

import pytest

from ccm.access.models import Role
from tests.ccm.conftest import Service, publish_reviewed
from tests.ccm.web.views.test_draft_form import api_version, field_note, save_draft
from tests.ccm.web.views.test_editor import latest_version, live, signed_in_form

BRAND = {
    "key": "brand",
    "name": "Brand",
    "email": "<html><body><h1>ACME masthead</h1>{% block content %}{% endblock %}</body></html>",
}
NOTICE = {
    "key": "notice",
    "name": "Notice",
    "category": "transactional",
    "parts": {"email": {"subject": "Notice", "html": "<p>Dear {{ customer.first_name }}</p>"}},
    "sample_data": {"customer": {"first_name": "Ada"}},
}
FORM = {
    "email_subject": "Notice",
    "email_body_kind": "html",
    "email_body": "<p>Dear {{ customer.first_name }}</p>",
}


@pytest.fixture
def branded(service: Service) -> Service:
    """Layout `brand` v1 live, and a transactional template `notice` without a layout."""
    headers = service.headers(Role.MARKETER)
    assert service.client.post("/v1/layouts", json=BRAND, headers=headers).status_code == 201
    publish_reviewed(service, "brand", 1, kind="layout")
    assert service.client.post("/v1/templates", json=NOTICE, headers=headers).status_code == 201
    return service


def test_the_picker_offers_published_layout_versions(branded: Service) -> None:
    signed_in_form(branded, key="notice")

    page = branded.client.get("/ui/templates/notice").text

    assert '<select name="layout">' in page
    assert '<option value="brand@1">brand v1 (live)</option>' in page


def test_a_layout_chosen_is_previewed_unsaved_then_pinned_on_save(branded: Service) -> None:
    fields = {**signed_in_form(branded, key="notice"), **FORM}
    before = latest_version(branded, key="notice")

    unwrapped = live(branded, {**fields, "layout": ""}, key="notice")
    wrapped = live(branded, {**fields, "layout": "brand@1"}, key="notice")

    assert unwrapped.status_code == 200 and wrapped.status_code == 200, wrapped.text
    assert "ACME masthead" not in unwrapped.text
    assert "ACME masthead" in wrapped.text and "Dear Ada" in wrapped.text
    assert latest_version(branded, key="notice") == before
    saved = save_draft(branded, {**fields, "layout": "brand@1"}, key="notice")
    assert saved.status_code == 303, saved.text
    version: dict[str, Any] = api_version(branded, before + 1, key="notice")
    assert version["layout"] == {"key": "brand", "version": 1}
    page = branded.client.get(f"/ui/templates/notice?version={before + 1}").text
    assert '<option value="brand@1" selected>' in page


@pytest.mark.parametrize(
    ("choice", "reason"),
    [("brand@7", "no published version 7"), ("plain", "key@version"), ("ghost@1", "does not exist")],
)
def test_a_layout_that_cannot_be_pinned_is_refused_beside_the_picker(
    branded: Service, choice: str, reason: str
) -> None:
    fields = {**signed_in_form(branded, key="notice"), **FORM, "layout": choice}
    before = latest_version(branded, key="notice")

    previewed = live(branded, fields, key="notice")
    saved = save_draft(branded, fields, key="notice")

    assert previewed.status_code == 422 and reason in previewed.text, previewed.text
    assert 'data-input="layout"' in previewed.text
    assert saved.status_code == 422 and reason in field_note(saved.text, "layout")
    assert latest_version(branded, key="notice") == before
