"""The contract's read checks: cursors the driver cannot use, ``settle``, unreadable items.

The engine reads a side in full when its cursor raises
:class:`~syncfw.errors.CursorExpired`; a driver that quietly returns nothing for a cursor
it does not understand makes every later change invisible. ``settle`` lets the engine
skip reading its own writes back; it must decline when anyone else changed the calendar,
or that change is never read. An item the driver cannot read is a :class:`Change` with
``error`` set: the engine reports it and, since it is no tombstone, never takes it for
deleted.
"""

from __future__ import annotations

import pytest

from syncfw.errors import CursorExpired
from syncfw.sdk.driver import Driver, WriteOp, WriteResult
from syncfw.testing.contract_base import ContractBase, fresh_window, make_event

__all__ = ["ReadChecks"]

GARBAGE_CURSORS = ("syncfw-contract: not a cursor", "{}")


class ReadChecks(ContractBase):
    @pytest.mark.parametrize("cursor", GARBAGE_CURSORS)
    def test_a_cursor_the_driver_cannot_use_expires(self, driver: Driver, cursor: str) -> None:
        if not driver.capabilities.incremental:
            pytest.skip("the driver only reads in full")
        self.create(driver, make_event())
        with pytest.raises(CursorExpired):
            list(driver.read(cursor, fresh_window()))  # raised by read() or while iterating

    @pytest.mark.parametrize("change", ["edit elsewhere", "edit of our write", "deletion"])
    def test_settle_declines_when_someone_else_changed_the_calendar(
        self, driver: Driver, change: str
    ) -> None:
        if not driver.capabilities.incremental:
            pytest.skip("the driver only reads in full")
        theirs = make_event(title="Theirs")
        their_item = self.create(driver, theirs)
        cursor = self.cursor(driver)
        ours = make_event(title="Ours")
        our_item = self.create(driver, ours)
        if change == "edit elsewhere":
            edited = theirs.replace(title="Edited elsewhere")
            self.edit_behind_back(driver, their_item.key or "", edited)
        elif change == "edit of our write":
            edited = ours.replace(title="Edited after our write")
            self.edit_behind_back(driver, our_item.key or "", edited)
        else:  # someone else deleted an item
            self.apply(driver, [WriteOp("delete", key=their_item.key)], check=True)
        settled = driver.settle(cursor, {our_item.key or "": our_item.etag})
        assert settled is None, f"settle() moved the cursor past someone else's {change}"

    def test_a_settled_cursor_reads_nothing_back(self, driver: Driver) -> None:
        if not driver.capabilities.incremental:
            pytest.skip("the driver only reads in full")
        removed = self.create(driver, make_event(title="Deleted by us"))
        cursor = self.cursor(driver)
        event = make_event(title="Ours")
        ours: list[WriteResult] = [
            self.create(driver, event),
            *self.apply(driver, [WriteOp("delete", key=removed.key)], check=True),
        ]
        written = {r.key or "": None if r.op.action == "delete" else r.etag for r in ours}
        settled = driver.settle(cursor, written)
        if settled is None:
            return  # declining is always allowed
        assert list(driver.read(settled, fresh_window())) == [], "our writes were read back"
        created = ours[0]
        self.edit_behind_back(driver, created.key or "", event.replace(title="Edited later"))
        changes = list(driver.read(settled, fresh_window()))
        assert [c.key for c in changes] == [created.key], "a later change is read after all"

    def test_an_unreadable_item_is_an_error_change(self, driver: Driver) -> None:
        good = self.create(driver, make_event(title="Readable"))
        cursor = self.cursor(driver) if driver.capabilities.incremental else None
        key = self.plant_unreadable(driver)
        changes = self.read(driver)
        assert key in changes, f"a full read leaves out the item it cannot read: {changes}"
        assert changes[key].error, f"an unreadable item must be an error change: {changes[key]}"
        assert not changes[key].deleted
        assert changes[good.key or ""].event is not None, "the other items are still read"
        if cursor is not None:
            since = {c.key: c for c in driver.read(cursor, fresh_window())}
            assert key in since, "an incremental read reports the item it cannot read"
            assert since[key].error and not since[key].deleted, since[key]
