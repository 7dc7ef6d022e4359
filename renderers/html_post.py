"""Steps on the final email HTML: inline CSS, send links through the tracker, append the open pixel."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import css_inline

_A_TAG = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.I)
_HREF = re.compile(r"""(\shref\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_BODY_END = re.compile(r"</body\s*>", re.I)


def inline_css(document: str, extra_css: str = "") -> str:
    """Move `<style>` rules onto elements (mail clients drop head styles); keep media queries; never fetch."""
    inliner = css_inline.CSSInliner(
        load_remote_stylesheets=False,
        keep_at_rules=True,
        keep_link_tags=True,
        extra_css=extra_css or None,
    )
    return str(inliner.inline(document))


def rewrite_links(document: str, rewrite: Callable[[str], str]) -> str:
    """Pass every http(s) `<a href>` through `rewrite` (click tracking); mailto:, tel: and #anchors stay."""

    def one_href(match: re.Match[str]) -> str:
        raw = next(group for group in match.groups()[1:] if group is not None)
        url = html.unescape(raw).strip()
        if not url.lower().startswith(("http://", "https://")):
            return match.group(0)
        return f'{match.group(1)}"{html.escape(rewrite(url), quote=True)}"'

    return _A_TAG.sub(lambda tag: _HREF.sub(one_href, tag.group(0), count=1), document)


def add_open_pixel(document: str, url: str) -> str:
    """Insert a 1x1 image just before the last `</body>` (or at the end when there is none)."""
    pixel = f'<img src="{html.escape(url, quote=True)}" width="1" height="1" alt="" style="display:none">'
    ends = list(_BODY_END.finditer(document))
    if not ends:
        return document + pixel
    at = ends[-1].start()
    return document[:at] + pixel + document[at:]
