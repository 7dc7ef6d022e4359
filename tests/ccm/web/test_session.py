"""Signing out ends the session on the server at once: a kept copy of the cookie opens no page afterwards."""

from __future__ import annotations

import httpx
from sqlmodel import select

from ccm.access.models import Role, WebSession
from ccm.access.service import hash_key
from ccm.database import make_engine, session_scope
from ccm.web.session import SESSION_COOKIE
from tests.ccm.web.conftest import LiveService, SignedIn, csrf_of, sign_in


def _with_cookie(live: LiveService, token: str) -> httpx.Client:
    """A second browser holding a copy of someone's session cookie."""
    return httpx.Client(base_url=live.base_url, cookies={SESSION_COOKIE: token})


def test_signing_out_ends_the_session_at_once(live: LiveService, signed_in: SignedIn) -> None:
    client = signed_in(Role.MARKETER)
    token = client.cookies[SESSION_COOKIE]
    elsewhere = signed_in(Role.MARKETER)  # the same key signed in in another browser
    with _with_cookie(live, token) as copy:
        assert copy.get("/ui/templates").status_code == 200

        signed_out = client.post("/ui/logout", data={"csrf_token": csrf_of(client.get("/ui/templates").text)})
        assert signed_out.status_code == 303 and signed_out.headers["location"] == "/ui/login"

        for path in ("/ui/templates", "/ui/messages"):
            response = copy.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/ui/login")
        assert copy.post("/ui/logout", data={"csrf_token": "x"}).headers["location"] == "/ui/login"
    assert elsewhere.get("/ui/templates").status_code == 200  # only that session ended


def test_the_cookie_is_a_random_token_and_only_its_hash_is_stored(live: LiveService) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in(client, live.keys[Role.SENDER]).status_code == 303
        token = client.cookies[SESSION_COOKIE]
    assert live.keys[Role.SENDER] not in token and "." not in token  # neither the key nor a signed payload
    engine = make_engine(live.settings.database_url)
    with session_scope(engine) as session:
        stored = set(session.exec(select(WebSession.token_hash)).all())
    engine.dispose()
    assert hash_key(token) in stored and token not in stored


def test_signing_in_again_replaces_the_session(live: LiveService) -> None:
    with httpx.Client(base_url=live.base_url) as client:
        assert sign_in(client, live.keys[Role.COMPLIANCE]).status_code == 303
        first = client.cookies[SESSION_COOKIE]
        assert sign_in(client, live.keys[Role.COMPLIANCE]).status_code == 303
        assert client.cookies[SESSION_COOKIE] != first
        assert client.get("/ui/archive").status_code == 200
    with _with_cookie(live, first) as copy:
        assert copy.get("/ui/archive").status_code == 303
