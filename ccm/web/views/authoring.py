"""Authoring forms: a new template, a new draft version, publishing. Each success answers 303 (PRG)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, SettingsDep
from ccm.errors import ApiError
from ccm.registry import publish_check, service, workflow
from ccm.registry.locales import normalise_locale_tag
from ccm.web.auth import Viewer, form_viewer
from ccm.web.errors import PageRoute
from ccm.web.forms import NEW_LOCALE_INPUT, FormErrors, NewTemplateForm, PartsForm, input_for_field
from ccm.web.rendering import ui_page
from ccm.web.views.params import TemplateKeyPath, VersionPath
from ccm.web.views.templates import TemplateForms, detail_page, list_context

router = APIRouter(route_class=PageRoute)
Writer = Annotated[Viewer, Depends(form_viewer(Permission.TEMPLATES_WRITE))]


async def parts_form(request: Request) -> PartsForm:
    """The posted parts, whichever channels are registered (the form is already parsed for the CSRF check)."""
    return PartsForm.from_submitted(await request.form())


Parts = Annotated[PartsForm, Depends(parts_form)]
NewLocale = Annotated[str, Form(max_length=200)]


def with_errors(parts: PartsForm, error: FormErrors | ApiError) -> tuple[PartsForm, list[str]]:
    """The form as submitted with each problem beside the input it concerns, and every problem's message."""
    if isinstance(error, FormErrors):
        return replace(parts, errors=error.inputs), error.messages
    name = input_for_field(error.field)
    return replace(parts, errors={name: [error.message]} if name else {}), [error.message]


def refused(parts: PartsForm, error: FormErrors | ApiError) -> TemplateForms:
    """The draft form as submitted, with each problem at the top and beside the input it concerns."""
    draft, messages = with_errors(parts, error)
    return TemplateForms(draft=draft, draft_errors=messages)


def with_new_locale(parts: PartsForm, tag: str) -> tuple[TemplateForms, int]:
    """The draft form with a fieldset for one more locale (the "Add locale" button without scripts)."""
    try:
        normalise_locale_tag(tag.strip())
    except ValueError as error:
        return refused(parts, FormErrors([str(error)], {NEW_LOCALE_INPUT: [str(error)]})), 422
    return TemplateForms(draft=parts.with_locale(tag)), 200


@router.post("/ui/templates")
def create_template(
    request: Request,
    session: SessionDep,
    viewer: Writer,
    parts: Parts,
    key: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    category: Annotated[str, Form(max_length=20)] = "transactional",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    form = NewTemplateForm(key, name, category, description, parts)
    try:
        template = service.create_template(session, form.request(), author=viewer.identity)
    except (FormErrors, ApiError) as error:
        session.rollback()
        form.parts, messages = with_errors(parts, error)
        context = {**list_context(session, viewer), "new": form, "new_errors": messages}
        return ui_page(request, "ui/templates_list.html", context, status_code=422)
    return RedirectResponse(f"/ui/templates/{template.key}", status_code=303)


@router.post("/ui/templates/{key}/versions")
def create_draft(
    request: Request,
    key: TemplateKeyPath,
    session: SessionDep,
    settings: SettingsDep,
    viewer: Writer,
    parts: Parts,
    add_locale: Annotated[str, Form(max_length=10)] = "",
    new_locale: NewLocale = "",
) -> Response:
    """A new draft version; a rejected one is shown again with its input and the reasons, nothing saved.
    "Add locale" only shows the form again with one more locale's fieldset."""
    service.get_template(session, key)  # an unknown template is a 404, not a form error

    def form_again(forms: TemplateForms, status: int) -> Response:
        page = (request, session, settings, viewer, key)
        return detail_page(*page, number=None, customer_id="", forms=forms, status_code=status)

    if add_locale:
        return form_again(*with_new_locale(parts, new_locale))
    try:
        version = service.add_version(session, key, parts.version_request(), author=viewer.identity)
    except (FormErrors, ApiError) as error:
        session.rollback()
        return form_again(refused(parts, error), 422)
    return RedirectResponse(f"/ui/templates/{key}?version={version.number}", status_code=303)


@router.post("/ui/templates/{key}/versions/{number}/publish")
def publish(
    key: TemplateKeyPath, number: VersionPath, session: SessionDep, settings: SettingsDep, viewer: Writer
) -> Response:
    """Make a version live (once approved, where approval applies); publishing the live one is a no-op."""
    unpublished = publish_check.version_to_publish(session, key, number)
    session.commit()  # no database lock is held while the author's template renders
    if unpublished is not None:
        publish_check.check_publishable(settings, unpublished)
    workflow.publish(session, key, number, viewer.identity, approval_categories=settings.approval_categories)
    return RedirectResponse(f"/ui/templates/{key}?version={number}", status_code=303)
