"""The authoring form: a template version's parts as flat textarea fields, and back into an API request.

Kept free of FastAPI so the round trip (version -> form -> request) can be reasoned about on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from pydantic import ValidationError

from ccm.registry.schemas import TemplateCreate, VersionCreate

BODY_KINDS = ("mjml", "html")
Request = TypeVar("Request", VersionCreate, TemplateCreate)


class FormErrors(Exception):
    """Every problem found in a submitted form, phrased for the person who filled it in."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _lines(value: str) -> str:
    """Browsers submit textareas with CRLF; templates are stored with LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class PartsForm:
    email_subject: str = ""
    email_body_kind: str = "mjml"
    email_body: str = ""
    email_text: str = ""
    attach_pdf: bool = False
    sms_text: str = ""
    pdf_html: str = ""
    pdf_css: str = ""
    sample_data: str = "{}"

    @classmethod
    def from_version(cls, parts: dict[str, Any], sample_data: dict[str, Any]) -> PartsForm:
        """Pre-fill the form with an existing version, so a new draft starts from it."""
        email, sms, pdf = parts.get("email") or {}, parts.get("sms") or {}, parts.get("pdf") or {}
        kind = "html" if email.get("html") is not None else "mjml"
        return cls(
            email_subject=email.get("subject", ""),
            email_body_kind=kind,
            email_body=email.get(kind) or "",
            email_text=email.get("text") or "",
            attach_pdf=bool(email.get("attach_pdf")),
            sms_text=sms.get("text", ""),
            pdf_html=pdf.get("html", ""),
            pdf_css=pdf.get("css") or "",
            sample_data=json.dumps(sample_data, indent=2, ensure_ascii=False),
        )

    def normalised(self) -> PartsForm:
        """The same form with LF line endings in every text field."""
        texts: dict[str, Any] = {
            f.name: _lines(getattr(self, f.name)) for f in fields(self) if f.type == "str"
        }
        return replace(self, **texts)

    def parts(self) -> dict[str, Any]:
        """Only the channels the author filled in; an empty email subject and body means no email."""
        parts: dict[str, Any] = {}
        if self.email_subject.strip() or self.email_body.strip():
            kind = self.email_body_kind if self.email_body_kind in BODY_KINDS else "mjml"
            email: dict[str, Any] = {"subject": self.email_subject}
            if self.email_body.strip():
                email[kind] = self.email_body
            if self.email_text.strip():
                email["text"] = self.email_text
            email["attach_pdf"] = self.attach_pdf
            parts["email"] = email
        if self.sms_text.strip():
            parts["sms"] = {"text": self.sms_text}
        if self.pdf_html.strip():
            parts["pdf"] = {"html": self.pdf_html, **({"css": self.pdf_css} if self.pdf_css.strip() else {})}
        return parts

    def sample(self) -> Any:
        try:
            return json.loads(self.sample_data or "{}")
        except json.JSONDecodeError as error:
            raise FormErrors([f"sample data is not valid JSON: {error}"]) from None

    def version_request(self) -> VersionCreate:
        return _validated(VersionCreate, {"parts": self.parts(), "sample_data": self.sample()})

    def template_request(self, key: str, name: str, category: str, description: str) -> TemplateCreate:
        body = {
            "key": key,
            "name": name,
            "category": category,
            "description": _lines(description),
            "parts": self.parts(),
            "sample_data": self.sample(),
        }
        return _validated(TemplateCreate, body)


def _validated(model: type[Request], body: dict[str, Any]) -> Request:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise FormErrors([_message(e) for e in error.errors()]) from None


def _message(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {text}" if where else text


@dataclass
class NewTemplateForm:
    """The "New template" form: identity fields plus the first version's parts."""

    key: str = ""
    name: str = ""
    category: str = "transactional"
    description: str = ""
    parts: PartsForm | None = None

    def request(self) -> TemplateCreate:
        parts = self.parts or PartsForm()
        return parts.template_request(self.key.strip(), self.name.strip(), self.category, self.description)
