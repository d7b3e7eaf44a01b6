"""Compare-and-set updates under real concurrency, on a SQLite file and on PostgreSQL.

Two writers read the same contact in transactions of their own; each then changes
it only if it still holds what they read (``tx.update(..., expect=...)``). The
first one's write is kept and the second one is told, with ``False``, that the row
moved under it, instead of silently overwriting the first. The threads are kept in
step with a barrier and events, so the interleaving is the same on every run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import sqlalchemy as sa

import crmkit
from crmkit.crm import CRM
from crmkit.storage.sql.backend import SqlBackend

WAIT = 30.0
"""Seconds a thread waits for the other before the test gives up (a hang, not a result)."""


@pytest.fixture
def sql_crm(sql_url: str) -> Iterator[CRM]:
    with crmkit.open(sql_url, plugins=[]) as opened:
        yield opened


def _city(crm: CRM, contact_id: str) -> str | None:
    return crm.contacts.get(contact_id).city


def test_the_second_writer_of_a_row_read_by_both_is_refused(sql_crm: CRM) -> None:
    ada = sql_crm.contacts.add(email="ada@example.com", city="Paris")
    ctype = sql_crm.entity_type("contact")
    both_read = threading.Barrier(2, timeout=WAIT)
    first_committed = threading.Event()

    def first() -> bool:
        with sql_crm.backend.begin() as tx:
            row = tx.get(ctype, ada.id)
            assert row is not None
            both_read.wait()
            written = tx.update(ctype, ada.id, {"city": "London"}, expect={"city": row["city"]})
        first_committed.set()
        return written

    def second() -> tuple[str | None, bool, bool]:
        with sql_crm.backend.begin() as tx:
            row = tx.get(ctype, ada.id)
            assert row is not None
            both_read.wait()
            assert first_committed.wait(WAIT)
            stale = tx.update(ctype, ada.id, {"city": "Berlin"}, expect={"city": row["city"]})
            fresh = tx.update(ctype, ada.id, {"phone": None}, expect={"city": "London"})
        return row["city"], stale, fresh

    with ThreadPoolExecutor(max_workers=2) as pool:
        won: Future[bool] = pool.submit(first)
        lost = pool.submit(second)
        assert won.result(WAIT) is True
        assert lost.result(WAIT) == ("Paris", False, True)
    assert _city(sql_crm, ada.id) == "London"


def _waiting_on_a_lock(engine: sa.Engine, pid: int) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ).scalar()
    return found == "Lock"


def _until(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` until it holds; ``False`` if it never does within WAIT."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_on_postgresql_an_update_waiting_for_the_row_fails_once_the_holder_commits(
    pg_url: str,
) -> None:
    with crmkit.open(pg_url, plugins=[]) as crm:
        backend = crm.backend
        assert isinstance(backend, SqlBackend)
        ada = crm.contacts.add(email="ada@example.com", city="Paris")
        ctype = crm.entity_type("contact")
        pids: list[int] = []
        read = threading.Event()

        def second() -> bool:
            with backend.begin() as tx:
                pids.append(tx.conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
                row = tx.get(ctype, ada.id)
                assert row is not None
                read.set()
                # Waits for the first writer's row lock, then re-checks its WHERE.
                return tx.update(ctype, ada.id, {"city": "Berlin"}, expect={"city": row["city"]})

        watcher = sa.create_engine(backend.engine.url)
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                with backend.begin() as tx:
                    assert tx.update(ctype, ada.id, {"city": "London"}, expect={"city": "Paris"})
                    lost = pool.submit(second)
                    assert read.wait(WAIT)
                    assert _until(lambda: lost.done() or _waiting_on_a_lock(watcher, pids[0]))
                    assert not lost.done(), "the second update did not wait for the row"
                # The first transaction has committed: the waiting update gives up.
                assert lost.result(WAIT) is False
        finally:
            watcher.dispose()
        assert _city(crm, ada.id) == "London"
