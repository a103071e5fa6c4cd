"""The emulated Polar: one organization's meters and Polar's rules for them.

Who may call lives in auth.py, the meter records in meters.py, events, customers and credits
in `store` (events.py; usage.py computes from them), the state file in statefile.py and the
request journal in journal.py. Nothing here knows HTTP: failures are typed exceptions
(refusals.py) that the adapters turn into Polar's answers.
"""

from __future__ import annotations

import math
import secrets
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.emulator import validation
from reconciler.emulator.auth import (
    ALL_SCOPES,
    ORGANIZATION_TOKEN_PREFIX,
    PERSONAL_TOKEN_PREFIX,
    READ_SCOPES,
    WRITE_SCOPES,
    Principal,
    Tokens,
    authorize,
)
from reconciler.emulator.events import EventStore
from reconciler.emulator.fields import Invalid, uuid4
from reconciler.emulator.journal import CAPACITY as JOURNAL_CAPACITY
from reconciler.emulator.journal import RequestJournal
from reconciler.emulator.meters import (
    MAX_LIMIT,
    MeterRecord,
    Page,
    check_update,
    ilike,
    jsonb_metadata,
    jsonb_text,
    shuffled_ties,
    sort_key,
    sorted_meters,
)
from reconciler.emulator.products import BenefitRecord, ProductRecord, archive_refusal
from reconciler.emulator.refusals import (
    EmulatorError,
    Forbidden,
    NotFound,
    PolarRequestValidationError,
    RequestValidationError,
    StateFileError,
    Unauthorized,
    field_error,
)
from reconciler.emulator.statefile import STATE_FORMAT, StateFile, shape_error

__all__ = [
    "ALL_SCOPES", "ORGANIZATION_TOKEN_PREFIX", "PERSONAL_TOKEN_PREFIX",
    "READ_SCOPES", "STATE_FORMAT", "WRITE_SCOPES", "Emulator", "EmulatorError", "Forbidden",
    "NotFound", "Page", "PolarRequestValidationError", "Principal", "RequestValidationError",
    "StateFileError", "Unauthorized", "jsonb_text",
]

_UPDATABLE = ("name", "unit", "custom_label", "custom_multiplier", "metadata")


def _check_organization_id(value: str) -> str:
    try:
        return uuid4(value, ())
    except Invalid:
        raise ValueError(f"organization id {value!r} is not a UUID4") from None


def validated(check: Any, body: Any) -> dict[str, Any]:
    """`check(body)`, its pydantic-style errors raised as the 422 the adapters answer."""
    try:
        result: dict[str, Any] = check(body)
    except Invalid as exc:
        raise RequestValidationError(exc.errors) from None
    return result


class Emulator:
    """Polar's meters API for one organization, in memory (and in a state file if given)."""

    def __init__(
        self,
        token: str | None = None,
        organization_id: str | None = None,
        state_path: str | Path | None = None,
        billing_interval: float | None = None,
        unstable_sort: bool = False,
        journal_capacity: int | None = JOURNAL_CAPACITY,
    ) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # writing() blocks entered (they nest: ingest, then its billing)
        #: None: each ingest (or credit) bills its events at once, locking the meters they
        #: match; else seconds between billing passes (billing.py; the caller runs the timer).
        self.billing_interval = billing_interval
        #: Sorts without a tie-breaker, as PostgreSQL may: each listing orders equal keys
        #: anew, so pages can overlap or skip (meters.py `shuffled_ties`).
        self.unstable_sort = unstable_sort
        self._state = StateFile(Path(state_path)) if state_path is not None else None
        self._listing: tuple[tuple[Any, ...], list[MeterRecord]] | None = None
        # Every change goes through _save, which bumps the revision: a listing's sorted
        # selection is kept for the next page while the revision stays the same.
        self._revision = 0
        state = self._state.read() if self._state is not None else {}
        chosen_org = organization_id or state.get("organization_id") or str(uuid.uuid4())
        self.organization_id = _check_organization_id(chosen_org)
        own = token or state.get("token") or ORGANIZATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._tokens = Tokens(own, {})
        self.token = self._tokens.own
        self._load(state)
        self.journal = RequestJournal(journal_capacity)
        with self.writing():
            pass  # the state file exists from the start (with this token and organization)

    def _load(self, state: dict[str, Any]) -> None:
        """Take the meters, extra tokens, events, customers, credits, products and benefits
        of `state`."""
        try:
            extra = {t: frozenset(s) for t, s in state.get("extra_tokens", {}).items()}
            meters = {m["id"]: MeterRecord.from_state(m) for m in state.get("meters", [])}
            store = EventStore(self.organization_id, state)
            products = {p["id"]: ProductRecord.from_state(p) for p in state.get("products", [])}
            benefits = {b["id"]: BenefitRecord.from_state(b) for b in state.get("benefits", [])}
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            assert self._state is not None  # only a file holds another shape
            raise shape_error(self._state.path, exc) from None
        self._tokens = Tokens(self.token, extra)
        self._meters = meters
        self.store = store
        #: Products and meter-credit benefits (catalog.py serves them); they hold meters.
        self.products = products
        self.benefits = benefits
        self._revision += 1

    def refresh(self) -> None:
        """Reload the state when another process changed the state file since."""
        if self._state is not None and self._state.changed():
            with self._lock:
                self._load(self._state.read())

    # -- tokens -----------------------------------------------------------------------------

    def add_token(self, token: str, scopes: Iterable[str]) -> None:
        """Accept one more token (for tests), holding only `scopes`."""
        with self.writing():
            self._tokens.add(token, scopes)

    def principal(self, token: str | None) -> Principal | None:
        """Who a bearer token is; None without one. An unknown token is refused at once."""
        with self._lock:
            return self._tokens.principal(token)

    def authorize(self, principal: Principal | None, scopes: frozenset[str]) -> Principal:
        """Polar's check: some caller, holding at least one of `scopes`."""
        return authorize(principal, scopes)

    def caller(self, principal: Principal | None, scopes: frozenset[str]) -> Principal:
        """`principal` checked for `scopes`; None means the emulator's own token. Every
        operation starts here: it first takes what other processes wrote to the state."""
        self.refresh()
        return authorize(principal or self.principal(self.token), scopes)

    # -- meters -----------------------------------------------------------------------------

    def list_meters(
        self,
        principal: Principal | None = None,
        *,
        organization_ids: Sequence[str] | None = None,
        query: str | None = None,
        is_archived: bool | None = None,
        metadata: dict[str, list[str]] | None = None,
        page: int = 1,
        limit: int = 10,
        sorting: Sequence[str] = ("name",),
    ) -> Page:
        """One page of meters; `limit` is capped at 100 like Polar does, silently."""
        self.caller(principal, READ_SCOPES)
        if page < 1 or limit < 1:
            raise ValueError("page and limit must be positive")
        with self._lock:
            key = (
                self._revision, None if organization_ids is None else tuple(organization_ids),
                query, is_archived, tuple((k, tuple(v)) for k, v in sorted((metadata or {}).items())),
                tuple(sorting),
            )
            if self._listing is None or self._listing[0] != key:
                selected = self._select(organization_ids, query, is_archived, metadata or {})
                self._listing = (key, sorted_meters(selected, sorting))
            meters = self._listing[1]
            if self.unstable_sort:
                meters = shuffled_ties(meters, lambda m: sort_key(m, sorting))
            limit = min(limit, MAX_LIMIT)
            start = (page - 1) * limit
            items = [m.to_json() for m in meters[start : start + limit]]
        return Page(items, len(meters), math.ceil(len(meters) / limit))

    def _select(
        self,
        organization_ids: Sequence[str] | None,
        query: str | None,
        is_archived: bool | None,
        metadata: dict[str, list[str]],
    ) -> list[MeterRecord]:
        meters = self.meter_records()
        if organization_ids is not None:
            meters = [m for m in meters if m.organization_id in organization_ids]
        if query is not None:
            pattern = ilike(query)
            meters = [m for m in meters if pattern.fullmatch(m.name)]
        if is_archived is not None:
            meters = [m for m in meters if (m.archived_at is not None) == is_archived]
        for key, values in metadata.items():
            meters = [
                m for m in meters if key in m.metadata and jsonb_text(m.metadata[key]) in values
            ]
        return meters

    def create_meter(self, body: Any, principal: Principal | None = None) -> dict[str, Any]:
        """POST /v1/meters/: a MeterCreate body (JSON value) to a new meter."""
        caller = self.caller(principal, WRITE_SCOPES)
        data = validated(validation.meter_create, body)
        organization_id = self.payload_organization(caller, data["organization_id"])
        now = datetime.now(UTC)
        meter = MeterRecord(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            name=data["name"],
            unit=data["unit"],
            custom_label=data["custom_label"],
            custom_multiplier=data["custom_multiplier"],
            filter=data["filter"],
            aggregation=data["aggregation"],
            metadata=jsonb_metadata(data["metadata"]),
            created_at=now,
            modified_at=now,  # create updates the row once (NOTES.md "Schemas")
        )
        with self.writing():
            # Polar sets the lock at once when existing events already match the meter.
            meter.locked = self.store.any_match(meter.filter, meter.aggregation)
            self._meters[meter.id] = meter
            return meter.to_json()

    def payload_organization(self, caller: Principal, organization_id: str | None) -> str:
        if not caller.personal:
            if organization_id is not None:
                raise field_error(
                    "organization_token", "organization_id",
                    "Setting organization_id is disallowed when using an organization token.",
                    organization_id,
                )
            return self.organization_id
        if organization_id is None:  # whatever the number of organizations the user has
            raise field_error(
                "missing", "organization_id", "organization_id is required.", None
            )
        if organization_id != self.organization_id:
            raise field_error(
                "value_error", "organization_id", "Organization not found.", organization_id
            )
        return self.organization_id

    def get_meter(self, meter_id: str, principal: Principal | None = None) -> dict[str, Any]:
        self.caller(principal, READ_SCOPES)
        with self._lock:
            return self._find(meter_id).to_json()

    def update_meter(
        self, meter_id: str, body: Any, principal: Principal | None = None
    ) -> dict[str, Any]:
        """PATCH /v1/meters/{id}: only the fields the body holds change."""
        self.caller(principal, WRITE_SCOPES)
        data = validated(validation.meter_update, body)
        with self.writing() as changed:
            meter = self._find(meter_id)
            held = archive_refusal(meter.id, self.products.values(), self.benefits.values())
            check_update(meter, data, held)
            changes = {
                name: value for name, value in data.items()
                if name in _UPDATABLE
                or (name in ("filter", "aggregation") and value is not None)
            }
            if "metadata" in changes:
                changes["metadata"] = jsonb_metadata(changes["metadata"])
            now = datetime.now(UTC)
            for name, value in changes.items():
                setattr(meter, name, value)
            archive = data.get("is_archived")
            if archive is not None:
                meter.archived_at = now if archive else None
            if changes or archive is not None:
                meter.modified_at = now
            else:
                changed.clear()  # nothing to save
            return meter.to_json()

    def lock(self, meter_id: str) -> None:
        """Mark a meter as having matched events: its filter and aggregation are frozen."""
        with self.writing():
            self._find(meter_id, any_organization=True).locked = True

    def is_locked(self, meter_id: str) -> bool:
        with self._lock:
            return self._find(meter_id, any_organization=True).locked

    # -- for the usage side (usage.py): the meters' records under the emulator's lock -------

    @property
    def mutex(self) -> threading.RLock:
        return self._lock

    def meter_record(self, meter_id: str) -> MeterRecord:
        """This organization's meter (NotFound otherwise); hold `mutex` while using it."""
        return self._find(meter_id)

    def meter_records(self) -> list[MeterRecord]:
        """This organization's meters; hold `mutex` while using them."""
        return [m for m in self._meters.values() if m.organization_id == self.organization_id]

    def _find(self, meter_id: str, any_organization: bool = False) -> MeterRecord:
        meter = self._meters.get(meter_id)
        if meter is None or not (any_organization or meter.organization_id == self.organization_id):
            raise NotFound(meter_id)
        return meter

    # -- the request journal (kept for /_emulator/requests; never saved) -------------------

    def record_request(self, entry: dict[str, Any]) -> None:
        self.journal.record(entry)

    def requests(self) -> list[dict[str, Any]]:
        return self.journal.entries()

    def clear_requests(self) -> None:
        self.journal.clear()

    # -- writes and the state file -------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[set[str]]:
        """Hold the emulator's lock (and the state file's, across processes) for a change
        made on the latest state, then save it. The change may empty the yielded set to say
        that nothing changed; an exception saves nothing."""
        with self._lock, self._file_lock():
            if self._state is not None and self._state.changed() and self._depth == 0:
                self._load(self._state.read())
            self._depth += 1
            changed = {"changed"}
            try:
                yield changed
            finally:
                self._depth -= 1
            if changed:
                self._save()

    def _file_lock(self) -> Any:
        if self._state is None or self._depth > 0:
            return nullcontext()
        return self._state.locked()

    def save(self) -> None:
        self._save()

    def _save(self) -> None:
        with self._lock:
            self._revision += 1
            if self._state is None:
                return
            self._state.write({
                "organization_id": self.organization_id,
                "token": self.token,
                "extra_tokens": self._tokens.extra_to_state(),
                "meters": [m.to_state() for m in self._meters.values()],
                **self.store.to_state(),
                "products": [p.to_state() for p in self.products.values()],
                "benefits": [b.to_state() for b in self.benefits.values()],
            })
