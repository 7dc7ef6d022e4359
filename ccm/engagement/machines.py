"""Which tracked clicks and opens were made by machines, each rule a small function that names its reason.

Mail security gateways fetch every link of a message to scan it, and mailbox providers fetch images through
proxies; counted as people, they make every message look opened and clicked. A rule returns its reason
(recorded as `detail.machine_reason`) or None. The agent patterns describe behaviour documented by the
vendors and observed by senders, not a copied list:

- Microsoft Defender for Office 365 Safe Links and Outlook's link previews announce themselves as
  `BingPreview`, and Office apps probing a link as `Microsoft Office` / `ms-office`; Skype and Teams link
  previews as `SkypeUriPreview`.
- Proofpoint URL Defense, Mimecast URL Protect, Barracuda Email Protection, Symantec (Broadcom)
  Email Security (formerly MessageLabs) and Trend Micro name their product in the agent when they do.
- Generic crawlers and scripts: a `bot`, `crawler` or `spider` word or `...bot/` product, HTTP libraries
  (`python-requests`, `curl`, `Wget`, `Go-http-client`, `libwww-perl`, `Java/`), headless browsers.
- Image proxies: Gmail fetches images as `... (via ggpht.com GoogleImageProxy)`, Yahoo as `YahooMailProxy`.
- Apple Mail Privacy Protection prefetches every image soon after delivery from Apple's relays, with a
  WebKit agent naming no browser (`Mozilla/5.0` alone, or `AppleWebKit/... (KHTML, like Gecko)` with no
  `Version/`, `Safari/`, `Chrome/` or `Firefox/`): that agent alone is also Apple Mail read by a person, so
  the rule needs both the agent and an open within seconds of delivery; opens from the egress ranges an
  operator loaded (`ccm.engagement.apple_ranges`) are machine at any time.

Scanners that pass for a browser are caught by timing: a click within seconds of delivery, or different
links of one message clicked within a second of each other (no person does that; a later burst reclassifies
the clicks before it, see `ccm.engagement.tracking`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Hit:
    """One request to a tracking URL: what the rules read of it."""

    method: str
    agent: str
    address: str | None
    at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class Thresholds:
    """The seconds the timing rules use (settings `CCM_TRACKING_*_SECONDS`; 0 turns a rule off)."""

    click_after_delivery: float = 10.0
    click_burst: float = 1.0
    apple_prefetch: float = 60.0


@dataclass(frozen=True)
class Judge:
    """The rules' configuration: thresholds and the operator's Apple egress ranges."""

    thresholds: Thresholds
    apple_addresses: Container[str]


Rule = Callable[[Hit, Judge], str | None]

SCANNER_AGENTS = re.compile(
    r"BingPreview|Microsoft Office|ms-office|SkypeUriPreview|Proofpoint|Mimecast|Barracuda|Symantec"
    r"|MessageLabs|Trend ?Micro|HeadlessChrome|PhantomJS|python-requests|python-urllib|aiohttp|curl/"
    r"|Wget|Go-http-client|libwww-perl|Java/|Apache-HttpClient|\b(?:bot|crawler|spider)\b|\w+bot/",
    re.IGNORECASE,
)
IMAGE_PROXIES = re.compile(r"GoogleImageProxy|YahooMailProxy", re.IGNORECASE)
APPLE_PROXY_AGENT = re.compile(
    r"^Mozilla/5\.0(?: \((?:Macintosh|iPhone|iPad)[^)]*\) AppleWebKit/[\d.]+ \(KHTML, like Gecko\))?$"
)
"""Apple's relay (and Apple Mail): a WebKit agent naming no browser product after `(KHTML, like Gecko)`."""


def _seconds_after_delivery(hit: Hit) -> float | None:
    return None if hit.sent_at is None else (hit.at - hit.sent_at).total_seconds()


def head_request(hit: Hit, _judge: Judge) -> str | None:
    """Scanners check that a link resolves with HEAD; a person's browser always GETs it."""
    return "head_request" if hit.method.upper() == "HEAD" else None


def missing_agent(hit: Hit, _judge: Judge) -> str | None:
    """Every browser and mail client sends a User-Agent; only scripts leave it out."""
    return "missing_agent" if not hit.agent.strip() else None


def scanner_agent(hit: Hit, _judge: Judge) -> str | None:
    """A link scanner, crawler or HTTP library that names itself in its agent."""
    return "scanner_agent" if SCANNER_AGENTS.search(hit.agent) else None


def click_too_soon(hit: Hit, judge: Judge) -> str | None:
    """A click within seconds of delivery: gateways scan at delivery, people read later."""
    seconds, limit = _seconds_after_delivery(hit), judge.thresholds.click_after_delivery
    return "too_soon_after_delivery" if seconds is not None and seconds < limit else None


def image_proxy(hit: Hit, _judge: Judge) -> str | None:
    """Gmail and Yahoo fetch (and cache) images themselves: their fetch is not the person's open."""
    found = IMAGE_PROXIES.search(hit.agent)
    return None if found is None else f"image_proxy:{found.group(0).lower()}"


def apple_prefetch(hit: Hit, judge: Judge) -> str | None:
    """Apple Mail Privacy Protection's traits: Apple's proxy agent, within seconds of delivery."""
    seconds, limit = _seconds_after_delivery(hit), judge.thresholds.apple_prefetch
    soon = seconds is not None and seconds < limit
    return "apple_mpp_prefetch" if soon and APPLE_PROXY_AGENT.match(hit.agent.strip()) else None


def apple_address(hit: Hit, judge: Judge) -> str | None:
    """An open fetched from one of Apple's published egress ranges, whenever it comes."""
    return "apple_mpp_address" if hit.address and hit.address in judge.apple_addresses else None


CLICK_RULES: tuple[Rule, ...] = (head_request, missing_agent, scanner_agent, click_too_soon)
OPEN_RULES: tuple[Rule, ...] = (missing_agent, image_proxy, apple_address, apple_prefetch)
"""No agent list for opens: Outlook, read by a person, fetches images as `Microsoft Office/...`."""


def first_reason(rules: Sequence[Rule], hit: Hit, judge: Judge) -> str | None:
    """The reason of the first rule that calls the hit a machine's, or None for a person's."""
    return next((reason for rule in rules if (reason := rule(hit, judge)) is not None), None)


def is_burst(url: str, at: datetime, earlier: Sequence[tuple[datetime, str]], seconds: float) -> bool:
    """Different links of one message clicked within `seconds` of each other: a scanner following them all."""
    if seconds <= 0:
        return False
    return any(other != url and abs((at - when).total_seconds()) <= seconds for when, other in earlier)
