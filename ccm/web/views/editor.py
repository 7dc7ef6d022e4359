"""The editor's live preview and lint: unsaved form content rendered as the page's preview partials.

`ccm/web/static/live-preview.js` posts the draft form here as the author types (same origin, session cookie,
the form's CSRF token), and swaps the HTML answered into the page; nothing is saved. The markup stays
server-rendered (the same partials as the saved version's preview), and a failure answers 422 with the
error naming the form input it concerns (`data-input`), so the script can show it beside that field.
"""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import ApiError
from ccm.registry import service
from ccm.registry.contract import check_schema, propose_schema
from ccm.registry.lint import lint, load_content
from ccm.registry.locales import all_sources
from ccm.registry.preview import Preview, load_preview, render_preview
from ccm.registry.schemas import LintRequest, PreviewRequest
from ccm.settings import Settings
from ccm.web.auth import Viewer, form_viewer
from ccm.web.errors import PageRoute
from ccm.web.form_inputs import SAMPLE_DATA_INPUT, VARIANT_PREFIX, input_for_field
from ccm.web.forms import FormErrors, PartsForm
from ccm.web.rendering import ui_page
from ccm.web.views.authoring import Parts
from ccm.web.views.params import TemplateKeyPath
from ccm.web.views.templates import channel_previews, document_of

router = APIRouter(route_class=PageRoute)
Writer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_WRITE))]
VersionField = Annotated[int | None, Form(ge=1, le=1_000_000)]
"""The version the draft form started from: the unsaved fields are laid over it."""
CustomerField = Annotated[str, Form(max_length=200, pattern=r"^(|[A-Za-z0-9][A-Za-z0-9._:@+\-]*)$")]
LocaleField = Annotated[str, Form(max_length=35)]
"""The locale the live preview renders in (a variant's tag); empty: the customer's."""
LINE = re.compile(r"\bline (\d+)\b")


class LivePreviewError(Exception):
    """Why unsaved content cannot be previewed or linted, and the API field (or form input) it concerns."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


Unsaved = TypeVar("Unsaved", PreviewRequest, LintRequest)


def unsaved_request(model: type[Unsaved], body: dict[str, Any]) -> Unsaved:
    """The API's request for the form's content, or its first problem with the field it names."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(step) for step in first.get("loc", ()))
        text = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise LivePreviewError(f"{where}: {text}" if where else text, where or None) from None


def form_content(parts: PartsForm) -> dict[str, Any]:
    """Parts, sample data, the locales (when the form has any fieldsets), the layout chosen (when the form
    has the field) and the schema typed (None when the form has no schema field; checked here, as saving
    would); a problem names its input."""
    try:
        content = {"parts": parts.parts(), "sample_data": parts.sample(), "locales": parts.locales()}
        schema = parts.data_schema() if parts.schema is not None else None
        layout = parts.layout_pin()
    except FormErrors as error:
        raise LivePreviewError(error.messages[0], next(iter(error.inputs), None)) from None
    if isinstance(schema, dict):
        check_schema(schema)
    if not parts.variants:
        del content["locales"]  # none in the form: the version's own (a form without the fieldsets)
    if layout is not None:
        content["layout"] = layout  # the layout chosen, or False for none; absent: the version's own
    return {**content, "schema": schema}


def preview_request(
    parts: PartsForm, version: int | None, customer_id: str, locale: str = ""
) -> PreviewRequest:
    """The form's parts and locales over the version it started from, with its sample data (or a
    customer's), in the locale chosen (or the customer's)."""
    content = form_content(parts)
    body = {
        "parts": content["parts"],
        "data": content["sample_data"],
        "version": version,
        "customer_id": customer_id or None,
        "locale": locale.strip() or None,
    }
    for optional in ("locales", "layout"):
        if optional in content:
            body[optional] = content[optional]
    return unsaved_request(PreviewRequest, body)


def lint_request(parts: PartsForm, version: int | None) -> LintRequest:
    """The form's content over the version it started from: an empty schema field lints with the schema
    saving would propose; without the field (or locale fieldsets) the version's own stand."""
    content = form_content(parts)
    body: dict[str, Any] = {**content, "version": version}
    if parts.schema is not None and content["schema"] is None:
        sources = all_sources(content["parts"], content.get("locales") or {})
        body["schema"] = propose_schema(sources, content["sample_data"])
    if body["schema"] is None:
        del body["schema"]
    return unsaved_request(LintRequest, body)


def render_unsaved(session: Session, settings: Settings, key: str, request: PreviewRequest) -> Preview:
    """Read what the preview needs, release the database, then render (as the page's own preview does)."""
    loaded = load_preview(session, key, request, settings)
    session.commit()
    return render_preview(settings, loaded)


def error_context(message: str, field: str | None) -> dict[str, Any]:
    """The error, the input it belongs to, and the template line it names (for a part's source only)."""
    named_input = field is not None and field.startswith(VARIANT_PREFIX)
    input_name = field if named_input else input_for_field(field)
    line = LINE.search(message)
    on_source = input_name not in (None, SAMPLE_DATA_INPUT)
    return {
        "preview_error": message,
        "error_input": input_name,
        "error_line": int(line.group(1)) if line and on_source else None,
    }


def preview_context(result: Preview, key: str) -> dict[str, Any]:
    """The channel partials' context; a PDF travels inline, to be framed from a blob: URL by the script."""
    document = document_of(result)
    pdf = base64.b64encode(document.data).decode() if document is not None else ""
    previews = channel_previews(result, key)
    return {"preview": result, "previews": previews, "pdf_url": None, "pdf_base64": pdf}


@router.post("/ui/templates/{key}/preview")
def live_preview(
    request: Request,
    key: TemplateKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Writer,
    parts: Parts,
    version: VersionField = None,
    customer_id: CustomerField = "",
    preview_locale: LocaleField = "",
) -> Response:
    """The unsaved form rendered like a saved version's preview; 422 with the error where it cannot be."""
    service.get_template(session, key)  # an unknown template is a 404 page, not a preview error
    context: dict[str, Any] = {"customer_id": customer_id}
    try:
        request_body = preview_request(parts, version, customer_id, preview_locale)
        result = render_unsaved(session, settings, key, request_body)
    except (LivePreviewError, ApiError) as error:
        session.rollback()
        context.update(error_context(error.message, error.field))
        return ui_page(request, "ui/_live_preview.html", context, status_code=422)
    context.update(preview_context(result, key))
    return ui_page(request, "ui/_live_preview.html", context)


def issue_field(part: str, locale: str | None) -> str:
    """The API field a lint issue is about: `email.html` in the default parts, `locales.it.email.html`."""
    return part if locale is None else f"locales.{locale}.{part}"


@router.post("/ui/templates/{key}/lint")
def live_lint(
    request: Request,
    key: TemplateKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    _viewer: Writer,
    parts: Parts,
    version: VersionField = None,
) -> Response:
    """The lint issues of the unsaved form, each naming the input and line it concerns; while the content
    cannot be read (the live preview shows why), there is nothing to lint."""
    service.get_template(session, key)  # an unknown template is a 404 page
    try:
        content = load_content(session, key, lint_request(parts, version))
    except (LivePreviewError, ApiError) as error:
        session.rollback()
        return ui_page(request, "ui/_lint_issues.html", {"issues": [], "unavailable": error.message})
    session.commit()  # the sample renders happen without a database lock held
    issues = lint(settings, content)
    rows = [(issue, input_for_field(issue_field(issue.part, issue.locale))) for issue in issues]
    return ui_page(request, "ui/_lint_issues.html", {"issues": rows})
