"""HTTP for topics: marketers and admins define them; every role that reads templates may list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.customers import topics
from ccm.customers.consent_schemas import TopicCreate, TopicIn, TopicList, TopicOut
from ccm.dependencies import ReadSessionDep, SessionDep, require

router = APIRouter(prefix="/v1/topics", tags=["topics"])
Reader = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_READ))]
Writer = Annotated[ApiKey, Depends(require(Permission.TEMPLATES_WRITE))]
"""Topics are the marketers' vocabulary, edited where templates are."""
KeyPath = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


@router.get("", response_model=TopicList)
def list_topics(session: ReadSessionDep, _caller: Reader) -> TopicList:
    return TopicList(topics=[topics.topic_out(t) for t in topics.list_topics(session)])


@router.post("", status_code=201, response_model=TopicOut, responses={409: {"description": "key taken"}})
def create_topic(request: TopicCreate, session: SessionDep, _caller: Writer) -> TopicOut:
    return topics.topic_out(topics.create_topic(session, request))


@router.get("/{key}", response_model=TopicOut, responses={404: {}})
def get_topic(key: KeyPath, session: ReadSessionDep, _caller: Reader) -> TopicOut:
    return topics.topic_out(topics.get_topic(session, key))


@router.put("/{key}", response_model=TopicOut, responses={404: {}})
def update_topic(key: KeyPath, request: TopicIn, session: SessionDep, _caller: Writer) -> TopicOut:
    return topics.topic_out(topics.update_topic(session, key, request))


@router.delete("/{key}", status_code=204, response_class=Response, responses={404: {}, 409: {}})
def delete_topic(key: KeyPath, session: SessionDep, _caller: Writer) -> Response:
    """Refused while customers' consent refers to the topic: their history must stay readable."""
    topics.delete_topic(session, key)
    return Response(status_code=204)
