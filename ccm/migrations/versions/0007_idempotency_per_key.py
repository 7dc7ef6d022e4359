"""idempotency keys per API key: unique on (api_key_id, key) instead of on key alone

Two systems that happen to choose the same Idempotency-Key used to collide: the second got the first's
response replayed (or a 422) and its own message was never sent. Records are now unique per API key. NULLs
are distinct in a unique constraint, so records without an API key keep a partial unique index on `key`.

The old constraint was created unnamed: PostgreSQL named it `idempotency_keys_key_key`, SQLite left it
without a name, so it is found by reflection and, on SQLite, named by the batch naming convention. A
downgrade keeps only the oldest record of each key (records are a replay cache of
`CCM_IDEMPOTENCY_TTL_HOURS`), since the old constraint cannot hold two API keys' records of one key.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "idempotency_keys"
PER_API_KEY = "uq_idempotency_keys_api_key_id_key"
UNSCOPED = "uq_idempotency_keys_unscoped_key"
OLD = "uq_idempotency_keys_key"
"""The name the naming convention below gives SQLite's unnamed constraint on `key` (and downgrade uses)."""
NAMING_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_constraint_on(columns: list[str]) -> str:
    """The name of the unique constraint on exactly `columns`, as the database reports it."""
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints(TABLE):
        if constraint["column_names"] == columns:
            return constraint["name"] or OLD
    raise RuntimeError(f"{TABLE} has no unique constraint on {columns}")


def upgrade() -> None:
    old = _unique_constraint_on(["key"])
    with op.batch_alter_table(TABLE, naming_convention=NAMING_CONVENTION) as batch_op:
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(PER_API_KEY, ["api_key_id", "key"])
    unscoped = sa.text("api_key_id IS NULL")
    op.create_index(UNSCOPED, TABLE, ["key"], unique=True, sqlite_where=unscoped, postgresql_where=unscoped)


def downgrade() -> None:
    op.drop_index(UNSCOPED, table_name=TABLE)
    op.execute(
        "DELETE FROM idempotency_keys WHERE id NOT IN (SELECT MIN(id) FROM idempotency_keys GROUP BY key)"
    )
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_constraint(PER_API_KEY, type_="unique")
        batch_op.create_unique_constraint(OLD, ["key"])
