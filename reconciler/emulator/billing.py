"""When a meter locks (NOTES.md "When a meter locks"): not when an event matches, but when
Polar's billing job turns matching events into billing entries (a cron every 15 minutes),
or at create when events already match (core.py, on the SQL path).

A billing pass here locks every active meter that some stored event matches on the billing
job's Python path (`==` and ordering of Python values: engine/billing.py), or that holds a
`meter.credited` / `meter.reset` system event (the emulator's credits and resets). By
default the emulator runs a pass right after each ingest or credit (the same request locks);
with a billing interval it runs them only on a timer (`BillingTimer`) or when asked
(POST /_emulator/billing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from reconciler.usage.engine import Event

if TYPE_CHECKING:
    from reconciler.emulator.core import Emulator
    from reconciler.emulator.events import StoredEvent


def _billing_matches(filter_: dict[str, Any], aggregation: dict[str, Any], event: Event) -> bool:
    """The billing job's Python-path match. Seam: the engine's billing evaluator
    (engine/billing.py) when it is there, else the engine's one matcher."""
    try:
        from reconciler.usage.engine.billing import (  # type: ignore[import-not-found,unused-ignore]
            billing_meter_matches,
        )
    except ImportError:  # pragma: no cover - until engine/billing.py lands
        from reconciler.usage.engine import meter_matches as billing_meter_matches
    return billing_meter_matches(filter_, aggregation, event)


def billing_pass(emulator: Emulator, events: Iterable[StoredEvent] | None = None) -> list[str]:
    """Lock every active meter billed by `events` (else every stored event) or by a credit
    or reset; returns the ids of the meters it locked now."""
    locked: list[str] = []
    with emulator.writing() as changed:
        store = emulator.store
        chosen = list(store.events if events is None else events)
        system = {record.meter_id for record in store.credits}
        for meter in emulator.meter_records():
            if meter.archived_at is not None or meter.locked:
                continue
            if meter.id in system or any(
                _billing_matches(meter.filter, meter.aggregation, e.event) for e in chosen
            ):
                meter.locked = True
                locked.append(meter.id)
        if not locked:
            changed.clear()
    return locked


def after_request(emulator: Emulator, events: Iterable[StoredEvent] = ()) -> None:
    """The default: the request that brought events (or a credit) bills them at once."""
    if emulator.billing_interval is None:
        billing_pass(emulator, events)


class BillingTimer:
    """Runs a billing pass every `interval` seconds in a daemon thread until `stop()`."""

    def __init__(self, emulator: Emulator, interval: float) -> None:
        self.emulator = emulator
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="polar-billing", daemon=True)

    def start(self) -> BillingTimer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            billing_pass(self.emulator)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
