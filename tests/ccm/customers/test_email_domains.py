"""The per-domain cache in front of email-validator's domain check decides every address as the library alone
would, is on the path a `PUT` and an import take, remembers no refusal and follows the special-use list."""

from __future__ import annotations

from typing import Any

import email_validator
import pytest
from pydantic import ValidationError

from ccm.customers import email_domains
from ccm.customers.schemas import CustomerBatchItem, CustomerUpsert

TRICKY = [
    "Anna@Example.COM",
    "anna@EXAMPLE.com",
    "PostMaster@example.com",  # a case-insensitive mailbox name: the library lower-cases it
    "josé@bücher.de",
    "user@BÜCHER.de",
    "user@xn--bcher-kva.de",  # punycode in, Unicode out
    "user@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0ecom",  # fullwidth example.com, mapped by UTS-46
    "jose\u0301@example.com",  # NFC of the local part
    "пользователь@пример.рф",
    "ann@例え.jp",
    "Ann Smith <ann@example.com>",  # pydantic's display-name form
    '"ann"@example.com',  # quoted local parts are refused by default
    '"ann smith"@example.com',
    '"ann@home"@example.com',
    "ann@xn--zz.com",  # looks like punycode, is not
    "ann@1.xn--4dbc.com",  # right-to-left label beside a digit label: the Bidi rule
    "ann@ab--cd.com",
    "ann@-bad.com",
    "ann@bad-.com",
    "ann@ex..com",
    "ann@exa_mple.com",
    "ann@☃.example",
    "ann@example.com\u200b",
    "ann@localhost",
    "ann@example.test",
    "ann@host.local",
    "ann@com",
    "ann@example.123",
    "ann@[127.0.0.1]",
    "ann@" + "a" * 64 + ".com",
    "ann@" + ("abcdefghi." * 26) + "com",
    "ann@",
    "@example.com",
    "not-an-email",
]


def outcome(email: str) -> tuple[str, Any]:
    """What a `PUT` body decides about an address: its stored form, or the error pydantic reports."""
    try:
        return "ok", CustomerUpsert.model_validate({"email": email}).email
    except ValidationError as error:
        return "refused", [(e["loc"], e["msg"]) for e in error.errors(include_url=False)]


def decisions() -> list[tuple[str, Any]]:
    return [outcome(email) for email in TRICKY]


def test_the_cache_decides_every_address_as_the_library_does(monkeypatch: pytest.MonkeyPatch) -> None:
    email_domains._checked.cache_clear()
    cold, warm = decisions(), decisions()
    monkeypatch.setattr(email_domains._CALLER, "validate_email_domain_name", email_domains.UNCACHED)
    library = decisions()

    assert cold == library and warm == library
    accepted = {email for email, (status, _) in zip(TRICKY, library, strict=True) if status == "ok"}
    assert {"Anna@Example.COM", "user@xn--bcher-kva.de", "Ann Smith <ann@example.com>"} <= accepted
    assert not {'"ann"@example.com', "ann@xn--zz.com", "ann@example.test", "ann@com"} & accepted


def test_a_put_body_and_an_import_row_consult_the_cache() -> None:
    email_domains._checked.cache_clear()
    CustomerUpsert.model_validate({"email": "one@cache-test.example.org"})
    CustomerBatchItem.model_validate({"external_id": "x", "email": "two@cache-test.example.org"})
    info = email_domains.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_a_refused_domain_is_not_remembered() -> None:
    before = email_domains.cache_info().currsize
    for _ in range(2):
        with pytest.raises(email_validator.EmailSyntaxError, match="two letters followed by two dashes"):
            email_domains.cached_domain_check("ab--cd.com")
    assert email_domains.cache_info().currsize == before


def test_a_caller_changing_the_result_does_not_change_the_cache() -> None:
    email_domains.cached_domain_check("bücher.de")["domain"] = "evil.example.com"
    assert email_domains.cached_domain_check("bücher.de") == {
        "ascii_domain": "xn--bcher-kva.de",
        "domain": "bücher.de",
    }


def test_the_special_use_list_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = [name for name in email_validator.SPECIAL_USE_DOMAIN_NAMES if name != "test"]
    monkeypatch.setattr(email_validator, "SPECIAL_USE_DOMAIN_NAMES", allowed)
    assert outcome("ann@shop.test") == ("ok", "ann@shop.test")  # accepted, and remembered under this list
    monkeypatch.undo()
    assert outcome("ann@shop.test")[0] == "refused"
