"""Re-render does not depend on today's settings: what a message's bytes depended on is kept in its sealed
snapshot and put back (base URL, senders, token key, PDF variant); DKIM signatures are kept as archived and
their body hashes checked; what cannot be put back (assets, renderer versions) is named when it changed."""

from __future__ import annotations

import argparse
import re
import shutil
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlmodel import Session

from ccm.archiving.service import find_entry
from ccm.compliance.cli import _rerender
from ccm.compliance.rerender import (
    RerenderResult,
    body_hash_check,
    dkim_signatures,
    environment_changes,
    rerender,
)
from ccm.settings import PROJECT_ROOT, Settings
from delivery import DkimKeyring, DkimSigner
from tests.ccm.conftest import INVOICE, Service, ServiceFactory, send

K1, K2 = "first-token-key-" + "1" * 32, "second-token-key-" + "2" * 32
WELCOME_EMAIL = {"template": "welcome", "customer_id": "c-1", "data": {"cta_url": "https://example.com/go"}}
OTP_SMS = {"template": "otp", "customer_id": "c-1", "data": {"code": "123456", "expires_minutes": 5}}


def add_customer(service: Service) -> None:
    body = {
        "email": "giulia.rossi@example.com",
        "phone": "+393471234501",
        "locale": "it",
        "timezone": "Europe/Rome",
        "attributes": {"first_name": "Giulia", "last_name": "Rossi"},
    }
    response = service.client.put("/v1/customers/c-1", json=body, headers=service.headers())
    assert response.status_code in (200, 201), response.text


def rerendered(service: Service, message_id: str) -> tuple[bytes, RerenderResult]:
    with Session(service.runtime.engine) as session:
        entry = find_entry(session, message_id)
        assert entry is not None
        return rerender(session, service.runtime.archive, entry)


def cli(settings: Settings, message_id: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = _rerender(settings, argparse.Namespace(message_id=message_id, check=True, output=None))
    return code, capsys.readouterr().out


def dkim_key(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    return tmp_path / "dkim.pem"


def click_tokens(eml: bytes) -> list[str]:
    parsed = message_from_bytes(eml, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    html = parsed.get_body(("html",))
    assert html is not None
    return re.findall(r"/t/c/([A-Za-z0-9_.-]+)", html.get_content())


def test_another_domain_port_sender_and_token_key_re_render_identically(
    service_factory: ServiceFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sent_under = service_factory(
        base_url="http://ccm.test",
        token_keys={"k1": K1},
        token_key_id="k1",
        email_from="Example Co <billing@ccm.localhost>",
        sms_from="EXAMPLE",
        dkim_domain="ccm.localhost",
        dkim_selector="s1",
        dkim_private_key_file=dkim_key(tmp_path),
    )
    add_customer(sent_under)
    ids = [
        send(sent_under, INVOICE, "inv"),
        send(sent_under, WELCOME_EMAIL, "wel"),
        send(sent_under, OTP_SMS, "otp"),
    ]
    sent_under.work()
    invoice = sent_under.client.get(f"/v1/archive/{ids[0]}/content", headers=sent_under.headers()).content
    assert invoice.startswith(b"DKIM-Signature:")
    [token] = click_tokens(invoice)
    assert token.startswith("k1.")

    # ten years on: another domain and port, a rotated token key, another sender, no DKIM key, plain PDFs
    today = service_factory(
        base_url="https://documents.example.org:8443",
        token_keys={"k1": K1, "k2": K2},
        token_key_id="k2",
        email_from="Example Group <noreply@example.org>",
        sms_from="EXGROUP",
        pdf_variant=None,
    )
    for message_id in ids:
        _, result = rerendered(today, message_id)
        assert result.matches, result.first_difference
        assert result.inputs_recorded and result.changed_inputs == ()
    _, result = rerendered(today, ids[0])
    [signature] = result.dkim
    assert "d=ccm.localhost s=s1" in signature and "body hash (bh=) matches" in signature

    code, out = cli(today.settings, ids[1], capsys)
    assert code == 0 and "IDENTICAL" in out and "recorded render inputs" in out and "bh=" in out

    # the link sent under the retired key still works on today's service
    clicked = today.client.get(f"/t/c/{token}", follow_redirects=False)
    assert clicked.status_code == 302, clicked.text
    assert clicked.headers["location"] == "https://example.com/invoices/2026-001"

    # a token key that is no longer configured is named
    retired = service_factory(token_keys={"k2": K2}, token_key_id="k2")
    _, result = rerendered(retired, ids[1])
    assert not result.matches and result.changed_inputs == (
        "token key 'k1': no longer configured (CCM_TOKEN_KEYS)",
    )


def test_a_changed_asset_makes_the_re_render_different_and_is_named(
    service_factory: ServiceFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", templates)
    service = service_factory(templates_dir=templates)
    add_customer(service)
    message_id = send(service, INVOICE, "inv")
    service.work()
    assert rerendered(service, message_id)[1].matches

    logo = templates / "_assets" / "logo.svg"
    logo.write_text(logo.read_text().replace("#1f4e79", "#7a1f1f"))
    _, result = rerendered(service, message_id)
    assert not result.matches and result.first_difference is not None
    [change] = result.changed_inputs
    assert change.startswith("asset logo.svg: changed")

    code, out = cli(service.settings, message_id, capsys)
    assert code == 1 and "DIFFERENT" in out and "asset logo.svg: changed" in out


def test_a_message_archived_before_render_inputs_re_renders_with_todays_settings(
    service_factory: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ccm.communications.worker.render_inputs", lambda _ctx: None)  # as workers did
    service = service_factory()
    add_customer(service)
    service.runtime.tokens = service.runtime.tokens.signing_with(None)  # tokens as signed before key ids
    message_id = send(service, WELCOME_EMAIL, "wel")
    service.work()
    _, result = rerendered(service, message_id)
    assert result.matches, result.first_difference
    assert not result.inputs_recorded and result.changed_inputs == () and result.dkim == ()


def test_changed_renderers_and_assets_are_named(tmp_path: Path) -> None:
    assets = tmp_path / "templates" / "_assets"
    assets.mkdir(parents=True)
    (assets / "logo.svg").write_text("<svg/>")
    (assets / "new.png").write_bytes(b"png")
    settings = Settings(_env_file=None, data_dir=tmp_path, templates_dir=tmp_path / "templates")  # type: ignore[call-arg]
    recorded = {
        "renderers": {"weasyprint": "52.5", "jinja2": None},
        "assets": {"logo.svg": "0" * 64, "old.css": "1" * 64},
    }
    changes = environment_changes(settings, recorded)
    assert changes[0].startswith("renderer jinja2: absent at send time, 3.")
    assert changes[1].startswith("renderer weasyprint: 52.5 at send time, ")
    assert changes[2].startswith("asset logo.svg: changed (sha256 0000000000000000… then, ")
    assert changes[3:] == [
        "asset new.png: added since it was sent",
        "asset old.css: removed since it was sent",
    ]


def test_each_archived_dkim_signature_is_split_off_and_its_body_hash_checked() -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keyring = DkimKeyring([DkimSigner("example.com", "r1", rsa_pem), DkimSigner("example.com", "e1", ed_pem)])
    unsigned = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello  \r\nworld\r\n\r\n"
    signed = keyring.sign(unsigned)
    fields = dkim_signatures(signed)
    assert len(fields) == 2 and b"".join(fields) + unsigned == signed
    assert [body_hash_check(field, unsigned)[0] for field in fields] == [True, True]
    ok, line = body_hash_check(fields[1], unsigned.replace(b"Hello", b"Hallo"))
    assert not ok and "s=e1 a=ed25519-sha256" in line and "does NOT match" in line
    assert body_hash_check(b"DKIM-Signature: v=1; bh=%%%\r\n", unsigned)[0] is False
    assert dkim_signatures(unsigned) == []
