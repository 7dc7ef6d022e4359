"""The UI over plain HTTP: redirects, open-redirect refusal, 404/400 pages, CSRF, and the authoring forms."""

from __future__ import annotations

import json
import time
import uuid
from email.message import EmailMessage

import httpx
import pytest

from ccm.access.models import ApiKey, Role
from ccm.access.service import create_api_key
from ccm.communications.models import Message, MessageStatus
from ccm.database import make_engine, session_scope, utcnow
from delivery import Channel
from delivery.base import Outcome, OutgoingMessage
from delivery.outbox import OutboxProvider
from tests.ccm.web.conftest import LiveService, SignedIn, csrf_of, sign_in


def test_signed_out_pages_redirect_to_login_with_a_safe_next(live: LiveService) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        response = client.get("/ui/customers/c-2?before=5")
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/login?next=%2Fui%2Fcustomers%2Fc-2%3Fbefore%3D5"
        signed = sign_in(client, live.keys[Role.MARKETER], next_path="/ui/customers/c-2?before=5")
        assert signed.status_code == 303
        assert signed.headers["location"] == "/ui/customers/c-2?before=5"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
        assert client.get("/ui/customers/c-2").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.test", "//evil.test/ui", "/\\evil.test", "/ui\\..\\x", "/uix", "/ui/../v1/templates"],
)
def test_login_never_redirects_off_the_ui(live: LiveService, target: str) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        page = client.get("/ui/login", params={"next": target})
        assert target not in page.text
        response = sign_in(client, live.keys[Role.MARKETER], next_path=target)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui"


def test_index_goes_to_the_first_allowed_section(signed_in: SignedIn) -> None:
    response = signed_in(Role.COMPLIANCE).get("/ui")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/templates"


def test_login_form_without_its_nonce_cookie_is_refused(live: LiveService) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        token = csrf_of(client.get("/ui/login").text)
        client.cookies.clear()
        response = client.post("/ui/login", data={"api_key": live.keys[Role.ADMIN], "csrf_token": token})
        assert response.status_code == 403
        assert "ccm_session" not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ui/templates/no-such-template", 404),
        ("/ui/templates/invoice?version=99", 404),
        ("/ui/templates/invoice?version=abc", 400),
        ("/ui/templates/invoice?customer_id=%0Aevil", 400),
        ("/ui/templates/invoice/versions/1/preview.pdf?customer_id=c-404", 404),
        # fixed ids, not uuid4(): every test process (pytest-xdist) must collect the same parameters
        ("/ui/outbox/5f0c1d2e-3a4b-4c6d-8e9f-0a1b2c3d4e5f", 404),
        ("/ui/outbox/5F0C1D2E-3A4B-4C6D-8E9F-0A1B2C3D4E5F", 404),
        ("/ui/outbox/..%2F..%2Fccm.db", 404),
        ("/ui/outbox/6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d/attachments/0", 404),
        ("/ui/outbox?channel=fax", 400),
        ("/ui/outbox?page=0", 400),
        ("/ui/messages?status=lost", 400),
        ("/ui/customers/c-404", 404),
        ("/ui/customers?cursor=x", 422),
        ("/ui/no-such-page", 404),
    ],
)
def test_bad_addresses_get_error_pages(signed_in: SignedIn, path: str, status: int) -> None:
    response = signed_in(Role.ADMIN).get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<nav aria-label="Sections">' in response.text


def test_preview_errors_are_shown_on_the_page(signed_in: SignedIn) -> None:
    response = signed_in(Role.MARKETER).get("/ui/templates/invoice", params={"customer_id": "c-404"})
    assert response.status_code == 200
    assert "does not render for c-404" in response.text
    assert "customer &#39;c-404&#39; not found" in response.text


def test_a_form_post_with_a_bad_csrf_token_is_refused(signed_in: SignedIn) -> None:
    client = signed_in(Role.MARKETER)
    for token in ("", "0" * 64):
        response = client.post("/ui/templates/invoice/versions/1/publish", data={"csrf_token": token})
        assert response.status_code == 403
        assert "security token did not match" in response.text
    assert client.post("/ui/logout", data={"csrf_token": "nope"}).status_code == 403


def test_authoring_needs_templates_write(signed_in: SignedIn) -> None:
    client = signed_in(Role.SENDER)
    token = csrf_of(client.get("/ui/templates/invoice").text)  # the sign-out form's token
    response = client.post("/ui/templates/invoice/versions", data={"csrf_token": token, "sms_text": "hi"})
    assert response.status_code == 403
    assert "templates:write" in response.text and "admin or marketer" in response.text


def test_create_a_template_draft_it_and_publish_it(live: LiveService, signed_in: SignedIn) -> None:
    client = signed_in(Role.MARKETER)
    key = f"note-{uuid.uuid4().hex[:6]}"
    token = csrf_of(client.get("/ui/templates").text)
    created = client.post(
        "/ui/templates",
        data={
            "csrf_token": token,
            "key": key,
            "name": "A short note",
            "category": "marketing",
            "sms_text": "Hi {{ customer.first_name }}!\r\nSee {{ url }}",
            "sample_data": '{"url": "https://example.com"}',
        },
    )
    assert created.status_code == 303
    assert created.headers["location"] == f"/ui/templates/{key}"

    page = client.get(f"/ui/templates/{key}").text
    assert "Hi Ada!\nSee https://example.com" in page  # the sample customer; CRLF stored as LF
    drafted = client.post(
        f"/ui/templates/{key}/versions",
        data={
            "csrf_token": csrf_of(page),
            "email_subject": "Hello {{ customer.first_name }}",
            "email_body_kind": "html",
            "email_body": '<p>Visit {{ url }}</p><a href="{{ unsubscribe_url }}">Stop</a>',
            "sms_text": "Hi again {{ customer.first_name }}",
            "sample_data": '{"url": "https://example.com/2"}',
        },
    )
    assert drafted.status_code == 303
    assert drafted.headers["location"] == f"/ui/templates/{key}?version=2"

    unapproved = client.post(f"/ui/templates/{key}/versions/2/publish", data={"csrf_token": csrf_of(page)})
    assert unapproved.status_code == 409 and "approved by" in unapproved.text  # a marketing template
    page = client.get(f"/ui/templates/{key}?version=2").text
    assert "Publish v2" not in page and "Submit v2 for review" in page
    submitted = client.post(f"/ui/templates/{key}/versions/2/submit", data={"csrf_token": csrf_of(page)})
    assert submitted.status_code == 303
    page = client.get(f"/ui/templates/{key}?version=2").text
    assert "Approve v2" not in page and "Awaiting review by a marketer or admin other than you" in page

    reviewer = signed_in(Role.ADMIN)
    page = reviewer.get(f"/ui/templates/{key}?version=2").text
    assert "Approve v2" in page and "Reject v2" in page
    approved = reviewer.post(
        f"/ui/templates/{key}/versions/2/approve", data={"csrf_token": csrf_of(page), "comment": "fine"}
    )
    assert approved.status_code == 303

    page = client.get(f"/ui/templates/{key}?version=2").text
    assert "Publish v2" in page and "fine" in page  # the approval's comment is in the history
    published = client.post(f"/ui/templates/{key}/versions/2/publish", data={"csrf_token": csrf_of(page)})
    assert published.status_code == 303
    with live.api() as api:
        detail = api.get(f"/v1/templates/{key}").json()
    assert detail["published_version"] == 2
    assert detail["latest"]["parts"]["email"] == {
        "subject": "Hello {{ customer.first_name }}",
        "html": '<p>Visit {{ url }}</p><a href="{{ unsubscribe_url }}">Stop</a>',
        "attach_pdf": False,
    }


def test_a_rejected_draft_keeps_the_input_and_says_why(signed_in: SignedIn) -> None:
    client = signed_in(Role.MARKETER)
    token = csrf_of(client.get("/ui/templates/otp").text)
    cases = [
        ({"sms_text": "Code {{ code ", "sample_data": "{}"}, "parts.sms.text"),
        ({"sms_text": "Code {{ code }}", "sample_data": "{not json"}, "sample data is not valid JSON"),
        ({"email_subject": "No body", "sample_data": "{}"}, "exactly one of"),
        ({"sms_text": "", "sample_data": "{}"}, "at least one part"),
    ]
    for fields, reason in cases:
        response = client.post("/ui/templates/otp/versions", data={"csrf_token": token, **fields})
        assert response.status_code == 422
        assert reason in response.text
        for value in fields.values():
            assert value in response.text
    versions = client.get("/ui/templates/otp").text
    assert "?version=2" not in versions  # nothing was saved


def test_new_template_with_a_taken_key_is_shown_again(signed_in: SignedIn) -> None:
    client = signed_in(Role.ADMIN)
    token = csrf_of(client.get("/ui/templates").text)
    data = {
        "csrf_token": token,
        "key": "invoice",
        "name": "Copy",
        "category": "transactional",
        "sms_text": "x",
    }
    response = client.post("/ui/templates", data=data)
    assert response.status_code == 422
    assert "already exists" in response.text
    assert 'value="Copy"' in response.text


def test_customer_and_messages_pages(signed_in: SignedIn) -> None:
    client = signed_in(Role.COMPLIANCE)
    listing = client.get("/ui/customers").text
    assert "giulia.rossi@example.com" in listing
    detail = client.get("/ui/customers/c-1").text
    assert "Europe/Rome" in detail and "Engagement" in detail and "Timeline" in detail
    messages = client.get("/ui/messages", params={"status": "queued"})
    assert messages.status_code == 200
    assert "/ui/outbox/" not in messages.text  # compliance may not open the outbox


def _outbox_email(live: LiveService, message: EmailMessage) -> str:
    """Put a hand-made email into the live outbox, as the outbox provider would."""
    message_id = str(uuid.uuid4())
    provider = OutboxProvider(live.settings.outbox_dir, Channel.EMAIL)
    outgoing = OutgoingMessage(
        message_id, Channel.EMAIL, "x@example.com", "ccm", message.as_bytes(), "message/rfc822"
    )
    assert provider.send(outgoing).outcome is Outcome.ACCEPTED
    return message_id


def test_outbox_serves_only_pdfs_inline_and_never_loads_images(
    live: LiveService, signed_in: SignedIn
) -> None:
    message = EmailMessage()
    message["Subject"] = "Hostile <b>subject</b>"
    message.set_content("plain")
    message.add_alternative('<p>hi</p><img src="https://tracker.test/pixel.gif">', subtype="html")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="x.html")
    message_id = _outbox_email(live, message)
    client = signed_in(Role.MARKETER)

    page = client.get(f"/ui/outbox/{message_id}")
    assert page.status_code == 200
    assert "Hostile &lt;b&gt;subject&lt;/b&gt;" in page.text
    assert (
        'srcdoc="&lt;p&gt;hi&lt;/p&gt;&lt;img src=&#34;https://tracker.test/pixel.gif&#34;&gt;' in page.text
    )
    policy = page.headers["content-security-policy"]
    assert "img-src data:;" in policy and f"/ui/outbox/{message_id}/" in policy

    attachment = client.get(f"/ui/outbox/{message_id}/attachments/0")
    assert attachment.headers["content-type"] == "application/octet-stream"
    assert attachment.headers["content-disposition"] == 'attachment; filename="x.html"'
    assert attachment.headers["x-content-type-options"] == "nosniff"


def test_outbox_lists_sms_with_encoding(live: LiveService, signed_in: SignedIn) -> None:
    message_id = str(uuid.uuid4())
    body = {"body": "Ciao è 😀", "encoding": "UCS-2", "segments": 1, "from": "ccm", "to": "+393471234501"}
    payload = json.dumps(body).encode()
    provider = OutboxProvider(live.settings.outbox_dir, Channel.SMS)
    sms = OutgoingMessage(message_id, Channel.SMS, "+393471234501", "ccm", payload, "application/json")
    assert provider.send(sms).outcome is Outcome.ACCEPTED
    client = signed_in(Role.ADMIN)
    assert message_id in client.get("/ui/outbox", params={"channel": "sms"}).text
    assert message_id not in client.get("/ui/outbox", params={"channel": "email"}).text
    detail = client.get(f"/ui/outbox/{message_id}").text
    assert "Ciao è 😀" in detail and '<span class="sms-encoding">UCS-2</span>' in detail


def test_revoking_the_key_ends_its_sessions(live: LiveService) -> None:
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        api_key, raw = create_api_key(session, role=Role.MARKETER, name="soon revoked")
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in(client, raw).status_code == 303
        assert client.get("/ui/templates").status_code == 200
        with session_scope(engine) as session:
            revoked = session.get(ApiKey, api_key.id)
            assert revoked is not None
            revoked.revoked_at = utcnow()
        response = client.get("/ui/templates")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login")
    engine.dispose()


def test_dead_letter_view_requeues_a_failed_message(live: LiveService, signed_in: SignedIn) -> None:
    with live.api() as api:
        sent = api.post(
            "/v1/messages",
            json={"template": "otp", "customer_id": "c-1", "data": {"code": "1", "expires_minutes": 5}},
            headers={"Idempotency-Key": "dead-letter-ui"},
        )
        message_id = sent.json()["messages"][0]["id"]
        deadline = time.monotonic() + 10
        while (
            api.get(f"/v1/messages/{message_id}").json()["status"] != "sent" and time.monotonic() < deadline
        ):
            time.sleep(0.05)
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:  # a dead letter, as a permanent provider refusal leaves it
        message = session.get(Message, message_id)
        assert message is not None
        message.status = MessageStatus.FAILED
        message.last_error = "550 mailbox unavailable"
        session.add(message)
    engine.dispose()

    client = signed_in(Role.ADMIN)
    page = client.get("/ui/messages", params={"status": "failed"})
    assert message_id in page.text and "Requeue" in page.text
    requeued = client.post(f"/ui/messages/{message_id}/requeue", data={"csrf_token": csrf_of(page.text)})
    assert requeued.status_code == 303
    with live.api() as api:
        deadline = time.monotonic() + 10
        while (
            api.get(f"/v1/messages/{message_id}").json()["status"] != "sent" and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert api.get(f"/v1/messages/{message_id}").json()["status"] == "sent"
    marketer = signed_in(Role.MARKETER)
    assert "Requeue" not in marketer.get("/ui/messages", params={"status": "failed"}).text
