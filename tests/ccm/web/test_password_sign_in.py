"""People sign in to the web UI with email and password: one generic message for a wrong email or password,
429 after five failures a minute for an email, disabled users refused, and the session is the person's
identity, the same one their own API keys act with. Signing in with an API key keeps working."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlmodel import select
from starlette.requests import Request

from ccm.access.identity import identity_of
from ccm.access.models import ApiKey, Role, WebSession
from ccm.access.service import create_api_key, hash_key
from ccm.access.users import create_user, disable_user
from ccm.compliance.models import AuditRecord
from ccm.database import make_engine, session_scope
from ccm.web.auth import current_viewer
from ccm.web.session import SESSION_COOKIE
from tests.ccm.web.conftest import LiveService, csrf_of, sign_in

PASSWORD = "a-long-password-here"
WRONG = "Wrong email or password."
ALERT = re.compile(r'<p class="alert" role="alert">([^<]*)</p>')


def _new_user(live: LiveService, role: Role = Role.MARKETER) -> str:
    """A fresh user's email (each test its own, since failures are counted per email)."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        create_user(session, email=email, role=role, password=PASSWORD)
    engine.dispose()
    return email


def sign_in_with_password(
    client: httpx.Client, email: str, password: str, next_path: str = ""
) -> httpx.Response:
    form = client.get("/ui/login")
    data = {"email": email, "password": password, "next": next_path, "csrf_token": csrf_of(form.text)}
    return client.post("/ui/login", data=data)


def test_a_user_signs_in_with_email_and_password(live: LiveService) -> None:
    email = _new_user(live)
    with httpx.Client(base_url=live.base_url) as client:
        signed = sign_in_with_password(client, email.upper(), PASSWORD, next_path="/ui/templates")
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/templates"
        page = client.get("/ui/templates")
        assert page.status_code == 200
        assert f'{email} <span class="badge">marketer</span>' in page.text  # named by email, with the role
        assert client.get("/ui/archive").status_code == 403  # the role's permissions, as for a key
        token = client.cookies[SESSION_COOKIE]
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        row = session.exec(select(WebSession).where(WebSession.token_hash == hash_key(token))).one()
        assert row.user_id is not None and row.api_key_id is None
    engine.dispose()


def test_a_wrong_password_or_email_gets_one_generic_message(live: LiveService) -> None:
    email = _new_user(live)
    with httpx.Client(base_url=live.base_url) as client:
        wrong_password = sign_in_with_password(client, email, PASSWORD + "!")
        unknown_email = sign_in_with_password(client, "nobody-" + email, PASSWORD)
        for response in (wrong_password, unknown_email):
            assert response.status_code == 401
            assert ALERT.findall(response.text) == [WRONG]  # the same words: which was wrong stays unsaid
        assert SESSION_COOKIE not in client.cookies
        assert client.get("/ui/templates").status_code == 303


def test_five_failures_a_minute_for_an_email_give_429(live: LiveService) -> None:
    email = _new_user(live)
    with httpx.Client(base_url=live.base_url) as client:
        for _ in range(5):
            assert sign_in_with_password(client, email, "not the password").status_code == 401
        refused = sign_in_with_password(client, email, PASSWORD)  # even the right one, for now
        assert refused.status_code == 429
        assert "Wait a minute" in refused.text and SESSION_COOKIE not in client.cookies
        assert sign_in_with_password(client, _new_user(live), PASSWORD).status_code == 303  # others may


def test_a_disabled_user_cannot_sign_in_and_is_signed_out(live: LiveService) -> None:
    email = _new_user(live)
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in_with_password(client, email, PASSWORD).status_code == 303
        engine = make_engine(live.settings.database_url)
        with session_scope(engine) as session:
            disable_user(session, email)
        engine.dispose()
        assert client.get("/ui/templates").status_code == 303  # the session ended with the account
        refused = sign_in_with_password(client, email, PASSWORD)
        assert refused.status_code == 401 and WRONG in refused.text


def test_signing_out_ends_a_user_session(live: LiveService) -> None:
    email = _new_user(live)
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in_with_password(client, email, PASSWORD).status_code == 303
        token = client.cookies[SESSION_COOKIE]
        out = client.post("/ui/logout", data={"csrf_token": csrf_of(client.get("/ui/templates").text)})
        assert out.status_code == 303
    with httpx.Client(base_url=live.base_url, cookies={SESSION_COOKIE: token}) as copy:
        assert copy.get("/ui/templates").status_code == 303


def test_the_session_is_the_person_their_keys_act_as(live: LiveService) -> None:
    email = _new_user(live, Role.COMPLIANCE)
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in_with_password(client, email, PASSWORD).status_code == 303
        token = client.cookies[SESSION_COOKIE]
        assert client.get("/ui/archive", params={"customer_id": "c-1"}).status_code == 200
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        request = Request(
            {
                "type": "http",
                "method": "GET",
                "path": "/ui",
                "query_string": b"",
                "headers": [(b"cookie", f"{SESSION_COOKIE}={token}".encode())],
            }
        )
        viewer = current_viewer(request, session, live.settings)
        assert viewer is not None and viewer.user is not None and viewer.api_key is None
        owned, _ = create_api_key(session, role=Role.COMPLIANCE, name="script", owner_user_id=viewer.user.id)
        assert viewer.identity == f"user:{viewer.user.id}" == identity_of(owned)
        searched = session.exec(select(AuditRecord).where(AuditRecord.action == "search")).all()
        assert [(r.actor, r.role, r.actor_key_id) for r in searched] == [(email, "compliance", None)]
    engine.dispose()


def test_signing_in_with_an_api_key_still_works(live: LiveService) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in(client, live.keys[Role.ADMIN]).status_code == 303
        page = client.get("/ui/templates")
        assert page.status_code == 200 and "web admin" in page.text
        refused = sign_in(client, "ccm_not-a-real-key")
        assert refused.status_code == 401 and "That API key is not valid" in refused.text
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        keys = session.exec(select(ApiKey).where(ApiKey.name == "web admin")).all()
        assert [key.owner_user_id for key in keys] == [None]
    engine.dispose()
