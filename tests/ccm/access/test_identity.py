"""Identities: a person is one identity however they act (password session or any key they own); a key
without an owner is its own; the service is `system`."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from ccm.access.identity import SYSTEM_IDENTITY, identity_label, identity_of
from ccm.access.models import ApiKey, Role, User
from ccm.access.service import create_api_key
from ccm.access.users import create_user
from ccm.database import session_scope
from ccm.web.auth import Viewer

PASSWORD = "a-long-password-here"


def test_each_kind_of_caller_has_its_identity(engine: Engine) -> None:
    with session_scope(engine) as session:
        ana = create_user(session, email="ana@example.com", role=Role.MARKETER, password=PASSWORD)
        owned, _ = create_api_key(session, role=Role.MARKETER, name="ana's script", owner_user_id=ana.id)
        system_key, _ = create_api_key(session, role=Role.SENDER, name="billing")
    person = f"user:{ana.id}"
    assert identity_of(ana) == person
    assert identity_of(owned) == person  # her key acts as her
    assert identity_of(Viewer(api_key=None, user=ana, csrf="t")) == person  # so does her password session
    assert identity_of(Viewer(api_key=owned, csrf="t")) == person  # and her key signed in to the web UI
    assert identity_of(system_key) == f"key:{system_key.id}"
    assert identity_of(Viewer(api_key=system_key, csrf="t")) == f"key:{system_key.id}"
    assert Viewer(api_key=None, user=ana, csrf="t").identity == person
    assert SYSTEM_IDENTITY == "system" and SYSTEM_IDENTITY not in {person, f"key:{system_key.id}"}


def test_an_unsaved_caller_has_no_identity() -> None:
    with pytest.raises(TypeError):
        identity_of(User(email="x@example.com", role=Role.ADMIN, password_hash="-"))
    with pytest.raises(TypeError):
        identity_of(ApiKey(name="k", role=Role.ADMIN, prefix="ccm_", key_hash="-"))


def test_a_viewer_is_a_user_or_a_key_never_both_nor_neither() -> None:
    user = User(id=1, email="x@example.com", role=Role.ADMIN, password_hash="-")
    api_key = ApiKey(id=2, name="k", role=Role.ADMIN, prefix="ccm_", key_hash="-")
    with pytest.raises(ValueError):
        Viewer(api_key=None, csrf="t")
    with pytest.raises(ValueError):
        Viewer(api_key=api_key, user=user, csrf="t")
    viewer = Viewer(api_key=None, user=user, csrf="t")
    assert (viewer.name, viewer.role, viewer.actor) == ("x@example.com", Role.ADMIN, user)
    assert Viewer(api_key=api_key, csrf="t").name == "k"


def test_identities_are_labelled_for_people(engine: Engine) -> None:
    with session_scope(engine) as session:
        ana = create_user(session, email="ana@example.com", role=Role.MARKETER, password=PASSWORD)
        key, _ = create_api_key(session, role=Role.SENDER, name="billing")
    with session_scope(engine) as session:
        assert identity_label(session, f"user:{ana.id}") == "ana@example.com"
        assert identity_label(session, f"key:{key.id}") == "key 'billing'"
        for kept in ("system", "user:999999", "key:99999999999", "user:x", "robot:1"):
            assert identity_label(session, kept) == kept
