"""The journey engine: claim due runs with a lease, carry each through its steps until it waits or ends.

Claiming is the outbox's pattern (`ccm.communications.worker`): one transaction selects due rows with
`FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers) and writes the lease, so any number of
workers share the table and a dead worker's runs are claimed again once its lease expires. Each step ends
in one transaction that writes its effect (the queued message and its idempotency record, an attribute),
its `journey_step_runs` row (unique per run and step) and the run's new place, after checking the lease is
still this worker's: a re-run after a crash finds the step undone, or done and the run moved on, never half.
A step that raises is tried again after a backoff, `CCM_JOURNEY_STEP_MAX_ATTEMPTS` times in all; then the
run ends as `failed` with the error kept on it. A database error is not the step's: it waits for the lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from ccm.customers.models import Customer
from ccm.database import session_scope
from ccm.journeys.checks import successors
from ccm.journeys.clock import journey_now
from ccm.journeys.definition import JourneyContent, Step
from ccm.journeys.models import Enrolment, Journey, JourneyState, JourneyVersion, Outcome, RunStatus, StepRun
from ccm.journeys.steps import STEP_KINDS, Result, Run
from ccm.leases import claim_due
from ccm.settings import Settings

logger = logging.getLogger(__name__)
MAX_STEPS_PER_TURN = 200
"""A run goes through at most this many steps per claim (there are at most 100, and no cycles)."""
MAX_BACKOFF_SECONDS = 3600.0


class LeaseLost(Exception):
    """The run is no longer this worker's (its lease expired and another took it, or it ended)."""


class JourneyRunner:
    def __init__(self, engine: Engine, settings: Settings, *, name: str | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:jr-{uuid.uuid4().hex[:6]}"

    def run(self, stop: threading.Event) -> None:
        """Carry due runs on until `stop` is set, sleeping the poll interval whenever nothing is due."""
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except Exception:
                logger.exception("journey runner failed; retrying", extra={"worker": self.name})
                busy = False
            if not busy:
                stop.wait(self.settings.worker_poll_interval * 2)

    def run_once(self) -> int:
        """Claim one batch and carry each run on; a run whose step fails is tried again after a backoff."""
        claimed = self.claim(self.settings.worker_batch_size)
        for enrolment_id in claimed:
            try:
                self.process(enrolment_id)
            except Exception:  # even recording the failure failed (the database went away): the lease
                logger.exception("journey run %s failed; retried once its lease expires", enrolment_id)
        return len(claimed)

    def run_until_idle(self, *, max_batches: int = 1000) -> int:
        """Everything due now (tests, `ccm worker --once`); how many claims were processed."""
        total = 0
        for _ in range(max_batches):
            done = self.run_once()
            if not done:
                break
            total += done
        return total

    def claim(self, limit: int) -> list[str]:
        """Lease up to `limit` due runs of active journeys, oldest due first."""
        now = journey_now(self.settings)
        active = select(Journey.id).where(Journey.state == JourneyState.ACTIVE)
        due = [
            col(Enrolment.status) == RunStatus.ACTIVE,
            col(Enrolment.due_at) <= now,
            col(Enrolment.journey_id).in_(active),
        ]
        with session_scope(self.engine) as session:
            ids: list[str] = claim_due(
                session,
                Enrolment,
                due,
                [col(Enrolment.due_at)],
                limit,
                owner=self.name,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            )
        return ids

    def process(self, enrolment_id: str) -> None:
        """Carry one claimed run through its steps until it holds or ends; a lost lease stops quietly."""
        try:
            for _ in range(MAX_STEPS_PER_TURN):
                if not self._step(enrolment_id):
                    return
            self._hand_back(enrolment_id)
        except LeaseLost:
            logger.info("journey run %s is no longer ours", enrolment_id, extra={"worker": self.name})
        except IntegrityError:
            logger.warning("journey run %s: step already recorded by another worker", enrolment_id)
        except OperationalError:
            raise  # the database, not the step (connection lost, deadlock): retried after its lease
        except Exception as error:
            logger.exception("journey run %s: its step failed", enrolment_id, extra={"worker": self.name})
            self._failed(enrolment_id, error)

    def _failed(self, enrolment_id: str, error: Exception) -> None:
        """Count a failed attempt at the run's step: due again after a backoff or, at the last attempt, the
        run ends as `failed` with the error kept in its `step_state` (never retried forever nor dropped)."""
        now = journey_now(self.settings)
        try:
            with session_scope(self.engine) as session:
                enrolment = self._owned(session, enrolment_id)
                attempts = int(enrolment.step_state.get("attempts", 0)) + 1
                failure = {"attempts": attempts, "error": f"{type(error).__name__}: {error}"[:500]}
                if attempts >= self.settings.journey_step_max_attempts:
                    _end(enrolment, RunStatus.FAILED, "step_failed", now)
                    enrolment.step_state = failure
                else:
                    enrolment.step_state = {**enrolment.step_state, **failure}
                    enrolment.due_at = now + _backoff(self.settings, attempts)
                    _release(enrolment)
                enrolment.updated_at = now
                session.add(enrolment)
        except LeaseLost:
            logger.info("journey run %s is no longer ours", enrolment_id, extra={"worker": self.name})

    def _step(self, enrolment_id: str) -> bool:
        """Run the run's current step in one unit of work; whether it moved on to another step now."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                enrolment = self._owned(session, enrolment_id)
                version = session.get(JourneyVersion, enrolment.version_id)
                customer = session.get(Customer, enrolment.customer_id)
                assert version is not None and customer is not None
                content = JourneyContent.model_validate(version.definition)
                step = _step_of(content, enrolment.step_id)
                now = journey_now(self.settings)
                run = Run(session, self.settings, enrolment, customer, content, step, now, session.commit)
                result = STEP_KINDS[step.kind](run, step.body)
                enrolment = self._owned(session, enrolment_id)  # the step may have ended the transaction
                moved = self._apply(session, enrolment, content, step, result, now)
                session.commit()
                return moved
            except BaseException:
                session.rollback()
                raise

    def _owned(self, session: Session, enrolment_id: str) -> Enrolment:
        """The run, locked, if this worker still holds it and it is still running."""
        enrolment = session.get(Enrolment, enrolment_id, with_for_update=True, populate_existing=True)
        if enrolment is None or enrolment.status != RunStatus.ACTIVE or enrolment.locked_by != self.name:
            raise LeaseLost(enrolment_id)
        return enrolment

    def _apply(
        self,
        session: Session,
        enrolment: Enrolment,
        content: JourneyContent,
        step: Step,
        result: Result,
        now: datetime,
    ) -> bool:
        """Write the step's record and the run's next place; whether the run goes on at once."""
        enrolment.updated_at = now
        session.add(enrolment)
        if result.outcome is None and result.end is None:
            enrolment.wait_until = enrolment.due_at = result.hold_until
            if result.state is not None:
                enrolment.step_state = result.state
            _release(enrolment)
            return False
        if result.outcome is not None:
            session.add(_record(enrolment, step, result, now))
        following = result.next or _default_next(content, step)
        if result.end is not None or following is None:
            _end(enrolment, result.end or RunStatus.COMPLETED, result.reason or "completed", now)
            return False
        enrolment.step_id, enrolment.step_entered_at, enrolment.wait_until = following, now, None
        enrolment.step_state = {}
        enrolment.due_at = now
        session.flush()
        return True

    def _hand_back(self, enrolment_id: str) -> None:
        """A run that used its turn goes back in the queue, due now."""
        with session_scope(self.engine) as session:
            enrolment = self._owned(session, enrolment_id)
            _release(enrolment)
            session.add(enrolment)


def _backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait before another try at a failing step: as a message's retries, doubling, at most an hour."""
    return timedelta(seconds=min(settings.retry_base_seconds * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS))


def _step_of(content: JourneyContent, step_id: str | None) -> Step:
    for step in content.steps:
        if step.id == step_id:
            return step
    raise AssertionError(f"step {step_id!r} is not in the run's version")


def _default_next(content: JourneyContent, step: Step) -> str | None:
    index = next(i for i, s in enumerate(content.steps) if s.id == step.id)
    following = successors(content.steps, index)
    return following[0] if following else None


def _record(enrolment: Enrolment, step: Step, result: Result, now: datetime) -> StepRun:
    return StepRun(
        enrolment_id=enrolment.id,
        version_id=enrolment.version_id,
        step_id=step.id,
        outcome=result.outcome or Outcome.PASSED,
        reason=result.reason if result.outcome == Outcome.SKIPPED else None,
        message_id=result.message_id,
        detail=result.detail,
        occurred_at=now,
    )


def _end(enrolment: Enrolment, status: RunStatus, reason: str, now: datetime) -> None:
    enrolment.status, enrolment.end_reason, enrolment.ended_at = status, reason, now
    enrolment.due_at = enrolment.wait_until = None
    enrolment.step_state = {}
    _release(enrolment)


def _release(enrolment: Enrolment) -> None:
    enrolment.lease_until = None
    enrolment.locked_by = None
