"""Customer data keys in the database, wrapped with the master key; destroyed to crypto-shred."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ccm.archiving.crypto import KeyDestroyed, decode_key, new_data_key, unwrap, wrap
from ccm.archiving.models import CustomerKey
from ccm.database import session_scope, utcnow

CACHE_SECONDS = 60.0
CACHE_SIZE = 4096


class Keyring:
    def __init__(self, engine: Engine, master_key_b64: str) -> None:
        self._engine = engine
        self._master = decode_key(master_key_b64, name="CCM_ARCHIVE_MASTER_KEY")
        self._cache: OrderedDict[int, tuple[float, str, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def data_key(self, customer_id: int) -> tuple[str, bytes]:
        """The customer's (key id, data key), from a short-lived cache: every message needs one."""
        now = time.monotonic()
        with self._lock:
            cached = self._cached(customer_id, now)
        if cached is not None:
            return cached
        key_id, key = self._load_or_create(customer_id)
        self._remember({customer_id: (key_id, key)}, now)
        return key_id, key

    def prefetch(self, customer_ids: Iterable[int]) -> None:
        """Cache the data keys of these customers in one transaction (one SELECT, one INSERT of the missing
        ones), so a worker's claimed batch costs one round of key look-ups instead of one transaction per
        new customer. Best effort: a key it could not load or create (destroyed, or created concurrently)
        is left to `data_key`, which decides as before."""
        now = time.monotonic()
        with self._lock:
            wanted = {customer_id for customer_id in customer_ids if self._cached(customer_id, now) is None}
        if not wanted:
            return
        found: dict[int, tuple[str, bytes]] = {}
        try:
            with session_scope(self._engine) as session:
                rows = session.exec(select(CustomerKey).where(col(CustomerKey.customer_id).in_(wanted)))
                for row in rows:
                    if row.wrapped_key is not None:
                        found[row.customer_id] = (row.key_id, self._unwrap(row))
                    wanted.discard(row.customer_id)  # a destroyed key is never replaced here
                created = {customer_id: self._add_key(session, customer_id) for customer_id in sorted(wanted)}
        except IntegrityError:
            created = {}  # another worker created one of them meanwhile: `data_key` reads theirs
        self._remember(found | created, now)

    def _cached(self, customer_id: int, now: float) -> tuple[str, bytes] | None:
        """The customer's (key id, data key) if cached within `CACHE_SECONDS`; the caller holds the lock."""
        cached = self._cache.get(customer_id)
        return (cached[1], cached[2]) if cached is not None and now - cached[0] < CACHE_SECONDS else None

    def _remember(self, keys: dict[int, tuple[str, bytes]], now: float) -> None:
        """Cache these (key id, data key) pairs as read at `now`, dropping the least recently used."""
        with self._lock:
            for customer_id, (key_id, key) in keys.items():
                self._cache[customer_id] = (now, key_id, key)
                self._cache.move_to_end(customer_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _add_key(self, session: Session, customer_id: int) -> tuple[str, bytes]:
        """A new data key for the customer, added to `session` wrapped with the master key."""
        key_id, key = new_data_key()
        session.add(
            CustomerKey(customer_id=customer_id, key_id=key_id, wrapped_key=wrap(self._master, key_id, key))
        )
        return key_id, key

    def forget(self, customer_id: int) -> None:
        with self._lock:
            self._cache.pop(customer_id, None)

    def _load_or_create(self, customer_id: int) -> tuple[str, bytes]:
        """The customer's (key id, data key), created on first use in its own short transaction."""
        for _ in range(2):
            try:
                with session_scope(self._engine) as session:
                    row = session.get(CustomerKey, customer_id)
                    if row is None:
                        return self._add_key(session, customer_id)
                    return row.key_id, self._unwrap(row)
            except IntegrityError:
                continue  # created concurrently by another worker: read theirs
        raise RuntimeError(f"could not create a data key for customer {customer_id}")

    def key_by_id(self, session: Session, key_id: str) -> bytes:
        """The data key with this id; `KeyDestroyed` once erasure has completed."""
        row = session.exec(select(CustomerKey).where(CustomerKey.key_id == key_id)).first()
        if row is None:
            raise KeyDestroyed(f"no data key {key_id}")
        return self._unwrap(row)

    def read_key(self, key_id: str) -> bytes:
        with Session(self._engine) as session:
            return self.key_by_id(session, key_id)

    def _unwrap(self, row: CustomerKey) -> bytes:
        if row.wrapped_key is None:
            raise KeyDestroyed(f"the data key {row.key_id} was destroyed on {row.destroyed_at}")
        return unwrap(self._master, row.key_id, row.wrapped_key)


def destroy(session: Session, customer_id: int) -> bool:
    """Forget the customer's wrapped data key for good; True when a live key was destroyed."""
    row = session.get(CustomerKey, customer_id)
    if row is None or row.wrapped_key is None:
        return False
    row.wrapped_key = None
    row.destroyed_at = utcnow()
    session.add(row)
    session.flush()
    return True
