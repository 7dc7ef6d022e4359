"""What a message's bytes depend on besides its data, recorded so a re-render can put it back."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from ccm.channels import ComposeContext
from ccm.channels.compose import RENDERER_DISTRIBUTIONS, asset_digests, recorded_settings, render_inputs
from ccm.engagement.links import EngagementLinks
from ccm.engagement.tokens import TokenSigner
from ccm.settings import PROJECT_ROOT, Settings

SECRET = "render-inputs-" + "x" * 40


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "var", secret_key=SECRET, **values)  # type: ignore[call-arg]


def test_render_inputs_name_everything_the_bytes_depend_on(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        base_url="https://mail.example.com",
        email_from="Acme <billing@acme.example>",
        sms_from="ACME",
    )
    signer = TokenSigner(SECRET, {"k1": "k" * 40}, key_id="k1")
    inputs = render_inputs(ComposeContext(settings, EngagementLinks(settings.base_url, signer)))
    assert inputs["base_url"] == "https://mail.example.com" and inputs["token_key_id"] == "k1"
    assert inputs["senders"] == {"email": "Acme <billing@acme.example>", "sms": "ACME"}
    assert inputs["pdf_variant"] == "pdf/a-3b"
    logo = (PROJECT_ROOT / "templates" / "_assets" / "logo.svg").read_bytes()
    assert inputs["assets"]["logo.svg"] == hashlib.sha256(logo).hexdigest()
    assert set(inputs["renderers"]) == set(RENDERER_DISTRIBUTIONS) and inputs["renderers"]["weasyprint"]


def test_recorded_settings_put_back_the_base_url_senders_and_pdf_variant(tmp_path: Path) -> None:
    today = _settings(
        tmp_path, base_url="https://new.example", email_from="New <n@new.example>", pdf_variant=None
    )
    recorded = {
        "base_url": "http://old.example:8000",
        "senders": {"email": "Old <o@old.example>", "sms": "OLDCO", "gone": "x"},
        "pdf_variant": "pdf/a-3b",
    }
    restored = recorded_settings(today, recorded)
    assert restored.base_url == "http://old.example:8000" and restored.pdf_variant == "pdf/a-3b"
    assert restored.email_from == "Old <o@old.example>" and restored.email_domain == "old.example"
    assert restored.sms_from == restored.twilio_from == "OLDCO"
    assert today.base_url == "https://new.example"  # a copy: today's settings are untouched
    assert recorded_settings(today, {"pdf_variant": None}).pdf_variant is None


def test_asset_digests_follow_a_changed_file(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(PROJECT_ROOT / "templates" / "_assets", assets)
    (assets / "fonts").mkdir()
    (assets / "fonts" / "a.woff2").write_bytes(b"font")
    first = asset_digests(assets)
    assert set(first) == {"logo.svg", "fonts/a.woff2"}
    stat = (assets / "fonts" / "a.woff2").stat()
    (assets / "fonts" / "a.woff2").write_bytes(b"FONT")  # same size, and the same modification time:
    os.utime(assets / "fonts" / "a.woff2", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert asset_digests(assets) == first  # the cache cannot see it ...
    assert asset_digests(assets, cached=False)["fonts/a.woff2"] != first["fonts/a.woff2"]  # ... a check does
    (assets / "logo.svg").write_text("<svg/>")
    assert asset_digests(assets)["logo.svg"] != first["logo.svg"]
    assert asset_digests(tmp_path / "missing") == {}
