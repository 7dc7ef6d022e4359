"""The token keyring: the current key signs and names itself, every key verifies, so rotation keeps old
links working; tokens issued before key ids verify with CCM_SECRET_KEY."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from ccm.engagement.tokens import TokenPurpose, TokenSigner, UnknownTokenKey, default_key_id, token_signer
from ccm.settings import Settings

SECRET = "legacy-secret-" + "x" * 40
OLD, NEW = "old-key-" + "a" * 32, "new-key-" + "b" * 32
CLICK = {"m": "msg-1", "u": "https://example.com/a"}
# Signed by the signer as it was before key ids (commit f798281), with SECRET: `<body>.<tag>`.
ISSUED_BEFORE_KEY_IDS = "eyJtIjoibXNnLTEiLCJ1IjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hIn0.tVM9bE3hm1FAHNewsFiL_w"


def test_a_token_names_its_key_and_verifies_only_for_its_purpose() -> None:
    signer = TokenSigner(SECRET)
    token = signer.sign(TokenPurpose.CLICK, CLICK)
    assert token.split(".")[0] == signer.key_id == default_key_id(SECRET)
    assert signer.verify(TokenPurpose.CLICK, token) == CLICK
    assert signer.verify(TokenPurpose.UNSUBSCRIBE, token) is None
    assert TokenSigner("another-" + SECRET).verify(TokenPurpose.CLICK, token) is None


def test_rotation_keeps_links_signed_with_the_retired_key_valid() -> None:
    before = TokenSigner(SECRET, {"k1": OLD}, key_id="k1")
    sent = before.sign(TokenPurpose.CLICK, CLICK)
    after = TokenSigner(SECRET, {"k1": OLD, "k2": NEW}, key_id="k2")
    fresh = after.sign(TokenPurpose.CLICK, CLICK)
    assert sent.startswith("k1.") and fresh.startswith("k2.")
    assert after.verify(TokenPurpose.CLICK, sent) == after.verify(TokenPurpose.CLICK, fresh) == CLICK
    assert TokenSigner(SECRET, {"k2": NEW}, key_id="k2").verify(TokenPurpose.CLICK, sent) is None  # dropped


def test_tokens_issued_before_key_ids_verify_with_the_secret_key() -> None:
    rotated = TokenSigner(SECRET, {"k2": NEW}, key_id="k2")
    assert rotated.verify(TokenPurpose.CLICK, ISSUED_BEFORE_KEY_IDS) == CLICK
    assert TokenSigner("another-" + SECRET).verify(TokenPurpose.CLICK, ISSUED_BEFORE_KEY_IDS) is None
    assert rotated.signing_with(None).sign(TokenPurpose.CLICK, CLICK) == ISSUED_BEFORE_KEY_IDS


def test_altered_or_foreign_key_ids_never_verify() -> None:
    signer = TokenSigner(SECRET, {"k1": OLD, "k2": NEW}, key_id="k1")
    _, body, tag = signer.sign(TokenPurpose.CLICK, CLICK).split(".")
    for forged in (
        f"k2.{body}.{tag}",
        f"k9.{body}.{tag}",
        f".{body}.{tag}",
        f"{body}.{tag}",
        f"k1.k1.{body}.{tag}",
    ):
        assert signer.verify(TokenPurpose.CLICK, forged) is None, forged


def test_the_keyring_refuses_bad_ids_unknown_signing_keys_and_a_reused_default_id(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ids match"):
        TokenSigner(SECRET, {"a.b": OLD})
    with pytest.raises(UnknownTokenKey):
        TokenSigner(SECRET, {"k1": OLD}).signing_with("k2")
    with pytest.raises(ValueError, match="reserved"):
        TokenSigner(SECRET, {default_key_id(SECRET): OLD})
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key=SECRET, token_key_id="k3")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="CCM_TOKEN_KEY_ID"):
        token_signer(settings)


def test_the_signer_of_the_settings_travels_to_a_render_process(tmp_path: Path) -> None:
    values: dict[str, Any] = {
        "secret_key": SECRET,
        "token_keys": {"k1": OLD, "k2": NEW},
        "token_key_id": "k2",
    }
    signer = token_signer(Settings(_env_file=None, data_dir=tmp_path, **values))  # type: ignore[call-arg]
    copy = pickle.loads(pickle.dumps(signer))
    assert copy.key_id == "k2" and copy.key_ids == signer.key_ids
    assert copy.verify(TokenPurpose.OPEN, signer.sign(TokenPurpose.OPEN, {"m": "x"})) == {"m": "x"}
