"""The customer import page (`/ui/customers/import`): writers upload a CSV or JSONL file, see the counts and
download the report of rejected rows; other roles, forged forms and unreadable files are refused."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from ccm.access.models import Role
from tests.ccm.web.conftest import LiveService, SignedIn, csrf_of

UPLOAD = "/ui/customers/import"
CSV_FILE = b"external_id,email,tier\nimp-1,one@example.com,gold\nimp-2,not-an-email,\nimp-3,,silver\n"


def upload(client: httpx.Client, name: str, content: bytes, **fields: str) -> httpx.Response:
    page = client.get(UPLOAD)
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_of(page.text), **fields}
    return client.post(UPLOAD, data=data, files={"file": (name, content, "text/csv")})


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return match.group(1).strip()


def test_a_writer_imports_a_csv_and_downloads_the_report(live: LiveService, signed_in: SignedIn) -> None:
    client = signed_in(Role.SENDER)
    response = upload(client, "crm.csv", CSV_FILE)

    assert response.status_code == 200, response.text
    html = response.text
    assert (text_of(html, "import-rows"), text_of(html, "import-rejected")) == ("3", "1")
    assert text_of(html, "import-imported") == "2 (2 new)"
    link = re.search(r'href="(/ui/customers/import/[0-9a-f]{32}/report\.csv)"', html)
    assert link
    report = client.get(link.group(1))
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert [(r["line"], r["external_id"], r["field"]) for r in rows] == [("3", "imp-2", "email")]
    assert not list(Path(live.settings.data_dir, "imports").glob("*/upload.csv"))  # the upload is not kept
    with live.api() as api:
        stored = api.get("/v1/customers/imp-1").json()
        assert (stored["email"], stored["attributes"]) == ("one@example.com", {"tier": "gold"})
        assert api.get("/v1/customers/imp-2").status_code == 404


def test_all_or_nothing_and_jsonl_by_the_format_choice(live: LiveService, signed_in: SignedIn) -> None:
    client = signed_in(Role.ADMIN)
    refused = upload(
        client,
        "data.txt",
        b'{"external_id": "aon-1"}\n{"external_id": "aon-2", "locale": "??"}\n',
        fmt="jsonl",
        all_or_nothing="true",
    )
    html = refused.text
    assert text_of(html, "import-rejected") == "1" and "nothing was imported" in html
    with live.api() as api:
        assert api.get("/v1/customers/aon-1").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("crm.csv", b"email\na@example.com\n", "no external_id column"),
        ("crm.bin", b"external_id\nx\n", "Choose CSV or JSONL"),
        ("crm.csv", b"external_id\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_files_that_cannot_be_imported_get_a_422_page(
    signed_in: SignedIn, name: str, content: bytes, message: str
) -> None:
    response = upload(signed_in(Role.ADMIN), name, content)
    assert response.status_code == 422
    assert message in response.text


def test_readers_and_forged_forms_are_refused(signed_in: SignedIn) -> None:
    marketer = signed_in(Role.MARKETER)
    assert marketer.get(UPLOAD).status_code == 403
    sender = signed_in(Role.SENDER)
    forged = sender.post(
        UPLOAD, data={"csrf_token": "0" * 64}, files={"file": ("a.csv", b"external_id\nz\n")}
    )
    assert forged.status_code == 403 and "security token" in forged.text
    assert sender.get("/ui/customers/import/" + "0" * 32 + "/report.csv").status_code == 404


@pytest.mark.browser
def test_upload_in_the_browser(page: Page, live: LiveService, tmp_path: Path) -> None:
    page.goto("/ui/login")
    page.fill("input[name=api_key]", live.keys[Role.ADMIN])
    page.click("button[type=submit]")
    page.goto("/ui/customers")
    page.click("#customers-import")
    source = tmp_path / "browser.csv"
    source.write_bytes(b"external_id,locale\nbrowser-1,it\n")
    page.set_input_files("input[name=file]", str(source))
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-imported")).to_have_text("1 (1 new)")
    expect(page.locator("#import-report")).to_have_count(0)


def test_uploads_may_exceed_the_request_limit(live: LiveService, signed_in: SignedIn) -> None:
    rows = "".join(f"big-{n},{'x' * 1200}\n" for n in range(1000))
    content = ("external_id,note\n" + rows).encode()
    assert len(content) > live.settings.max_request_bytes
    response = upload(signed_in(Role.ADMIN), "big.csv", content)
    assert response.status_code == 200, response.text[:300]
    assert text_of(response.text, "import-imported") == "1000 (1000 new)"
