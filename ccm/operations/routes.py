"""Operator endpoints: Prometheus metrics (scraped with an admin bearer key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ccm.access.models import ApiKey
from ccm.access.permissions import Permission
from ccm.dependencies import SessionDep, require
from ccm.operations import metrics

router = APIRouter(tags=["operations"])
Operator = Annotated[ApiKey, Depends(require(Permission.OPERATIONS_READ))]


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics(session: SessionDep, _caller: Operator) -> Response:
    """This process's counters and histograms, plus the queue depth by status and lane from the database."""
    queue = CollectorRegistry(auto_describe=True)
    queue.register(metrics.QueueDepthCollector(session))
    body = generate_latest(metrics.REGISTRY) + generate_latest(queue)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
