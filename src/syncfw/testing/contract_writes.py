"""The contract's write checks: what ``write()`` must do when an op cannot be done, when a
uid is taken, when the provider fails half way, and when the caller stops asking.

How the engine uses ``write()`` (:mod:`syncfw.runtime.apply`): it sends a batch of
``batch_size`` ops, takes exactly one result per op, records every result in one state
transaction, and, when ``write()`` raises a :class:`~syncfw.errors.DriverError` (auth,
quota), records the results it got before the error and stops the pair. So a result must
stand for a write that is done the moment it is yielded, and a write that is done must
not go unreported because a later op failed.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from syncfw.errors import DriverError, NotFound, PreconditionFailed
from syncfw.sdk.driver import Driver, WriteOp, WriteResult
from syncfw.testing.contract_base import ContractBase, make_event

__all__ = ["WriteChecks"]


class WriteChecks(ContractBase):
    #: Why ``write()`` performs ops before their results are asked for (a batch sent as one
    #: request, a file rewritten once, requests sent concurrently); ``None`` when it is
    #: lazy: an op is performed when its result is asked for, so a caller that stops
    #: asking stops the writes.
    eager_writes: ClassVar[str | None] = None
    #: Why an update of a deleted item brings it back (under its key) instead of failing
    #: with NotFound: a provider that keeps deleted items (Google's cancelled events).
    update_revives_deleted: ClassVar[str | None] = None
    #: Why a create of a uid the calendar already has makes a second item (the provider
    #: has no unique key for it) instead of failing or taking the item over; both must
    #: read back with the uid, so that the engine finds them and deletes one.
    twin_on_taken_uid: ClassVar[str | None] = None

    def test_update_of_a_missing_item_is_not_found(self, driver: Driver) -> None:
        event = make_event(title="Was here")
        created = self.create(driver, event)
        self.apply(driver, [WriteOp("delete", key=created.key, etag=created.etag)], check=True)
        changed = event.replace(title="Written over nothing")
        (blind,) = self.apply(driver, [WriteOp("update", key=created.key, event=changed)])
        if self.update_revives_deleted is not None:
            assert blind.ok and blind.key == created.key, blind
            assert list(self.read(driver)) == [created.key], "revived as itself, not a twin"
            return
        assert isinstance(blind.error, NotFound), f"an update of a missing item: {blind}"
        if driver.capabilities.conditional_writes:
            # HTTP's If-Match cannot tell "gone" from "changed": either makes the engine
            # read again (NotFound: at once, as a create; PreconditionFailed: on the retry).
            op = WriteOp("update", key=created.key, event=changed, etag=created.etag)
            (guarded,) = self.apply(driver, [op])
            assert isinstance(guarded.error, NotFound | PreconditionFailed), guarded
        assert not self.read(driver), "an update never creates the item it did not find"

    def test_create_of_a_taken_uid_makes_no_twin(self, driver: Driver) -> None:
        # The engine creates under deterministic uids; a create whose uid the calendar
        # already has (an earlier create it did not record) must not make a second item.
        if not driver.capabilities.client_ids:
            pytest.skip("the driver does not keep the engine's uids")
        event = make_event(title="First")
        first = self.create(driver, event)
        (again,) = self.apply(driver, [WriteOp("create", event=event.replace(title="Second"))])
        items = self.read(driver)
        if self.twin_on_taken_uid is not None:
            # The engine finds both by the uid on its next read and keeps one (master_push).
            assert again.ok and again.key != first.key, again
            uids = [c.event.uid for c in items.values() if c.event is not None]
            assert uids == [event.uid, event.uid], "both are found by the uid"
            return
        assert list(items) == [first.key], f"a create of a taken uid made a twin: {again}"
        if again.ok:
            assert again.key == first.key, "a create that took the item over reports its key"
        else:
            assert isinstance(again.error, DriverError), again
            shown = items[first.key or ""].event
            assert shown is not None and shown.title == "First", "a refused create changes nothing"

    def test_a_failed_op_does_not_stop_the_batch(self, driver: Driver) -> None:
        if not driver.capabilities.conditional_writes:
            pytest.skip("the driver does not honour etag preconditions")
        event = make_event(title="First version")
        old = self.create(driver, event)
        changed = event.replace(title="Changed since")
        self.apply(driver, [WriteOp("update", key=old.key, event=changed)], check=True)
        ops = [
            WriteOp("create", event=make_event(title="Before")),
            WriteOp("update", key=old.key, event=event.replace(title="Stale"), etag=old.etag),
            WriteOp("create", event=make_event(title="After")),
        ]
        results = self.apply(driver, ops)
        assert [r.ok for r in results] == [True, False, True], results
        assert self.titles(driver) == {"Before", "Changed since", "After"}

    def test_results_before_a_fatal_error_are_yielded(self, driver: Driver) -> None:
        victim = make_event(title="Victim")
        written = self.create(driver, victim)
        key = written.key or ""
        ops = [
            WriteOp("create", event=make_event(title="Before")),
            WriteOp("update", key=key, event=victim.replace(title="Changed"), etag=written.etag),
            WriteOp("create", event=make_event(title="After")),
        ]
        results: list[WriteResult] = []
        with self.failing_writes(driver, key), pytest.raises(DriverError):
            for result in driver.write(ops):
                results.append(result)
        assert [r.op for r in results] == ops[: len(results)], "results come in op order"
        assert all(r.op is not ops[2] for r in results), "no result after the error's op"
        items = self.read(driver)
        before = [k for k, c in items.items() if c.event is not None and c.event.title == "Before"]
        if before:  # a write that was done is reported before the error
            assert results and results[0].ok and results[0].key == before[0], results
        shown = items[key].event
        assert shown is not None and shown.title == "Victim"

    def test_writes_are_done_when_their_results_are_yielded(self, driver: Driver) -> None:
        events = [make_event(title=f"Asked for {i}") for i in range(3)]
        ops = [WriteOp("create", event=e) for e in events]
        results = driver.write(ops)
        # One result per op and not one more, as zip() takes them: nothing may wait for
        # the iterator's end (a commit after the last result would never run).
        taken = [next(results) for _ in ops]
        try:
            items = self.read(driver)
            for result, event in zip(taken, events, strict=True):
                assert result.ok, result
                assert result.key in items, f"{event.title!r} was reported, not written"
        finally:
            getattr(results, "close", lambda: None)()

    def test_a_write_abandoned_after_its_first_result(self, driver: Driver) -> None:
        ops = [
            WriteOp("create", event=make_event(title="Asked for")),
            WriteOp("create", event=make_event(title="Never asked for")),
        ]
        results = driver.write(ops)
        first = next(results)
        getattr(results, "close", lambda: None)()
        assert first.ok, first
        titles = self.titles(driver)
        assert "Asked for" in titles
        if self.eager_writes is None:
            assert "Never asked for" not in titles, (
                "write() did an op whose result nobody asked for; if its protocol makes "
                "that unavoidable, say why in the test class's eager_writes"
            )
        self.create(driver, make_event(title="Later"))  # the driver is still usable
        assert "Later" in self.titles(driver)

    def titles(self, driver: Driver) -> set[str]:
        return {c.event.title for c in self.read(driver).values() if c.event is not None}
