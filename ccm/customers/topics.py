"""Topics: what marketing is about, so a customer can keep the newsletter and refuse the offers."""

from __future__ import annotations

from sqlmodel import Session, col, select

from ccm.customers.consent_schemas import TopicCreate, TopicIn, TopicOut
from ccm.customers.models import Consent, Topic
from ccm.database import utcnow
from ccm.errors import Conflict, NotFound


def list_topics(session: Session) -> list[Topic]:
    return list(session.exec(select(Topic).order_by(col(Topic.key))).all())


def find_topic(session: Session, key: str) -> Topic | None:
    return session.exec(select(Topic).where(Topic.key == key)).first()


def get_topic(session: Session, key: str, *, field: str = "key") -> Topic:
    """The topic, or a 404 naming it (`field` says which part of the request named it)."""
    topic = find_topic(session, key)
    if topic is None:
        raise NotFound(f"topic '{key}' not found", field=field, code="topic_not_found")
    return topic


def create_topic(session: Session, request: TopicCreate) -> Topic:
    if find_topic(session, request.key) is not None:
        raise Conflict(f"topic '{request.key}' already exists", field="key", code="topic_exists")
    topic = Topic(
        key=request.key, name=request.name, description=request.description, channels=request.channels
    )
    session.add(topic)
    session.flush()
    return topic


def update_topic(session: Session, key: str, request: TopicIn) -> Topic:
    topic = get_topic(session, key)
    topic.name, topic.description, topic.channels = request.name, request.description, request.channels
    topic.updated_at = utcnow()
    session.add(topic)
    session.flush()
    return topic


def delete_topic(session: Session, key: str) -> None:
    """Refused (409) once a customer's consent refers to it; a template naming a topic nobody has consented
    about refuses nobody, so deleting such a topic changes no send."""
    topic = get_topic(session, key)
    if session.exec(select(Consent.id).where(Consent.topic == key)).first() is not None:
        raise Conflict(f"topic '{key}' has customers' consent recorded", field="key", code="topic_in_use")
    session.delete(topic)


def topic_out(topic: Topic) -> TopicOut:
    return TopicOut(
        key=topic.key,
        name=topic.name,
        description=topic.description,
        channels=topic.channels,
        created_at=topic.created_at,
        updated_at=topic.updated_at,
    )
