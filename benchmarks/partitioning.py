"""What range-partitioning `messages` and `events` by month costs and saves, measured on real PostgreSQL.

Two scratch databases on 127.0.0.1:5432 (user postgres) are migrated with ccm's own Alembic migrations. In
`plain` the schema stays as it is; in `partitioned`, `messages` becomes `PARTITION BY RANGE (created_at)` and
`events` `PARTITION BY RANGE (occurred_at)`, one partition per month. That forces each primary key to include
its partition key (`(id, created_at)`, `(id, occurred_at)`), so no foreign key can point at `messages.id`
alone any more, nor can a unique index lack it: the script lists every foreign key and uniqueness lost. Then
both get the same rows, inserted the way campaign fan-out inserts them (`message_values` rows, one executemany
per table and batch of 1,000), and both run the app's own queries: the worker's claim (`ccm.leases.claim_due`,
`FOR UPDATE SKIP LOCKED`), a message by id (`get_message`), an outcome update by id, a customer's timeline
(`engagement.service.timeline`), the analytics report over a month (`ccm.analytics.figures.analytics`), then
retention: dropping the oldest month by `DELETE` + `VACUUM` against `DETACH PARTITION` + `DROP TABLE`. Sizes
are read before and after.

    .venv/bin/python benchmarks/partitioning.py                  # 100,000 messages over 6 months
    .venv/bin/python benchmarks/partitioning.py --rows 1000000

Both databases are dropped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import case, insert, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ccm.all_models  # noqa: E402, F401
from ccm.access.identity import SYSTEM_IDENTITY  # noqa: E402
from ccm.analytics.figures import analytics  # noqa: E402
from ccm.analytics.window import AnalyticsQuery  # noqa: E402
from ccm.communications.models import CLAIMABLE_STATUSES, Message, MessageStatus  # noqa: E402
from ccm.communications.service import get_message, message_values  # noqa: E402
from ccm.customers.models import Customer  # noqa: E402
from ccm.database import make_engine  # noqa: E402
from ccm.engagement.models import Event, EventType  # noqa: E402
from ccm.engagement.service import timeline  # noqa: E402
from ccm.leases import claim_due  # noqa: E402
from ccm.migrate import upgrade  # noqa: E402
from ccm.registry import service, workflow  # noqa: E402
from ccm.registry.as_code.read import read_template  # noqa: E402
from ccm.registry.models import Template, TemplateVersion  # noqa: E402
from ccm.settings import PROJECT_ROOT  # noqa: E402

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
PARTITION_KEYS = {"messages": "created_at", "events": "occurred_at"}
"""Each table's partition key: the column its hot queries and its retention already bound by time."""
CHUNK = 1000
SENDERS = ("invoice", "invoice-reminder", "welcome", "otp")
"""The starter templates the messages come from: three transactional and one marketing, so both lanes fill
and the analytics report has groups."""
MESSAGES_PER_CUSTOMER = 50
FINAL_STATUSES = [
    (MessageStatus.DELIVERED, 85),
    (MessageStatus.SENT, 8),
    (MessageStatus.BOUNCED, 3),
    (MessageStatus.FAILED, 2),
    (MessageStatus.CANCELLED, 2),
]
DUE_SHARE = 0.002
"""This share of the messages is still queued and due: the claim's working set."""
CLAIM_LIMIT = 20  # the worker's default batch (CCM_WORKER_BATCH_SIZE)


@dataclass
class Database:
    """One scratch database, its engine, and what was measured in it (results keyed "label, unit")."""

    name: str
    partitioned: bool
    engine: Engine
    seconds: dict[str, float] = field(default_factory=dict)
    results: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


@dataclass
class Sample:
    """What the queries ask about: message ids (with their creation time) from every month, customers."""

    message_ids: list[tuple[str, datetime]] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)


# --- scratch databases -------------------------------------------------------------------------------------


def url_of(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


@contextmanager
def scratch_databases(server: str, prefix: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases, dropped on the way out whatever happened."""
    names = (f"{prefix}_plain", f"{prefix}_partitioned")
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"scratch databases {', '.join(names)} dropped")


# --- the partitioned schema --------------------------------------------------------------------------------


def month_starts(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s to `last`'s, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def drop_foreign_keys_into(conn: Connection, tables: list[str]) -> list[str]:
    """Drop every foreign key that references one of `tables`: each pointed at a primary key that is about to
    include the partition key, which the referencing table does not carry. Returns them, described."""
    rows = conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND confrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
        ),
        {"tables": tables},
    ).all()
    for table, name, _ in rows:
        conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    return [f"{table}.{name}: {definition}" for table, name, definition in rows]


def partition(conn: Connection, table: str, key: str, months: list[date]) -> list[str]:
    """Rebuild the (empty, freshly migrated) `table` as range-partitioned by `key`, one partition per month,
    keeping its columns, defaults, checks, indexes, outgoing foreign keys and id sequence; the primary key
    becomes `(id, key)`: PostgreSQL requires a partitioned table's unique keys to hold the partition key.
    Returns the unique indexes that had to become plain ones for the same reason."""
    indexes = list(
        conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE tablename = :t AND indexname <> :pk"),
            {"t": table, "pk": f"{table}_pkey"},
        ).scalars()
    )
    outgoing = conn.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = CAST(:t AS regclass)"
        ),
        {"t": table},
    ).all()
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY NONE"))
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {table}_unpartitioned"))
    conn.execute(
        text(
            f"CREATE TABLE {table} (LIKE {table}_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            f" PARTITION BY RANGE ({key})"
        )
    )
    conn.execute(text(f"DROP TABLE {table}_unpartitioned"))
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, {key})"))
    lost = [definition for definition in indexes if lost_uniqueness(definition, key)]
    for definition in indexes:
        conn.execute(text(definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX", definition in lost)))
    for name, definition in outgoing:
        conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    if sequence:
        conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))
    for month in months:
        following = (month + timedelta(days=32)).replace(day=1)
        conn.execute(
            text(
                f"CREATE TABLE {partition_name(table, month)} PARTITION OF {table}"
                f" FOR VALUES FROM ('{month} 00:00+00') TO ('{following} 00:00+00')"
            )
        )
    return lost


def lost_uniqueness(definition: str, key: str) -> bool:
    """Whether a unique index lacks the partition key, which a partitioned table cannot have."""
    columns = definition[definition.rindex("(") + 1 : definition.rindex(")")]
    return definition.startswith("CREATE UNIQUE INDEX") and key not in columns.split(", ")


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


# --- the rows ----------------------------------------------------------------------------------------------


def add_customers(engine: Engine, count: int) -> None:
    rows = [
        {"external_id": f"c-{n:08d}", "email": f"customer{n}@example.com", "locale": "en", "attributes": {}}
        for n in range(count)
    ]
    with Session(engine) as session:
        for start in range(0, count, CHUNK):
            session.exec(insert(Customer), params=rows[start : start + CHUNK])
        session.commit()


def templates_of(engine: Engine) -> list[tuple[Template, TemplateVersion]]:
    """Four starter templates, published as `ccm` publishes its starters: what the messages are sent from
    (and what the analytics report groups by)."""
    with Session(engine, expire_on_commit=False) as session:
        for key in SENDERS:
            request = read_template(PROJECT_ROOT / "templates" / key).request
            service.create_template(session, request, author=SYSTEM_IDENTITY)
            workflow.publish(session, request.key, 1, SYSTEM_IDENTITY, approval_categories=())
        session.commit()
        pairs = session.exec(
            select(Template, TemplateVersion)
            .join(TemplateVersion, col(TemplateVersion.template_id) == col(Template.id))
            .order_by(col(TemplateVersion.id))
        ).all()
    return [(template, version) for template, version in pairs]


def chunk_of_rows(
    rng: random.Random,
    moments: list[tuple[datetime, bool]],
    customers: list[Customer],
    senders: list[tuple[Template, TemplateVersion]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A message per (created, still due) moment as the app writes it (then aged into a final status unless
    still due), and its events."""
    messages, events = [], []
    for created, due_now in moments:
        template, version = rng.choice(senders)
        context = {
            "first_name": rng.choice(["Ada", "Grace", "Linus", "Barbara"]),
            "invoice": {"number": f"INV-{rng.randint(1, 10**8):08d}", "amount": f"{rng.random() * 500:.2f}"},
        }
        row = message_values(
            template=template,
            version=version,
            customer=rng.choice(customers),
            channel="email",
            context=context,
            due=created,
            deadline=created + timedelta(days=1),
            now=created,
        )
        messages.append(row)
        events.extend(age(rng, row, due_now=due_now))
    return messages, events


def moments(
    rng: random.Random, rows: int, span: tuple[datetime, datetime]
) -> Iterator[tuple[datetime, bool]]:
    """When each message was created, spread evenly over `span`, and whether it is still due: the newest
    `DUE_SHARE` of them (at least two claims' worth) were queued in the last ten minutes."""
    start, end = span
    due = max(2 * CLAIM_LIMIT, int(rows * DUE_SHARE))
    for n in range(rows):
        if n >= rows - due:
            yield end - timedelta(seconds=rng.uniform(0, 600)), True
        else:
            yield start + (end - start) * rng.random(), False


def age(rng: random.Random, row: dict[str, Any], *, due_now: bool) -> list[dict[str, Any]]:
    """Move a queued row on to where its life ends (or leave it due), returning its timeline events."""
    created: datetime = row["created_at"]
    base = {"customer_id": row["customer_id"], "message_id": row["id"], "channel": "email", "detail": {}}
    events = [{**base, "type": EventType.QUEUED.value, "occurred_at": created}]
    if due_now:
        return events
    status = rng.choices([s for s, _ in FINAL_STATUSES], weights=[w for _, w in FINAL_STATUSES])[0]
    sent_at = created + timedelta(seconds=rng.uniform(1, 60))
    row.update(status=status.value, attempts=1, updated_at=sent_at, provider="smtp")
    if status is MessageStatus.CANCELLED:
        return [*events, {**base, "type": EventType.CANCELLED.value, "occurred_at": sent_at}]
    row.update(sent_at=sent_at, provider_message_id=f"<{uuid.uuid4().hex}@smtp>")
    kinds = {
        MessageStatus.DELIVERED: [EventType.SENT, EventType.DELIVERED],
        MessageStatus.SENT: [EventType.SENT],
        MessageStatus.BOUNCED: [EventType.SENT, EventType.BOUNCED],
        MessageStatus.FAILED: [EventType.FAILED],
    }[status]
    if status is MessageStatus.DELIVERED:
        kinds += [EventType.OPENED] if rng.random() < 0.3 else []
        kinds += [EventType.CLICKED] if rng.random() < 0.1 else []
    later = [sent_at + timedelta(minutes=n * rng.uniform(1, 120)) for n in range(len(kinds))]
    return events + [
        {**base, "type": kind.value, "occurred_at": at} for kind, at in zip(kinds, later, strict=True)
    ]


def load(databases: list[Database], rows: int, span: tuple[datetime, datetime]) -> Sample:
    """Insert the same rows into every database, chunk by chunk in turn, timing only the inserts."""
    count = max(10, rows // MESSAGES_PER_CUSTOMER)
    for database in databases:
        add_customers(database.engine, count)
    customers = [
        Customer(id=n + 1, external_id=f"c-{n:08d}", email=f"customer{n}@example.com") for n in range(count)
    ]
    senders = templates_of(databases[0].engine)
    for database in databases[1:]:
        assert [v.id for _, v in templates_of(database.engine)] == [v.id for _, v in senders]
    rng, when = random.Random(12), moments(random.Random(11), rows, span)
    sample = Sample(customer_ids=random.Random(13).sample(range(1, count + 1), min(count, 20)))
    for start in range(0, rows, CHUNK):
        chunk = [next(when) for _ in range(min(CHUNK, rows - start))]
        messages, events = chunk_of_rows(rng, chunk, customers, senders)
        sample.message_ids.extend((m["id"], m["created_at"]) for m in messages[:: max(1, rows // 2000)])
        for database in databases[:: -1 if start // CHUNK % 2 else 1]:  # each goes first half the time
            with timed(database, "insert"), Session(database.engine) as session:
                session.exec(insert(Message), params=messages)
                session.exec(insert(Event), params=events)
                session.commit()
            database.notes["events"] = str(int(database.notes.get("events", "0")) + len(events))
    for database in databases:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return sample


# --- measuring ---------------------------------------------------------------------------------------------


@contextmanager
def timed(database: Database, label: str) -> Iterator[None]:
    """Add the wall time of the block to `label`'s total."""
    started = time.perf_counter()
    yield
    database.seconds[label] = database.seconds.get(label, 0.0) + time.perf_counter() - started


def medians_ms(runs: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Median ms of each run, taking turns (one of each, `repeat` times) so that load from anything else on
    the machine falls on every database alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for run, spent in zip(runs, times, strict=True):
            started = time.perf_counter()
            run()
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) * 1000 for spent in times]


def claim(engine: Engine) -> None:
    """The worker's claim (`Worker.claim`'s conditions through `claim_due`), rolled back to repeat it."""
    now = datetime.now(UTC)
    due = [col(Message.status).in_(CLAIMABLE_STATUSES), col(Message.next_attempt_at) <= now]
    rendering = case(
        (col(Message.status) == MessageStatus.QUEUED, MessageStatus.RENDERING.value),
        else_=col(Message.status),
    )
    with Session(engine) as session:
        ids = claim_due(
            session,
            Message,
            due,
            [col(Message.priority), col(Message.next_attempt_at)],
            CLAIM_LIMIT,
            owner="benchmark",
            now=now,
            lease_until=now + timedelta(seconds=120),
            values={"updated_at": now, "status": rendering},
        )
        assert len(ids) == CLAIM_LIMIT, ids
        session.rollback()


def cycler(items: list[Any]) -> Callable[[], Any]:
    position = iter(range(10**9))
    return lambda: items[next(position) % len(items)]


QUERIES = {
    "worker claim (20, SKIP LOCKED) + lease update": 1,
    "message by id (get_message)": 5,
    "message by id + its month": 5,
    "outcome UPDATE by id": 5,
    "customer timeline (100 newest events)": 1,
    "analytics report over one month": 0.1,
}
"""The hot queries measured, and how many runs each gets per `--repeat` (cheap ones more)."""


def queries(engine: Engine, sample: Sample, month: date) -> dict[str, Callable[[], Any]]:
    """The app's hot queries against one database, each asking about the next sampled message or customer."""
    next_id, next_customer = cycler(sample.message_ids), cycler(sample.customer_ids)

    def by_id() -> None:
        with Session(engine) as session:
            get_message(session, next_id()[0])

    def by_id_and_month() -> None:
        message_id, created = next_id()
        first = datetime(created.year, created.month, 1, tzinfo=UTC)
        bounded = select(Message).where(
            Message.id == message_id,
            col(Message.created_at) >= first,
            col(Message.created_at) < (first + timedelta(days=32)).replace(day=1),
        )
        with Session(engine) as session:
            assert session.exec(bounded).one()

    def outcome_update() -> None:
        with Session(engine) as session:
            session.execute(
                text("UPDATE messages SET updated_at = now() WHERE id = :id"), {"id": next_id()[0]}
            )
            session.rollback()

    def customer_timeline() -> None:
        with Session(engine) as session:
            timeline(session, next_customer())

    def month_report() -> None:
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        with Session(engine) as session:
            analytics(session, AnalyticsQuery(first_day=month, last_day=last, group_by="template"))

    runs = [lambda: claim(engine), by_id, by_id_and_month, outcome_update, customer_timeline, month_report]
    return dict(zip(QUERIES, runs, strict=True))


def measure_queries(databases: list[Database], sample: Sample, month: date, repeat: int) -> None:
    """Median ms of each hot query in each database, into `results`."""
    runs = [queries(database.engine, sample, month) for database in databases]
    for label, share in QUERIES.items():
        medians = medians_ms([run[label] for run in runs], max(3, int(repeat * share)))
        for database, median in zip(databases, medians, strict=True):
            database.results[f"{label}, ms"] = median


def scans_for_id_lookup(database: Database, message_id: str) -> int:
    """How many relations the planner scans to find one message by id."""
    with database.engine.connect() as conn:
        plan: Any = conn.execute(
            text("EXPLAIN (FORMAT JSON) SELECT * FROM messages WHERE id = :id"), {"id": message_id}
        ).scalar_one()
    return count_scans(plan[0]["Plan"])


def count_scans(node: dict[str, Any]) -> int:
    own = 1 if "Relation Name" in node else 0
    return own + sum(count_scans(child) for child in node.get("Plans", []))


def sizes(database: Database) -> dict[str, int]:
    """Bytes of heap and of indexes of both tables (summed over their partitions)."""
    with database.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) FROM ("
                " SELECT relid FROM pg_partition_tree('messages') UNION"
                " SELECT relid FROM pg_partition_tree('events') UNION"
                " SELECT oid FROM pg_class WHERE relname IN ('messages', 'events')) AS tree"
            )
        ).one()
    return {"heap": int(row[0]), "indexes": int(row[1])}


def drop_month(database: Database, month: date) -> None:
    """Remove the oldest month: DELETE then VACUUM (and VACUUM FULL to give the space back) when plain,
    DETACH + DROP of its partitions when partitioned; ms of each step into the results."""
    following = (month + timedelta(days=32)).replace(day=1)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:

        def step(label: str, *statements: str) -> None:
            started = time.perf_counter()
            for statement in statements:
                conn.execute(text(statement))
            database.results[f"{label}, ms"] = (time.perf_counter() - started) * 1000

        if database.partitioned:
            step(
                "remove a month",
                *(f"ALTER TABLE {t} DETACH PARTITION {partition_name(t, month)}" for t in PARTITION_KEYS),
                *(f"DROP TABLE {partition_name(t, month)}" for t in PARTITION_KEYS),
            )
            return
        step(
            "remove a month",
            f"DELETE FROM events WHERE occurred_at < '{following} 00:00+00'",
            f"DELETE FROM messages WHERE created_at < '{following} 00:00+00'",
        )
        step("VACUUM after it", "VACUUM messages", "VACUUM events")
        kept = sizes(database)
        database.results["heap + indexes after DELETE + VACUUM, MB"] = (
            kept["heap"] + kept["indexes"]
        ) / 2**20
        step("VACUUM FULL to shrink (exclusive lock)", "VACUUM FULL messages", "VACUUM FULL events")


# --- the report --------------------------------------------------------------------------------------------


def row(label: str, plain: float, partitioned: float | None, unit: str) -> str:
    """A line of the table; a step the partitioned database does not need shows as "not needed"."""
    if partitioned is None:
        return f"| {label} | {plain:,.1f} {unit} | not needed | — |"
    ratio = f"{partitioned / plain:.2f}x" if plain else "—"
    return f"| {label} | {plain:,.1f} {unit} | {partitioned:,.1f} {unit} | {ratio} |"


def report(plain: Database, partitioned: Database, rows: int, months: int) -> None:
    events = int(plain.notes["events"])
    print(f"\n{rows:,} messages and {events:,} events over {months} months, {datetime.now(UTC):%Y-%m-%d}")
    print("\n| measure | plain | partitioned by month | partitioned / plain |\n|---|---|---|---|")
    rate = [(rows + events) / db.seconds["insert"] for db in (plain, partitioned)]
    print(row("insert messages + events", rate[0], rate[1], "rows/s"))
    for label, value in plain.results.items():
        name, unit = label.rsplit(", ", 1)
        print(row(name, value, partitioned.results.get(label), unit))
    print(
        f"\nrelations scanned by `WHERE id = …`: plain {plain.notes['scans']}, "
        f"partitioned {partitioned.notes['scans']}"
    )
    print("\nforeign keys dropped to partition:")
    for line in partitioned.notes["dropped"].splitlines():
        print(f"  {line}")
    print("unique indexes that became plain indexes (uniqueness no longer enforced):")
    for line in partitioned.notes["lost unique"].splitlines() or ["(none)"]:
        print(f"  {line}")


def measure(databases: list[Database], sample: Sample, report_month: date, oldest: date, repeat: int) -> None:
    """Everything after the load, in the order that leaves the data intact until the retention step."""
    before = [sizes(database) for database in databases]
    for database in databases:
        database.notes["scans"] = str(scans_for_id_lookup(database, sample.message_ids[0][0]))
    measure_queries(databases, sample, report_month, repeat)
    for database, size in zip(databases, before, strict=True):
        database.results["heap before, MB"] = size["heap"] / 2**20
        database.results["indexes before, MB"] = size["indexes"] / 2**20
        drop_month(database, oldest)
        after = sizes(database)
        database.results["heap + indexes after removing a month (plain: VACUUM FULL), MB"] = (
            after["heap"] + after["indexes"]
        ) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000, help="messages to insert (events ≈ 3.2 each)")
    parser.add_argument("--months", type=int, default=6, help="months the messages are spread over")
    parser.add_argument("--repeat", type=int, default=40, help="runs of each query (medians reported)")
    parser.add_argument(
        "--server", default=POSTGRES, help="the PostgreSQL to create the scratch databases on"
    )
    args = parser.parse_args()
    now = datetime.now(UTC)
    months = month_starts((now.replace(day=1) - timedelta(days=31 * (args.months - 1))).date(), now.date())
    months = months[-args.months :]
    next_month = (months[-1] + timedelta(days=32)).replace(day=1)
    span = (datetime.combine(months[0], datetime.min.time(), tzinfo=UTC), now - timedelta(minutes=1))
    with scratch_databases(args.server, f"ccm_partitioning_{uuid.uuid4().hex[:8]}") as names:
        databases = [
            Database(name, name.endswith("_partitioned"), make_engine(url_of(args.server, name)))
            for name in names
        ]
        try:
            for database in databases:
                upgrade(url_of(args.server, database.name))
            with databases[1].engine.begin() as conn:
                databases[1].notes["dropped"] = "\n".join(drop_foreign_keys_into(conn, list(PARTITION_KEYS)))
                lost = [
                    definition
                    for table, key in PARTITION_KEYS.items()
                    for definition in partition(conn, table, key, [*months, next_month])
                ]
                databases[1].notes["lost unique"] = "\n".join(lost)
            print(f"loading {args.rows:,} messages into {names[0]} and {names[1]} …", flush=True)
            sample = load(databases, args.rows, span)
            report_month = months[-2] if len(months) > 1 else months[-1]
            measure(databases, sample, report_month, months[0], args.repeat)
            report(databases[0], databases[1], args.rows, len(months))
        finally:
            for database in databases:
                database.engine.dispose()


if __name__ == "__main__":
    main()
