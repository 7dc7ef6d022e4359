"""The one- or two-question survey: an NPS (0-10) or CSAT (1-5) score, and an optional comment.

An email carries one signed link per score (`survey` in its template context: `survey.nps` and
`survey.csat`, each a list of `{score, url}`); an SMS asks for a reply (`survey.nps` renders as `0-10`)
and a bare number texted back answers the newest survey SMS sent to that number. Every answer is a
`feedback` event on the customer's timeline (so it shows on their record at once) and a
`feedback.received` webhook, in one transaction. A message's latest answer is the one that counts; the
earlier ones stay on the timeline as its history.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from jinja2 import nodes
from jinja2.exceptions import TemplateSyntaxError
from sqlmodel import Session

from ccm.engagement.models import Event, EventType
from ccm.engagement.service import MessageIdentity, record_message_event
from renderers.environment import TEXT_ENV

SCORES = {"nps": range(0, 11), "csat": range(1, 6)}
"""Each kind of question and the scores it takes."""
SMS_PROMPT = {kind: f"{scores[0]}-{scores[-1]}" for kind, scores in SCORES.items()}
"""What `survey.nps` / `survey.csat` render as in an SMS: the range the customer replies with."""
MAX_COMMENT = 1000
REPLY = re.compile(r"\s*(\d{1,2})(?:[\s.,;:!-]+(.*))?", re.DOTALL)
"""An SMS answer: a number, optionally followed by a comment ("9 quick and kind")."""


class SurveyedMessage(MessageIdentity, Protocol):
    """What an answer records of the message it answers (an outbox row satisfies it)."""

    template_key: str
    campaign_id: int | None


class _StandIn(list[dict[str, Any]]):
    """A stand-in question: the links of an email's, and printed, the reply range of an SMS's."""

    def __init__(self, kind: str, base_url: str) -> None:
        super().__init__({"score": score, "url": f"{base_url}/f/preview"} for score in SCORES[kind])
        self.prompt = SMS_PROMPT[kind]

    def __str__(self) -> str:
        return self.prompt


def stand_in_survey(base_url: str) -> dict[str, Any]:
    """The `survey` value of previews and send-time checks, usable as an email's and as an SMS's."""
    return {kind: _StandIn(kind, base_url) for kind in SCORES}


def valid_answer(kind: object, score: object) -> bool:
    """Whether `score` is a score of the question `kind` (a signed token holds nothing else, but check)."""
    return isinstance(kind, str) and isinstance(score, int) and score in SCORES.get(kind, ())


def parse_reply(body: str, kind: str) -> tuple[int, str] | None:
    """(score, comment) of an SMS reply to a `kind` survey; None when it is not a score of that kind."""
    match = REPLY.fullmatch(body)
    if match is None or not valid_answer(kind, int(match.group(1))):
        return None
    return int(match.group(1)), (match.group(2) or "").strip()[:MAX_COMMENT]


def survey_kind(source: str) -> str | None:
    """The kind of survey a template source asks (`survey.nps` or `survey.csat`), None for none."""
    try:
        tree = TEXT_ENV.parse(source)
    except TemplateSyntaxError:
        return None
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "survey" and node.attr in SCORES:
            return node.attr
    return None


def record_answer(
    session: Session, message: SurveyedMessage, kind: str, score: int, comment: str, source: str
) -> Event:
    """The answer on the customer's timeline and out as `feedback.received`, in the caller's transaction."""
    detail = {
        "kind": kind,
        "score": score,
        "comment": comment.strip()[:MAX_COMMENT],
        "template": message.template_key,
        "campaign_id": message.campaign_id,
        "source": source,
    }
    return record_message_event(session, message, EventType.FEEDBACK, detail)
