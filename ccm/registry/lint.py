"""Lint: what an author should fix before a version is reviewed, found without sending anything.

A version's content is linted as `Subject`s: its default parts, then each locale variant's own fields
(`locale` names the variant). A rule is a small function from a subject to `Finding`s; `RULES` lists every
rule with its name and severity, so a new rule is one function and one line there. Errors stop a
submission (422 `lint_failed`); warnings are shown to the author and reviewer.

Rules read the sources (line numbers are the author's) and, for what only a render can tell (the size of
an email, the segments of an SMS), the content rendered with the version's sample data. Those renders go
through the render pool like a preview's, because templates are untrusted; the rules themselves are pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

from jinja2 import nodes
from sqlmodel import Session

from ccm.channels import RenderOptions, channels_of, get_channel
from ccm.channels.bounded import render_bounded
from ccm.channels.library import PDF_LAYOUT, with_library
from ccm.errors import Unprocessable
from ccm.personalisation.context import PREVIEW_CUSTOMER, build_context
from ccm.personalisation.render import with_stand_ins
from ccm.registry import service
from ccm.registry.contract import check_schema
from ccm.registry.data_paths import ITEMS, VariablePath, used_variables
from ccm.registry.declared import first_undeclared
from ccm.registry.locales import all_sources, check_locales, localised_parts, posix_locale
from ccm.registry.markup import Reference, css_references, has_expression, references, scan
from ccm.registry.models import Template, TemplateVersion
from ccm.registry.pins import library_for_unsaved
from ccm.registry.schemas import LintRequest
from ccm.settings import Settings
from renderers.email import RenderedEmail
from renderers.environment import TEXT_ENV
from renderers.errors import RenderError
from renderers.pdf_fetcher import ASSET_BASE_URL, asset_location
from renderers.sms import RenderedSms, ucs2_characters

Severity = Literal["error", "warning"]
Parts = dict[str, dict[str, Any]]

GMAIL_CLIP_BYTES = 102 * 1024
"""Gmail shows "[Message clipped]" and hides the rest (the unsubscribe link too) past this much HTML."""
EMAIL_BODIES = ("email.html", "email.mjml")
HTML_SOURCES = (*EMAIL_BODIES, "pdf.html")
"""The part fields that are HTML (or MJML): where images and links are looked for."""
STYLESHEETS = ("pdf.css",)
"""Part fields that are not Jinja, linted only for what they reference."""
SAMPLED_FIELDS = {"email": ("html", "mjml"), "sms": ("text",)}
"""The channels rendered with the sample data, for the rules only a render can answer, and the fields whose
change (in a locale variant) makes a new render worth it."""


@dataclass(frozen=True)
class LintIssue:
    rule: str
    severity: Severity
    part: str
    """The part field, as `email.html` or `sms.text`."""
    locale: str | None
    """The locale variant the issue is in; None for the default parts."""
    line: int | None
    """1-based, in that field's source; None when the issue has no one place."""
    message: str


@dataclass(frozen=True)
class Finding:
    """What a rule reports; the runner adds the rule's name, its severity and the subject's locale."""

    part: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class LintContent:
    """A version's content as plain values: a saved version's, or the editor's unsaved one."""

    parts: Parts
    locales: Mapping[str, Parts]
    schema: Mapping[str, Any] | None
    category: str
    sample_data: Mapping[str, Any]
    library: Mapping[str, str] = field(default_factory=dict)
    """The pinned layout and partial sources (`ccm.registry.pins`): sample renders include them."""


@dataclass(frozen=True)
class LintLimits:
    """What the rules measure against, from settings."""

    assets_dir: Path | None
    sms_segments: int


@dataclass(frozen=True)
class Subject:
    """One thing to lint: the default parts (locale None) or a locale variant's own fields."""

    locale: str | None
    sources: list[tuple[str, str]]
    """The Jinja sources this subject holds, by part field (`email.html`); a variant's own fields only."""
    schema: Mapping[str, Any] | None
    category: str
    limits: LintLimits
    samples: Mapping[str, Any] = field(default_factory=dict)
    """Each sampled channel's render with the sample data (RenderedEmail, RenderedSms) or its RenderError."""
    library: Mapping[str, str] = field(default_factory=dict)
    """The pinned sources the subject's email and PDF are wrapped in and include."""

    def source(self, where: str) -> str | None:
        return dict(self.sources).get(where)


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    check: Callable[[Subject], Iterable[Finding]]


# --- the rules ---------------------------------------------------------------------------------------


def undeclared_variables(subject: Subject) -> Iterator[Finding]:
    """A variable the parts read that the data schema does not declare: the contract would not make sends
    carry it (the service's own variables, `customer.*` and `unsubscribe_url`, need no declaring)."""
    if subject.schema is None:
        return
    for where, source in subject.sources:
        tree = None if where in STYLESHEETS else _parsed(source)
        if tree is None:
            continue
        required, optional = used_variables([source])
        reported: set[VariablePath] = set()
        for path in sorted(required | optional, key=lambda p: (len(p), p)):
            index = first_undeclared(subject.schema, path)
            if index is None or path[: index + 1] in reported:
                continue
            reported.add(path[: index + 1])
            dotted = ".".join(path[: index + 1]).replace(f".{ITEMS}", ITEMS)
            line = _first_use(tree, path[index], top_level=index == 0)
            yield Finding(where, f"'{dotted}' is not declared in the version's data schema", line)


def images_without_alt(subject: Subject) -> Iterator[Finding]:
    """Screen readers read out nothing (or the file name) for an image without `alt`; `alt=""` marks a
    decorative one and is fine."""
    for where in HTML_SOURCES:
        for element in _elements(subject, where):
            if element.tag in ("img", "mj-image") and "alt" not in element.attributes:
                src = element.attributes.get("src") or ""
                yield Finding(where, f'<{element.tag} src="{src}"> has no alt text', element.line)


def insecure_links(subject: Subject) -> Iterator[Finding]:
    """An `http:` link is readable and changeable on the way, and mail clients flag it."""
    for where in HTML_SOURCES:
        for element in _elements(subject, where):
            href = (element.attributes.get("href") or "").strip()
            if href.lower().startswith("http:"):
                yield Finding(where, f"link to {href} is not https", element.line)


def email_clipped(subject: Subject) -> Iterator[Finding]:
    """Gmail clips HTML past 102 KB (tracking links, added at send time, only make it longer)."""
    email = subject.samples.get("email")
    if isinstance(email, RenderedEmail):
        size = len(email.html.encode())
        if size > GMAIL_CLIP_BYTES:
            where = next((w for w in EMAIL_BODIES if subject.source(w) is not None), "email.html")
            yield Finding(
                where,
                f"the email's HTML is {size / 1024:.0f} KB with the sample data; Gmail clips it past 102 KB,"
                " hiding the rest of the message and its unsubscribe link",
            )


def missing_unsubscribe(subject: Subject) -> Iterator[Finding]:
    """A marketing email must let its reader unsubscribe (the law, and the mailbox providers, say so)."""
    if subject.category != "marketing" or _links_unsubscribe(subject.library):
        return
    for where in EMAIL_BODIES:
        source = subject.source(where)
        tree = None if source is None else _parsed(source)
        if tree is not None and not any(n.name == "unsubscribe_url" for n in tree.find_all(nodes.Name)):
            yield Finding(where, "a marketing email needs an unsubscribe link: use {{ unsubscribe_url }}")


def _links_unsubscribe(library: Mapping[str, str]) -> bool:
    """Whether the email layout or a pinned partial carries the unsubscribe link for every body it wraps."""
    sources = [source for name, source in library.items() if name != PDF_LAYOUT]
    trees = [tree for tree in map(_parsed, sources) if tree is not None]
    return any(n.name == "unsubscribe_url" for tree in trees for n in tree.find_all(nodes.Name))


def sms_segments(subject: Subject) -> Iterator[Finding]:
    """Each segment is billed: an SMS longer than the configured number costs more than it should."""
    sms = subject.samples.get("sms")
    limit = subject.limits.sms_segments
    if isinstance(sms, RenderedSms) and subject.source("sms.text") is not None and sms.segments > limit:
        yield Finding(
            "sms.text",
            f"the SMS takes {sms.segments} segments ({sms.encoding}) with the sample data, more than {limit}",
        )


def sms_ucs2(subject: Subject) -> Iterator[Finding]:
    """One character outside the GSM alphabet makes the whole SMS UCS-2: 70 characters a segment, not 160."""
    source = subject.source("sms.text")
    if source is None:
        return
    sms = subject.samples.get("sms")
    text = sms.text if isinstance(sms, RenderedSms) else source
    for character, position in ucs2_characters(text):
        offset = source.find(character)
        name = f"'{character}' (U+{ord(character):04X})"
        if offset >= 0:
            line, column = _line_column(source, offset)
            yield Finding(
                "sms.text", f"{name} at line {line}, column {column} switches the SMS to UCS-2", line
            )
        else:
            yield Finding(
                "sms.text",
                f"{name} from the sample data, at character {position} of the message, switches the SMS to"
                " UCS-2",
            )


def missing_assets(subject: Subject) -> Iterator[Finding]:
    """A PDF may load files only from the templates' assets folder; a reference to one not there fails."""
    for where in ("pdf.html", "pdf.css"):
        source = subject.source(where)
        if source is None:
            continue
        found = css_references(source) if where == "pdf.css" else references(scan(source))
        for reference in found:
            problem = _asset_problem(reference, subject.limits.assets_dir)
            if problem:
                yield Finding(where, problem, reference.line)


def sample_render_failures(subject: Subject) -> Iterator[Finding]:
    """A sampled channel that does not render with the sample data was not measured: say so."""
    for channel, result in subject.samples.items():
        if isinstance(result, RenderError):
            where = next((w for w, _ in subject.sources if w.startswith(f"{channel}.")), channel)
            yield Finding(where, f"not measured: it does not render with the sample data ({result.message})")


RULES: list[Rule] = [
    Rule("undeclared_variable", "error", undeclared_variables),
    Rule("image_alt", "warning", images_without_alt),
    Rule("insecure_link", "warning", insecure_links),
    Rule("email_size", "warning", email_clipped),
    Rule("unsubscribe_link", "error", missing_unsubscribe),
    Rule("sms_segments", "warning", sms_segments),
    Rule("sms_ucs2", "warning", sms_ucs2),
    Rule("missing_asset", "error", missing_assets),
    Rule("sample_render", "warning", sample_render_failures),
]
"""Every rule, in the order its issues are listed."""


# --- running them ------------------------------------------------------------------------------------


def run_rules(subjects: Iterable[Subject], rules: Iterable[Rule] = RULES) -> list[LintIssue]:
    """Every rule over every subject: default parts first, then each locale."""
    rule_list = list(rules)
    return [
        LintIssue(rule.name, rule.severity, found.part, subject.locale, found.line, found.message)
        for subject in subjects
        for rule in rule_list
        for found in rule.check(subject)
    ]


def subjects_of(content: LintContent, limits: LintLimits, samples: Mapping[str | None, Any]) -> list[Subject]:
    """The default parts and each locale variant's own fields, with their sample renders."""
    library = content.library
    default = _sources(content.parts)
    made = [Subject(None, default, content.schema, content.category, limits, samples.get(None, {}), library)]
    for tag in sorted(content.locales):
        own = content.locales[tag]
        effective = localised_parts(content.parts, content.locales, tag)
        sources = [(w, s) for w, s in _sources(effective) if _field_of(w) in own.get(_channel_of(w), {})]
        samples_of = samples.get(tag, {})
        made.append(Subject(tag, sources, content.schema, content.category, limits, samples_of, library))
    return made


def lint(settings: Settings, content: LintContent) -> list[LintIssue]:
    """Render the samples in the render pool, then run every rule."""
    limits = LintLimits(settings.assets_dir, settings.lint_sms_segments)
    return run_rules(subjects_of(content, limits, sample_renders(settings, content)))


def sample_renders(settings: Settings, content: LintContent) -> dict[str | None, dict[str, Any]]:
    """The sampled channels of the default parts and of each variant that changes them, rendered with the
    sample data as a preview would (the variant's locale, the service's stand-ins for its own variables)."""
    customer = {**PREVIEW_CUSTOMER, **(content.sample_data.get("customer") or {})}
    context = with_stand_ins(settings, build_context(customer, dict(content.sample_data)))
    renders: dict[str | None, dict[str, Any]] = {}
    for tag in [None, *sorted(content.locales)]:
        localised = content.parts if tag is None else localised_parts(content.parts, content.locales, tag)
        parts = with_library(dict(localised), dict(content.library))
        owned = content.parts if tag is None else content.locales[tag]
        options = RenderOptions(
            locale=posix_locale(tag) if tag else str(customer.get("locale") or "en"),
            timezone=str(customer.get("timezone") or "UTC"),
            assets_dir=settings.assets_dir,
        )
        renders[tag] = {
            channel: _render(settings, channel, parts, context, options)
            for channel, fields in SAMPLED_FIELDS.items()
            if channel in parts and any(name in owned.get(channel, {}) for name in fields)
        }
    return renders


def _render(
    settings: Settings, channel: str, parts: Parts, context: dict[str, Any], options: RenderOptions
) -> Any:
    try:
        return render_bounded(settings, channel, parts, context, options)
    except RenderError as error:
        return error


def content_of(template: Template, version: TemplateVersion) -> LintContent:
    """A saved version's content (locales and schema read with defaults, for versions that lack them)."""
    return LintContent(
        parts=version.parts,
        locales=getattr(version, "locales", None) or {},
        schema=getattr(version, "data_schema", None),
        category=str(template.category),
        sample_data=version.sample_data,
        library=getattr(version, "library", None) or {},
    )


def load_content(session: Session, key: str, request: LintRequest) -> LintContent:
    """What a lint request names: the version (default the latest) with the request's unsaved fields over
    it, those checked as saving them would be (422 as for a new version); read before anything renders."""
    template = service.get_template(session, key)
    if request.version is not None:
        base = service.get_version(session, key, request.version)
    else:
        base = service.latest_version(session, template)
    saved = content_of(template, base)
    parts = saved.parts if request.parts is None else request.parts
    locales = dict(saved.locales) if request.locales is None else request.locales
    library = saved.library
    if request.parts is not None or request.locales is not None or request.layout is not None:
        library = library_for_unsaved(session, base.layout, all_sources(parts, locales), request.layout)
        service.check_parts(with_library(parts, library))
        check_locales(parts, locales, library)
    schema = saved.schema
    if isinstance(request.data_schema, dict):
        check_schema(request.data_schema)
        schema = request.data_schema
    elif request.data_schema is False:
        schema = None
    sample_data = saved.sample_data if request.sample_data is None else request.sample_data
    return LintContent(parts, locales, schema, saved.category, sample_data, library)


def lint_version(settings: Settings, template: Template, version: TemplateVersion) -> list[LintIssue]:
    """A saved version's issues."""
    return lint(settings, content_of(template, version))


def require_no_lint_errors(
    settings: Settings, template: Template, version: TemplateVersion
) -> list[LintIssue]:
    """The version's warnings, or a 422 `lint_failed` listing every issue when any is an error."""
    issues = lint_version(settings, template, version)
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors:
        raise Unprocessable(
            f"version {version.number} of '{template.key}' has {len(errors)} lint error(s); the first: "
            f"{errors[0].part}: {errors[0].message}",
            field="version",
            code="lint_failed",
            extra={"details": [issue_dict(issue) for issue in issues]},
        )
    return issues


def issue_dict(issue: LintIssue) -> dict[str, Any]:
    """An issue as the API shows it (`LintIssueOut`, and the `details` of `lint_failed`)."""
    return {
        "rule": issue.rule,
        "severity": issue.severity,
        "part": issue.part,
        "locale": issue.locale,
        "line": issue.line,
        "message": issue.message,
    }


# --- helpers -----------------------------------------------------------------------------------------


def _sources(parts: Parts) -> list[tuple[str, str]]:
    """Every Jinja source of the parts, by part field, as each channel's spec names them, and the PDF's
    stylesheet (static, but it may reference assets)."""
    found: list[tuple[str, str]] = []
    for channel in channels_of(parts):
        found += [s for s in get_channel(channel).sources(parts) if s not in found]
    css = (parts.get("pdf") or {}).get("css")
    return found + ([("pdf.css", css)] if isinstance(css, str) else [])


def _channel_of(where: str) -> str:
    return where.split(".", 1)[0]


def _field_of(where: str) -> str:
    return where.split(".", 1)[1]


@lru_cache(maxsize=16)
def _parsed(source: str) -> nodes.Template | None:
    """The source's syntax tree; None when it does not parse (saving refuses such a source anyway)."""
    try:
        return TEXT_ENV.parse(source)
    except Exception:  # a syntax error, or Python's own limits on deeply nested sources
        return None


def _first_use(tree: nodes.Template, step: str, *, top_level: bool) -> int | None:
    """The line where a path's undeclared step is first read: a name, an attribute or a constant key."""
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Name):
            found = top_level and node.name == step and node.ctx == "load"
        elif isinstance(node, nodes.Getattr):
            found = node.attr == step
        elif isinstance(node, nodes.Getitem):
            found = isinstance(node.arg, nodes.Const) and node.arg.value == step
        else:
            found = False
        if found:
            return int(node.lineno)
    return None


def _elements(subject: Subject, where: str) -> list[Any]:
    source = subject.source(where)
    return [] if source is None else scan(source).elements


def _line_column(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def _asset_problem(reference: Reference, assets_dir: Path | None) -> str | None:
    """Why a relative URL will not load in the PDF; None for one that will, or that is not relative."""
    url = reference.url
    if not url or url.startswith("#") or url.lower().startswith("data:") or has_expression(url):
        return None
    absolute = urljoin(ASSET_BASE_URL, url)
    if not absolute.startswith(ASSET_BASE_URL):
        return None
    if assets_dir is None:
        return f"'{url}' needs an assets folder, and the service has none"
    path = asset_location(assets_dir.resolve(), absolute)
    if path is None:
        return f"'{url}' points outside the assets folder"
    if not path.is_file():
        return f"'{url}' is not in the assets folder"
    return None
