"""The memory driver: the contract suite plus what tests of the engine rely on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from syncfw.drivers import memory
from syncfw.drivers.memory import MemoryDriver, MemoryOptions, MemoryStore
from syncfw.errors import AuthError, CursorExpired, DriverError, NotFound, PreconditionFailed
from syncfw.hooks.manager import DEFAULT_PLUGINS
from syncfw.model import Event
from syncfw.sdk.driver import Driver, DriverContext, WriteOp
from syncfw.testing import DriverContract, fresh_window, make_event


def make_driver(store: MemoryStore) -> MemoryDriver:
    return MemoryDriver(MemoryOptions(name=store.name), DriverContext("mem"))


class TestMemoryContract(DriverContract):
    @pytest.fixture
    def driver(self, memory_store: MemoryStore) -> Iterator[MemoryDriver]:
        with make_driver(memory_store) as driver:
            yield driver

    def edit_behind_back(self, driver: Driver, key: str, event: Event) -> None:
        assert isinstance(driver, MemoryDriver)
        driver.store.put(event.replace(uid=key))

    def plant_unreadable(self, driver: Driver) -> str:
        assert isinstance(driver, MemoryDriver)
        driver.store.put_unreadable("garbled")
        return "garbled"

    @contextmanager
    def failing_writes(self, driver: Driver, key: str) -> Iterator[None]:
        assert isinstance(driver, MemoryDriver)

        def refuse(op: WriteOp) -> DriverError | None:
            if op.key == key:
                raise AuthError("the credentials were revoked", calendar="mem")
            return None

        driver.store.fail_on = refuse
        try:
            yield
        finally:
            driver.store.fail_on = None


def test_registered_as_builtin_plugin() -> None:
    found: list[type[Driver]] = []
    memory.syncfw_register_drivers(register=found.append)
    assert found == [MemoryDriver] and MemoryDriver.name == "memory"
    assert "syncfw.drivers.memory" in DEFAULT_PLUGINS


def test_named_stores_are_shared_and_reset(memory_store: MemoryStore) -> None:
    assert MemoryStore.named(memory_store.name) is memory_store
    memory_store.put(make_event(uid="x"))
    MemoryStore.reset_all()
    assert memory_store.events() == {}
    assert MemoryStore.named(memory_store.name) is not memory_store


def test_store_helpers_are_seen_by_the_driver(memory_store: MemoryStore) -> None:
    driver = make_driver(memory_store)
    event = make_event(uid="by-hand")
    etag = memory_store.put(event)
    feed = driver.read(None, fresh_window())
    (change,) = list(feed)
    assert (change.key, change.event, change.etag) == ("by-hand", event, etag)
    assert memory_store.etag("by-hand") == etag
    assert memory_store.remove("by-hand") and not memory_store.remove("by-hand")
    changes = list(driver.read(feed.cursor, fresh_window()))
    assert [(c.key, c.deleted) for c in changes] == [("by-hand", True)]


def test_create_of_an_existing_uid_fails(memory_store: MemoryStore) -> None:
    driver = make_driver(memory_store)
    event = make_event()
    memory_store.put(event)
    (result,) = driver.write([WriteOp("create", event=event.replace(title="dup"))])
    assert isinstance(result.error, PreconditionFailed)
    assert memory_store.events()[event.uid].title == "Test event"


def test_update_of_a_missing_key_is_not_found(memory_store: MemoryStore) -> None:
    (result,) = make_driver(memory_store).write(
        [WriteOp("update", key="nope", event=make_event(uid="nope"))]
    )
    assert isinstance(result.error, NotFound)
    assert memory_store.events() == {}


def test_update_keeps_the_key_as_uid(memory_store: MemoryStore) -> None:
    memory_store.put(make_event(uid="k"))
    (result,) = make_driver(memory_store).write(
        [WriteOp("update", key="k", event=make_event(uid="other", title="new"))]
    )
    assert result.ok and result.key == "k"
    assert memory_store.events()["k"].uid == "k"


def test_each_version_has_a_fresh_etag(memory_store: MemoryStore) -> None:
    event = make_event()
    etags = {memory_store.put(event) for _ in range(3)}
    assert len(etags) == 3
    other = MemoryStore("other")
    assert other.put(event) not in etags


@pytest.mark.parametrize("cursor", ["not-a-number", "999999"])
def test_unknown_cursors_expire(memory_store: MemoryStore, cursor: str) -> None:
    with pytest.raises(CursorExpired):
        make_driver(memory_store).read(cursor, fresh_window())


def test_expire_cursors_forces_a_full_read(memory_store: MemoryStore) -> None:
    driver = make_driver(memory_store)
    memory_store.put(make_event())
    feed = driver.read(None, fresh_window())
    list(feed)
    memory_store.expire_cursors()
    with pytest.raises(CursorExpired):
        driver.read(feed.cursor, fresh_window())
    again = driver.read(None, fresh_window())
    assert len(list(again)) == 1
    assert list(driver.read(again.cursor, fresh_window())) == []


def test_incremental_read_reports_each_key_once(memory_store: MemoryStore) -> None:
    driver = make_driver(memory_store)
    feed = driver.read(None, fresh_window())
    list(feed)
    event = make_event(uid="k")
    for title in ("one", "two", "three"):
        memory_store.put(event.replace(title=title))
    memory_store.put(make_event(uid="gone"))
    memory_store.remove("gone")
    changes = list(driver.read(feed.cursor, fresh_window()))
    assert [(c.key, c.event.title if c.event else None) for c in changes] == [
        ("k", "three"),
        ("gone", None),
    ]


def test_full_read_ignores_the_window(memory_store: MemoryStore) -> None:
    # The engine filters; a memory calendar returns everything it holds.
    old = datetime(2000, 1, 1, tzinfo=UTC)
    memory_store.put(make_event(uid="old", start=old, end=old + timedelta(hours=1)))
    assert [c.key for c in make_driver(memory_store).read(None, fresh_window())] == ["old"]


def test_fail_on_injects_per_op_failures(memory_store: MemoryStore) -> None:
    def fail_second(op: WriteOp) -> DriverError | None:
        return DriverError("boom") if op.event and op.event.title == "second" else None

    memory_store.fail_on = fail_second
    ops = [WriteOp("create", event=make_event(title=t)) for t in ("first", "second", "third")]
    results = list(make_driver(memory_store).write(ops))
    assert [r.ok for r in results] == [True, False, True]
    assert str(results[1].error) == "boom"
    assert sorted(e.title for e in memory_store.events().values()) == ["first", "third"]


def test_write_yields_one_result_at_a_time(memory_store: MemoryStore) -> None:
    driver = make_driver(memory_store)
    ops = [WriteOp("create", event=make_event()) for _ in range(3)]
    results = driver.write(ops)
    next(results)
    assert len(memory_store.events()) == 1, "results are yielded as each op is applied"
    memory_store.put(make_event(uid="meanwhile"))  # the store is not locked between ops
    assert len(list(results)) == 2


def test_many_writes_in_one_call_all_land(memory_store: MemoryStore) -> None:
    # How fast is bench/bench_sync.py's business (apply events/s), not a timed test's.
    events = [make_event(uid=f"e{i}") for i in range(20_000)]
    driver = make_driver(memory_store)
    results = list(driver.write([WriteOp("create", event=e) for e in events]))
    assert all(r.ok for r in results) and len(results) == 20_000
    assert sum(1 for _ in driver.read(None, fresh_window())) == 20_000
