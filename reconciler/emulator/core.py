"""The emulated Polar: one organization's meters, its tokens, and Polar's rules for them.
Its events, customers and credits live in `store` (events.py); usage.py computes from them.

Nothing here knows HTTP: failures are typed exceptions that the adapters turn into Polar's
answers. With a state file, the state (events included) is read on start and rewritten
atomically after every write, so a restarted emulator (or the next `--server local` run)
finds its meters and events again.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import secrets
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from reconciler.emulator import validation
from reconciler.emulator.events import EventStore
from reconciler.emulator.fields import Invalid, uuid4
from reconciler.emulator.timefmt import timestamp
from reconciler.errors import UserError

ALL_SCOPES = frozenset(
    {"meters:read", "meters:write", "events:read", "events:write", "customer_meters:read"}
)
READ_SCOPES = frozenset({"meters:read", "meters:write"})
WRITE_SCOPES = frozenset({"meters:write"})
MAX_LIMIT = 100
ORGANIZATION_TOKEN_PREFIX = "polar_oat_"
PERSONAL_TOKEN_PREFIX = "polar_pat_"
STATE_FORMAT = 1
_LOCKED_MESSAGE = "This field can't be updated because the meter is already aggregating events."
#: What can hold a meter (emulator-only: Polar's products and benefits are not emulated),
#: and Polar's refusal to archive it then.
ATTACHMENTS = {
    "product": "Cannot archive meter that is still attached to active products",
    "benefit": "Cannot archive meter that is still referenced by active benefits",
}


class EmulatorError(Exception):
    """A refusal Polar would answer with an error status."""


class NotFound(EmulatorError):
    """The meter does not exist, or belongs to another organization."""


class RequestValidationError(EmulatorError):
    """A 422: `detail` holds pydantic-style items."""

    def __init__(self, detail: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.detail = detail


class PolarRequestValidationError(RequestValidationError):
    """A 422 from Polar's own rules (not the schema): Polar names it differently in the body."""


class Unauthorized(EmulatorError):
    """No token (`missing_token`) or one Polar does not know (`invalid_token`)."""

    def __init__(self, kind: Literal["missing_token", "invalid_token"]) -> None:
        super().__init__(kind)
        self.kind = kind


class Forbidden(EmulatorError):
    """The token holds none of the scopes the operation accepts."""

    def __init__(self, required_scopes: frozenset[str]) -> None:
        super().__init__(" ".join(sorted(required_scopes)))
        self.required_scopes = required_scopes


class StateFileError(UserError):
    """The state file cannot be read or written."""


@dataclass(frozen=True)
class Principal:
    """Who calls: a token and its scopes."""

    token: str
    scopes: frozenset[str]

    @property
    def personal(self) -> bool:
        return self.token.startswith(PERSONAL_TOKEN_PREFIX)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total_count: int
    max_page: int

    def to_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "pagination": {"total_count": self.total_count, "max_page": self.max_page},
        }


def _copied(value: Any) -> Any:
    """A copy of a JSON value (dicts, lists, scalars): copy.deepcopy without its memo, ~4x
    faster, which matters when a 10,000-meter organization is listed page by page."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


def _jsonb_number(value: float) -> int | float:
    """What PostgreSQL's JSONB gives back for a float: its plain decimal text, re-read."""
    number = Decimal(repr(value))
    return json.loads(format(abs(number) if number.is_zero() else number, "f"))


def _jsonb_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata as stored in JSONB: keys by length then bytes, floats as decimal text."""
    def stored(value: Any) -> Any:
        return _jsonb_number(value) if isinstance(value, float) else value

    keys = sorted(metadata, key=lambda key: (len(key.encode()), key.encode()))
    return {key: stored(metadata[key]) for key in keys}


def jsonb_text(value: Any) -> str:
    """`user_metadata[key]->>` as text: the JSON text of a non-string."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    return json.dumps(value)


def _ilike(query: str) -> re.Pattern[str]:
    """`name ILIKE '%query%'`: `%` and `_` are wildcards, a backslash escapes."""
    pattern = f"%{query}%"
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _name_key(name: str) -> tuple[str, str]:
    """An approximation of a locale collation: case-insensitive, lowercase first on ties."""
    return name.casefold(), name.swapcase()


@dataclass
class _Meter:
    id: str
    organization_id: str
    name: str
    unit: str
    custom_label: str | None
    custom_multiplier: int | None
    filter: dict[str, Any]
    aggregation: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    modified_at: datetime | None = None
    archived_at: datetime | None = None
    locked: bool = field(default=False)
    attached: set[str] = field(default_factory=set)  # "product", "benefit"

    def to_json(self) -> dict[str, Any]:
        """The Meter schema, in Polar's field order (no lock flag: Polar hides it)."""
        return {
            "metadata": _copied(self.metadata),
            "created_at": timestamp(self.created_at),
            "modified_at": None if self.modified_at is None else timestamp(self.modified_at),
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "custom_label": self.custom_label,
            "custom_multiplier": self.custom_multiplier,
            "filter": _copied(self.filter),
            "aggregation": _copied(self.aggregation),
            "organization_id": self.organization_id,
            "archived_at": None if self.archived_at is None else timestamp(self.archived_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], locked: bool) -> _Meter:
        """A meter from its state entry: the Meter schema plus `locked` and `attached`."""
        def moment(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value)

        created_at = moment(data["created_at"])
        assert created_at is not None
        return cls(
            id=data["id"], organization_id=data["organization_id"], name=data["name"],
            unit=data["unit"], custom_label=data["custom_label"],
            custom_multiplier=data["custom_multiplier"], filter=data["filter"],
            aggregation=data["aggregation"], metadata=data["metadata"], created_at=created_at,
            modified_at=moment(data["modified_at"]), archived_at=moment(data["archived_at"]),
            locked=locked, attached=set(data.get("attached", ())),
        )


def _check_token(token: str) -> str:
    known_kind = token.startswith((ORGANIZATION_TOKEN_PREFIX, PERSONAL_TOKEN_PREFIX))
    if not known_kind or not token.isascii():
        raise ValueError(
            f"a token must start with {ORGANIZATION_TOKEN_PREFIX} (organization) or "
            f"{PERSONAL_TOKEN_PREFIX} (personal) and be ASCII"
        )
    return token


def _check_organization_id(value: str) -> str:
    try:
        return uuid4(value, ())
    except Invalid:
        raise ValueError(f"organization id {value!r} is not a UUID4") from None


def _validated(check: Callable[[Any], dict[str, Any]], body: Any) -> dict[str, Any]:
    try:
        return check(body)
    except Invalid as exc:
        raise RequestValidationError(exc.errors) from None


def _field_error(kind: str, field_name: str, msg: str, value: Any) -> PolarRequestValidationError:
    return PolarRequestValidationError(
        [{"type": kind, "loc": ["body", field_name], "msg": msg, "input": value}]
    )


class Emulator:
    """Polar's meters API for one organization, in memory (and in a state file if given)."""

    def __init__(
        self,
        token: str | None = None,
        organization_id: str | None = None,
        state_path: str | Path | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._state_path = Path(state_path) if state_path is not None else None
        state = self._read_state()
        chosen_org = organization_id or state.get("organization_id") or str(uuid.uuid4())
        self.organization_id = _check_organization_id(chosen_org)
        self.token = _check_token(
            token or state.get("token") or ORGANIZATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        )
        self._tokens = {t: frozenset(s) for t, s in state.get("extra_tokens", {}).items()}
        self._tokens[self.token] = ALL_SCOPES
        self._meters = {
            m["id"]: _Meter.from_json(m, bool(m.get("locked"))) for m in state.get("meters", [])
        }
        self.store = EventStore(self.organization_id, state)
        self._journal: list[dict[str, Any]] = []
        # Every change goes through _save, which bumps the revision: a listing's sorted
        # selection is kept for the next page while the revision stays the same.
        self._revision = 0
        self._listing: tuple[tuple[Any, ...], list[_Meter]] | None = None
        self._save()

    # -- tokens -----------------------------------------------------------------------------

    def add_token(self, token: str, scopes: Iterable[str]) -> None:
        """Accept one more token (for tests), holding only `scopes`."""
        with self._lock:
            self._tokens[_check_token(token)] = frozenset(scopes)
            self._save()

    def principal(self, token: str | None) -> Principal | None:
        """Who a bearer token is; None without one. An unknown token is refused at once."""
        if token is None:
            return None
        with self._lock:
            scopes = self._tokens.get(token)
        if scopes is None:
            raise Unauthorized("invalid_token")
        return Principal(token, scopes)

    def authorize(self, principal: Principal | None, scopes: frozenset[str]) -> Principal:
        """Polar's check: some caller, holding at least one of `scopes`."""
        if principal is None:
            raise Unauthorized("missing_token")
        if not principal.scopes & scopes:
            raise Forbidden(scopes)
        return principal

    def _caller(self, principal: Principal | None, scopes: frozenset[str]) -> Principal:
        return self.authorize(principal or self.principal(self.token), scopes)

    caller = _caller  # for the usage side (usage.py): None means the emulator's own token

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
        self._caller(principal, READ_SCOPES)
        if page < 1 or limit < 1:
            raise ValueError("page and limit must be positive")
        limit = min(limit, MAX_LIMIT)
        with self._lock:
            meters = self._sorted_selection(
                organization_ids, query, is_archived, metadata or {}, sorting
            )
            start = (page - 1) * limit
            items = [m.to_json() for m in meters[start : start + limit]]
        return Page(items, len(meters), math.ceil(len(meters) / limit))

    def _sorted_selection(
        self,
        organization_ids: Sequence[str] | None,
        query: str | None,
        is_archived: bool | None,
        metadata: dict[str, list[str]],
        sorting: Sequence[str],
    ) -> list[_Meter]:
        key = (
            self._revision, None if organization_ids is None else tuple(organization_ids),
            query, is_archived, tuple((k, tuple(v)) for k, v in sorted(metadata.items())),
            tuple(sorting),
        )
        if self._listing is not None and self._listing[0] == key:
            return self._listing[1]
        meters = self._select(organization_ids, query, is_archived, metadata)
        for criterion in reversed(sorting):
            by_name = criterion.removeprefix("-") == "name"
            meters.sort(
                key=(lambda m: _name_key(m.name)) if by_name else (lambda m: m.created_at),
                reverse=criterion.startswith("-"),
            )
        self._listing = (key, meters)
        return meters

    def _select(
        self,
        organization_ids: Sequence[str] | None,
        query: str | None,
        is_archived: bool | None,
        metadata: dict[str, list[str]],
    ) -> list[_Meter]:
        meters = [m for m in self._meters.values() if m.organization_id == self.organization_id]
        if organization_ids is not None:
            meters = [m for m in meters if m.organization_id in organization_ids]
        if query is not None:
            pattern = _ilike(query)
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
        caller = self._caller(principal, WRITE_SCOPES)
        data = _validated(validation.meter_create, body)
        organization_id = self._payload_organization(caller, data["organization_id"])
        meter = _Meter(
            id=str(uuid.uuid4()),
            organization_id=organization_id,
            name=data["name"],
            unit=data["unit"],
            custom_label=data["custom_label"],
            custom_multiplier=data["custom_multiplier"],
            filter=data["filter"],
            aggregation=data["aggregation"],
            metadata=_jsonb_metadata(data["metadata"]),
            created_at=datetime.now(UTC),
        )
        with self._lock:
            # Polar sets the lock at once when existing events already match the meter.
            meter.locked = self.store.any_match(meter.filter, meter.aggregation)
            self._meters[meter.id] = meter
            self._save()
            return meter.to_json()

    def _payload_organization(self, caller: Principal, organization_id: str | None) -> str:
        if not caller.personal:
            if organization_id is not None:
                raise _field_error(
                    "organization_token", "organization_id",
                    "Setting organization_id is disallowed when using an organization token.",
                    organization_id,
                )
            return self.organization_id
        if organization_id not in (None, self.organization_id):
            raise _field_error(
                "value_error", "organization_id", "Organization not found.", organization_id
            )
        return self.organization_id

    def get_meter(self, meter_id: str, principal: Principal | None = None) -> dict[str, Any]:
        self._caller(principal, READ_SCOPES)
        with self._lock:
            return self._find(meter_id).to_json()

    def update_meter(
        self, meter_id: str, body: Any, principal: Principal | None = None
    ) -> dict[str, Any]:
        """PATCH /v1/meters/{id}: only the fields the body holds change."""
        self._caller(principal, WRITE_SCOPES)
        data = _validated(validation.meter_update, body)
        with self._lock:
            meter = self._find(meter_id)
            if meter.locked:
                refused = [name for name in ("filter", "aggregation") if name in data]
                if refused:
                    raise PolarRequestValidationError([
                        {"type": "forbidden", "loc": ["body", name], "msg": _LOCKED_MESSAGE,
                         "input": data[name]}
                        for name in refused
                    ])
            if data.get("is_archived") and meter.attached:  # the whole update is refused
                held_by = "product" if "product" in meter.attached else "benefit"
                raise _field_error("value_error", "is_archived", ATTACHMENTS[held_by], True)
            changes = {
                name: value for name, value in data.items()
                if name in ("name", "unit", "custom_label", "custom_multiplier", "metadata")
                or (name in ("filter", "aggregation") and value is not None)
            }
            if "metadata" in changes:
                changes["metadata"] = _jsonb_metadata(changes["metadata"])
            now = datetime.now(UTC)
            for name, value in changes.items():
                setattr(meter, name, value)
            archive = data.get("is_archived")
            if archive is not None:
                meter.archived_at = now if archive else None
            if changes or archive is not None:
                meter.modified_at = now
                self._save()
            return meter.to_json()

    def lock(self, meter_id: str) -> None:
        """Mark a meter as having matched events: its filter and aggregation are frozen."""
        with self._lock:
            self._find(meter_id, any_organization=True).locked = True
            self._save()

    def is_locked(self, meter_id: str) -> bool:
        with self._lock:
            return self._find(meter_id, any_organization=True).locked

    def attach(self, meter_id: str, to: str, attached: bool = True) -> list[str]:
        """Attach a meter to (or detach it from) an active product's metered price or a
        meter-credit benefit: while attached, Polar refuses to archive it. Returns what
        holds it now."""
        if to not in ATTACHMENTS:
            raise ValueError(f"a meter attaches to one of {sorted(ATTACHMENTS)}, not {to!r}")
        with self._lock:
            meter = self._find(meter_id)
            if attached:
                meter.attached.add(to)
            else:
                meter.attached.discard(to)
            self._save()
            return sorted(meter.attached)

    # -- for the usage side (usage.py): the meters' records under the emulator's lock -------

    @property
    def mutex(self) -> threading.RLock:
        return self._lock

    def meter_record(self, meter_id: str) -> _Meter:
        """This organization's meter (NotFound otherwise); hold `mutex` while using it."""
        return self._find(meter_id)

    def meter_records(self) -> list[_Meter]:
        """This organization's meters; hold `mutex` while using them."""
        return [m for m in self._meters.values() if m.organization_id == self.organization_id]

    def save(self) -> None:
        self._save()

    def _find(self, meter_id: str, any_organization: bool = False) -> _Meter:
        meter = self._meters.get(meter_id)
        if meter is None or not (any_organization or meter.organization_id == self.organization_id):
            raise NotFound(meter_id)
        return meter

    # -- the request journal (kept for /_emulator/requests; never saved) -------------------

    def record_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._journal.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._journal)

    def clear_requests(self) -> None:
        with self._lock:
            self._journal.clear()

    # -- state file -------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        path = self._state_path
        if path is None or not path.exists():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateFileError(f"cannot read the emulator state {path}: {exc}") from None
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise StateFileError(f"{path} is not an emulator state file (format {STATE_FORMAT})")
        return state

    def _save(self) -> None:
        with self._lock:
            self._revision += 1
        path = self._state_path
        if path is None:
            return
        with self._lock:
            state = {
                "format": STATE_FORMAT,
                "organization_id": self.organization_id,
                "token": self.token,
                "extra_tokens": {
                    t: sorted(s) for t, s in self._tokens.items() if t != self.token
                },
                "meters": [
                    {**m.to_json(), "locked": m.locked, "attached": sorted(m.attached)}
                    for m in self._meters.values()
                ],
                **self.store.to_state(),
            }
            text = json.dumps(state, ensure_ascii=False, indent=1)
            temporary: str | None = None
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(
                    "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
                ) as handle:
                    temporary = handle.name
                    handle.write(text)
                os.replace(temporary, path)
            except OSError as exc:
                if temporary is not None and os.path.exists(temporary):
                    os.unlink(temporary)
                raise StateFileError(f"cannot write the emulator state {path}: {exc}") from None
