"""The layout and partial pages: lists with a create form for writers, an item's page with its versions,
source, review (four-eyes as in the API), diff against the live version, new drafts and rollback."""

from __future__ import annotations

import html

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from ccm.access.models import Role
from tests.ccm.conftest import Service
from tests.ccm.web.conftest import csrf_of, sign_in

FOOTER = "<p>ACME Ltd</p>\r\n<p>Thanks {{ name }}</p>\r\n"
SHELL = "<main>{% block content %}{% endblock %}</main>"


def _client(service: Service, key: str) -> TestClient:
    """A browser of its own, signed in with `key`."""
    client = TestClient(service.client.app, follow_redirects=False)
    sign_in(client, key)
    return client


def _create_footer(author: TestClient) -> None:
    page = author.get("/ui/partials").text
    form = {"csrf_token": csrf_of(page), "key": "footer", "name": "Footer", "source": FOOTER}
    created = author.post("/ui/partials", data=form)
    assert created.status_code == 303 and created.headers["location"] == "/ui/partials/footer"


def _post(client: TestClient, page_url: str, action: str, **data: str) -> httpx.Response:
    """Post one of the page's forms, with the page's CSRF token."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={"csrf_token": token, **data})


@pytest.fixture
def author(service: Service) -> TestClient:
    return _client(service, service.keys[Role.MARKETER])


def test_the_lists_are_in_the_navigation_and_writers_get_a_create_form(service: Service) -> None:
    reader = _client(service, service.keys[Role.COMPLIANCE])
    writer = _client(service, service.keys[Role.MARKETER])

    for path, title in (("/ui/layouts", "Layouts"), ("/ui/partials", "Partials")):
        seen = reader.get(path)
        assert seen.status_code == 200 and f"<h1>{title}</h1>" in seen.text
        assert f'<a href="{path}" aria-current="page">{title}</a>' in seen.text
        assert 'id="new-item"' not in seen.text
        form = writer.get(path).text
        assert 'id="new-item"' in form and f'action="{path}"' in form and 'name="csrf_token"' in form
    assert writer.get("/ui/layouts").text.count('data-editor="html"') == 2  # email and pdf
    assert writer.get("/ui/partials").text.count('data-editor="html"') == 1
    assert _client(service, service.keys[Role.SENDER]).get("/ui/templates").text.count("/ui/partials") == 1


def test_a_partial_is_created_and_shown_with_its_source(service: Service, author: TestClient) -> None:
    _create_footer(author)

    page = author.get("/ui/partials/footer")
    listed = author.get("/ui/partials").text

    assert page.status_code == 200
    assert html.escape("<p>Thanks {{ name }}</p>") in page.text  # stored with LF, shown escaped
    assert "Submit v1 for review" in page.text and 'id="new-draft"' in page.text
    assert "No version is live yet." in page.text and "saved as" in page.text
    assert 'href="/ui/partials/footer"' in listed and "<td>v1</td>" in listed
    api = service.client.get("/v1/partials/footer", headers=service.headers()).json()
    assert api["versions"][0]["content"] == {"source": FOOTER.replace("\r\n", "\n")}


@pytest.mark.parametrize(
    ("path", "form", "named"),
    [
        (
            "/ui/partials",
            {"key": "p", "name": "P", "source": "{{ name | shout }}"},
            "No filter named 'shout'",
        ),
        ("/ui/partials", {"key": "p", "name": "P", "source": ""}, "Source: Value should have at least 1"),
        ("/ui/partials", {"key": "Bad Key", "name": "P", "source": "x"}, "key: String should match pattern"),
        ("/ui/layouts", {"key": "l", "name": "L", "email": "<main></main>"}, "{% block content %}"),
        ("/ui/layouts", {"key": "l", "name": "L", "email": " ", "pdf": ""}, "needs an 'email' or a 'pdf'"),
    ],
)
def test_a_refused_create_is_shown_again_with_the_reason(
    author: TestClient, path: str, form: dict[str, str], named: str
) -> None:
    refused = _post(author, path, path, **form)

    assert refused.status_code == 422
    text = refused.text
    assert "Not saved:" in text and escape(named) in text
    assert f'value="{html.escape(form["key"])}"' in text  # the input is kept
    assert author.get(path).text.count("<td><a href") == 0  # nothing was saved


def test_a_key_taken_already_is_refused(author: TestClient) -> None:
    _create_footer(author)

    again = _post(author, "/ui/partials", "/ui/partials", key="footer", name="Again", source="x")

    assert again.status_code == 422 and escape("partial 'footer' already exists") in again.text


def test_a_form_without_its_csrf_token_is_refused(author: TestClient) -> None:
    refused = author.post("/ui/partials", data={"key": "p", "name": "P", "source": "x"})

    assert refused.status_code == 403 and "Form expired" in refused.text
    assert "No partials yet." in author.get("/ui/partials").text


def test_submit_four_eyes_approval_and_publish_in_the_browser(service: Service, author: TestClient) -> None:
    _create_footer(author)
    page_url = "/ui/partials/footer?version=1"
    submitted = _post(author, page_url, "/ui/partials/footer/versions/1/submit", comment="new footer")
    assert submitted.status_code == 303
    page = author.get(page_url).text
    assert "Awaiting review by a marketer or admin other than you" in page and "Approve v1" not in page

    own = _post(author, page_url, "/ui/partials/footer/versions/1/approve")

    assert own.status_code == 403
    assert "someone else must review it (four-eyes)" in own.text
    reviewer = _client(service, service.reviewer)
    assert "Approve v1" in reviewer.get(page_url).text
    approved = _post(reviewer, page_url, "/ui/partials/footer/versions/1/approve", comment="fine")
    assert approved.status_code == 303
    page = author.get(page_url).text
    assert "Publish v1" in page and "fine" in page and "new footer" in page
    published = _post(author, page_url, "/ui/partials/footer/versions/1/publish")
    assert published.status_code == 303
    assert "v1 is the live version." in author.get(page_url).text
    api = service.client.get("/v1/partials/footer", headers=service.headers()).json()
    assert api["published_version"] == 1


def test_a_draft_is_refused_publishing_until_approved(author: TestClient) -> None:
    _create_footer(author)

    refused = _post(author, "/ui/partials/footer", "/ui/partials/footer/versions/1/publish")

    assert refused.status_code == 409 and "goes live only once approved" in refused.text


def test_a_new_draft_is_diffed_against_the_live_version_and_rolled_back(
    service: Service, author: TestClient
) -> None:
    _create_footer(author)
    _live(service, "footer", 1)

    saved = _post(
        author, "/ui/partials/footer", "/ui/partials/footer/versions", source="<p>Cheers {{ name }}</p>"
    )

    assert saved.status_code == 303
    assert saved.headers["location"] == "/ui/partials/footer?version=2"
    page = author.get("/ui/partials/footer?version=2").text
    assert "From the live v1 to v2:" in page
    assert '<span class="diff-add">+&lt;p&gt;Cheers {{ name }}&lt;/p&gt;</span>' in page
    assert '<span class="diff-del">-&lt;p&gt;Thanks {{ name }}&lt;/p&gt;</span>' in page
    assert (
        "Roll back to v2" not in page
        and "Roll back to v1" in author.get("/ui/partials/footer?version=1").text
    )

    rolled = _post(author, "/ui/partials/footer?version=1", "/ui/partials/footer/rollback", to="1")

    assert rolled.headers["location"] == "/ui/partials/footer?version=3"
    page = author.get("/ui/partials/footer?version=3").text
    assert "rollback to version 1" in page and "Same content as the live v1." in page


def test_a_refused_draft_keeps_its_input_and_says_why(author: TestClient) -> None:
    created = _post(author, "/ui/layouts", "/ui/layouts", key="shell", name="Shell", email=SHELL, pdf="")
    assert created.status_code == 303

    refused = _post(author, "/ui/layouts/shell", "/ui/layouts/shell/versions", email="<main>{% if %}</main>")

    assert refused.status_code == 422
    text = refused.text
    assert "email: syntax error on line 1" in text and html.escape("<main>{% if %}</main>") in text
    assert "<td>v2</td>" not in text and "/ui/layouts/shell?version=2" not in text


def test_a_reviewer_rejects_with_a_reason_and_the_history_shows_it(
    service: Service, author: TestClient
) -> None:
    _create_footer(author)
    assert _post(author, "/ui/partials/footer", "/ui/partials/footer/versions/1/submit").status_code == 303
    reviewer = _client(service, service.reviewer)

    no_reason = _post(reviewer, "/ui/partials/footer", "/ui/partials/footer/versions/1/reject")
    rejected = _post(
        reviewer, "/ui/partials/footer", "/ui/partials/footer/versions/1/reject", comment="too long"
    )

    assert no_reason.status_code == 400 and rejected.status_code == 303
    page = author.get("/ui/partials/footer").text
    assert "too long" in page and "save the corrections as a new draft" in page and "Submit v1" not in page


def test_readers_see_the_versions_and_history_but_no_forms(service: Service, author: TestClient) -> None:
    _create_footer(author)
    reader = _client(service, service.keys[Role.COMPLIANCE])

    page = reader.get("/ui/partials/footer")
    posted = reader.post(
        "/ui/partials/footer/versions", data={"csrf_token": csrf_of(page.text), "source": "x"}
    )

    assert page.status_code == 200 and 'id="history"' in page.text and "Thanks {{ name }}" in page.text
    for control in ("Submit v1", "Approve v1", "Publish v1", "Roll back", 'id="new-draft"'):
        assert control not in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert posted.status_code == 403 and "templates:write" in posted.text


def test_an_unknown_item_or_version_is_a_404_page(author: TestClient) -> None:
    _create_footer(author)

    for path in ("/ui/layouts/footer", "/ui/partials/nope", "/ui/partials/footer?version=9"):
        missing = author.get(path)
        assert missing.status_code == 404 and "text/html" in missing.headers["content-type"], path


def _live(service: Service, key: str, number: int) -> None:
    path = f"/v1/partials/{key}/versions/{number}"
    for step, headers in (
        ("submit", service.headers(Role.MARKETER)),
        ("approve", service.reviewer_headers()),
        ("publish", service.headers(Role.MARKETER)),
    ):
        assert service.client.post(f"{path}/{step}", headers=headers).status_code == 200
