"""The plan as a versioned JSON document: saved by `plan --out`, printed by
`plan --format json`, applied by `apply --plan`.

Compatibility: consumers ignore fields they do not know; the major part of
``format_version`` changes only when a change would break a consumer. The document holds
no token and no header: only what the plan is about.

Trust (README, "Saved plans"): a plan file is data, never instructions. Reading one checks,
before parsing, that it is a regular file of at most :data:`MAX_PLAN_BYTES`; then every
action's request is derived again from what the plan shows (its kind, key, meter id and
before/after values) and a file whose stored request or changes disagree with them is
refused, so `apply --plan` can only send what it displays, to the configured server, under
``/v1/meters/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import UserError
from reconciler.model import TAG_KEY, DesiredMeter, Location, RemoteMeter
from reconciler.plan.archives import holder_from_document
from reconciler.plan.diff import ABSENT, FieldChange, diff_specs, same
from reconciler.plan.live import review_from_document
from reconciler.plan.planner import create_body, update_body
from reconciler.plan.targeting import Targeting
from reconciler.plan.types import (
    ACTION_KINDS,
    LOCK_STATES,
    Action,
    Fingerprint,
    LockState,
    Plan,
    RemoteRef,
    Request,
)
from reconciler.polar.identity import UUID
from reconciler.timestamps import json_timestamp

FORMAT_VERSION = "1.0"
FORMAT_MAJOR = 1

#: The largest plan file read. A plan of 10,000 meters to create is about 24 MiB; a file
#: larger than this is not a plan (`apply --plan /dev/zero` must not read forever).
MAX_PLAN_BYTES = 64 * 1024 * 1024


def _change(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": change.path}
    if change.before is not ABSENT:
        out["before"] = change.before
    if change.after is not ABSENT:
        out["after"] = change.after
    if change.moved_from is not None:
        out["moved_from"] = change.moved_from
    return out


def _action(action: Action) -> dict[str, Any]:
    return {
        "action": action.kind,
        "key": action.key,
        "name": action.name,
        "meter_id": action.meter_id,
        "location": str(action.location) if action.location else None,
        "note": action.note,
        "locked": action.locked,
        "lock": action.lock,
        "problem": action.problem,
        "caveat": action.caveat,
        "held_by": [h.document() for h in action.held_by],
        "before": action.before,
        "after": action.after,
        "changes": [_change(c) for c in action.changes],
        "request": {
            "method": action.request.method,
            "path": action.request.path,
            "body": action.request.body,
        },
    }


def summary(plan: Plan) -> dict[str, int]:
    return {
        **{kind: plan.count(kind) for kind in ACTION_KINDS},
        "unchanged": len(plan.unchanged),
        "unmanaged": len(plan.unmanaged),
        "missing": len(plan.missing),
    }


def actions_digest(plan: Plan) -> str:
    """A digest of what applying the plan would send: each action's kind, key, meter and
    exact request, in key order. Two plans with equal digests make the same writes; the
    merge policy (`apply --expect-digest`) compares the reviewed plan's with the merged
    commit's."""
    items = sorted(
        (
            {
                "action": a.kind,
                "key": a.key,
                "meter_id": a.meter_id,
                "request": {"method": a.request.method, "path": a.request.path,
                            "body": a.request.body},
            }
            for a in plan.actions
            if not a.held_by  # refused ahead: never sent
        ),
        key=lambda item: (str(item["key"]), str(item["action"])),
    )
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def to_document(plan: Plan, created_at: datetime | None = None) -> dict[str, Any]:
    created = json_timestamp(created_at or datetime.now(UTC))
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "polar_meters_version": __version__,
        "created_at": created,
        "server": {"name": plan.server, "url": plan.server_url},
        "organization_id": plan.organization_id,
        "environment": plan.environment,
        "configuration": {"digest": plan.config_digest, "files": plan.config_files},
        "has_changes": plan.has_changes,
        "has_problems": bool(plan.problems),
        "summary": summary(plan),
        "actions_digest": actions_digest(plan),
        "actions": [_action(a) for a in plan.actions],
        "unchanged": plan.unchanged,
        "unmanaged": [{"id": r.id, "name": r.name} for r in plan.unmanaged],
        "missing": [{"id": r.id, "name": r.name, "key": r.key} for r in plan.missing],
        "retired": [{"id": r.id, "name": r.name, "key": r.key} for r in plan.retired],
        "duplicates": [{"id": r.id, "name": r.name, "key": r.key} for r in plan.duplicates],
        "targeting": {**plan.targeting.document(), "left_out": plan.left_out},
        "remote_meters": [
            {
                "id": f.id,
                "key": f.key,
                "name": f.name,
                "modified_at": f.modified_at,
                "digest": f.content_digest(),
                "archived": f.archived,
            }
            for f in plan.seen
        ],
        "live": plan.live.document() if plan.live is not None else None,
    }
    if plan.preview is not None:  # optional: only with `plan --events`
        document["preview"] = plan.preview.document()
    return document


def dumps(plan: Plan) -> str:
    return json.dumps(to_document(plan), indent=2, ensure_ascii=False) + "\n"


def _location(text: str | None) -> Location | None:
    if not text:
        return None
    file, _, rest = text.rpartition(":")
    file2, _, line = file.rpartition(":")
    try:
        return Location(file2, int(line), int(rest))
    except ValueError:
        return None


def _load_change(data: dict[str, Any]) -> FieldChange:
    moved_from = data.get("moved_from")
    if moved_from is not None and not isinstance(moved_from, str):
        raise TypeError("moved_from must be a path")
    return FieldChange(data["path"], data.get("before", ABSENT), data.get("after", ABSENT),
                       moved_from)


def from_document(doc: Any, source: str = "plan file") -> Plan:
    """Rebuild a Plan from its document; a corrupt or newer-format document is refused."""
    if not isinstance(doc, dict) or "format_version" not in doc:
        raise UserError(f"{source}: not a polar-meters plan (no format_version)")
    version = str(doc["format_version"])
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise UserError(f"{source}: unreadable format_version {version!r}") from None
    if major != FORMAT_MAJOR:
        raise UserError(
            f"{source}: plan format {version} is not supported by polar-meters {__version__} "
            f"(it reads {FORMAT_MAJOR}.x); use the polar-meters version that made the plan"
        )
    try:
        targeting = doc.get("targeting") or {}
        plan = Plan(
            server=doc["server"]["name"],
            organization_id=doc.get("organization_id"),
            server_url=doc["server"].get("url"),
            environment=doc.get("environment"),
            config_digest=doc["configuration"].get("digest"),
            config_files=list(doc["configuration"].get("files") or []),
            unchanged=list(doc.get("unchanged") or []),
            unmanaged=[RemoteRef(r["id"], r["name"]) for r in doc.get("unmanaged") or []],
            missing=[RemoteRef(r["id"], r["name"], r.get("key")) for r in doc.get("missing") or []],
            retired=[RemoteRef(r["id"], r["name"], r.get("key")) for r in doc.get("retired") or []],
            duplicates=[RemoteRef(r["id"], r["name"], r.get("key")) for r in doc.get("duplicates") or []],
            targeting=Targeting(tuple(targeting.get("target") or ()), tuple(targeting.get("exclude") or ())),
            left_out=int(targeting.get("left_out") or 0),
            seen=[
                Fingerprint(
                    id=f["id"],
                    key=f.get("key"),
                    name=f["name"],
                    modified_at=f.get("modified_at"),
                    digest=f["digest"],
                    archived=bool(f.get("archived")),
                )
                for f in doc["remote_meters"]
            ],
            live=review_from_document(doc.get("live")),
        )
        plan.actions = [_load_action(a) for a in doc["actions"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{source}: corrupt plan ({exc!r})") from None
    for index, action in enumerate(plan.actions):
        _check_action(plan, index, action, source)
    stored = doc.get("actions_digest")
    if stored is not None and stored != actions_digest(plan):
        raise UserError(
            f"{source}: its actions_digest is not that of its actions; refusing an edited plan: "
            "re-run plan"
        )
    return plan


def _lock(value: Any) -> LockState | None:
    if value is not None and value not in LOCK_STATES:
        raise ValueError(f"unknown lock state {value!r}")
    return value


def _load_action(a: dict[str, Any]) -> Action:
    if a["action"] not in ACTION_KINDS:
        raise ValueError(f"unknown action {a['action']!r}")
    req = a["request"]
    if req["method"] not in ("POST", "PATCH") or not isinstance(req["body"], dict):
        raise ValueError("bad request")
    if not isinstance(a["after"], dict) or not isinstance(a.get("before") or {}, dict):
        raise TypeError("before and after must be meter specs")
    return Action(
        kind=a["action"],
        key=a["key"],
        name=a["name"],
        meter_id=a.get("meter_id"),
        before=a.get("before"),
        after=a["after"],
        changes=[_load_change(c) for c in a.get("changes") or []],
        request=Request(req["method"], req["path"], req["body"]),
        location=_location(a.get("location")),
        note=a.get("note"),
        locked=a.get("locked"),
        lock=_lock(a.get("lock")),
        problem=a.get("problem"),
        caveat=a.get("caveat"),
        held_by=tuple(holder_from_document(h) for h in a.get("held_by") or ()),
    )


def _changes_data(changes: list[FieldChange]) -> list[dict[str, Any]]:
    return [_change(c) for c in changes]


def derived_request(plan: Plan, action: Action) -> Request:
    """The request the action's shown values make, as the planner makes it (one copy: its
    create_body/update_body). Raises ValueError for an action no plan can hold."""
    desired = DesiredMeter(action.key, action.after)
    if action.kind == "create":
        org = action.request.body.get("organization_id")
        if org is not None and org != plan.organization_id:
            raise ValueError(f"it creates the meter in organization {org!r}, not the plan's")
        return Request("POST", "/v1/meters/", create_body(desired, org))
    if not isinstance(action.meter_id, str) or not UUID.fullmatch(action.meter_id):
        raise ValueError(f"meter_id {action.meter_id!r} is not a Polar meter id")
    body = update_body(desired, action.changed_fields)
    return Request("PATCH", f"/v1/meters/{action.meter_id}", body)


def _expected_changes(action: Action) -> list[FieldChange]:
    if action.kind == "create":
        return []
    expected = diff_specs(action.before or {}, action.after)
    tag = [c for c in action.changes if c.path == f"metadata.{TAG_KEY}"]
    return expected + [FieldChange(c.path, c.before, action.key) for c in tag[:1]]


def _check_action(plan: Plan, index: int, action: Action, source: str) -> None:
    """Refuse an action whose request is not the one its shown values make."""
    where = f"{source}: action {index + 1} ({action.key!r})"
    path = action.request.path
    if not isinstance(path, str) or not path.startswith("/v1/") or "//" in path or ".." in path:
        raise UserError(
            f"{where}: request path {str(path)[:80]!r} is not a path under /v1/ of the "
            "configured server; refusing the plan"
        )
    try:
        if (action.kind == "create") != (action.before is None):
            raise ValueError("a create has no before, any other action has one")
        derived = derived_request(plan, action)
        if not same(_changes_data(action.changes), _changes_data(_expected_changes(action))):
            raise ValueError("its changes are not the difference of its before and after")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{where}: {exc}; refusing the plan: re-run plan") from None
    stored = action.request
    if (stored.method, stored.path) != (derived.method, derived.path) or not same(
        stored.body, derived.body
    ):
        fields = sorted(
            k for k in {**stored.body, **derived.body}
            if not same(stored.body.get(k), derived.body.get(k))
        )
        what = f"body field {', '.join(fields)}" if fields else f"{stored.method} {stored.path}"
        raise UserError(
            f"{where}: its stored request differs from what its before/after values show "
            f"({what}); refusing a plan that would not do what it displays: re-run plan"
        )


def disagreements(plan: Plan, remote: list[RemoteMeter]) -> list[str]:
    """Where the plan's shown `before` of a meter is not that meter as Polar has it now."""
    now = {m.id: m for m in remote}
    out = []
    for action in plan.actions:
        if action.meter_id is None:
            continue
        meter = now.get(action.meter_id)
        if meter is None or not same(meter.spec, action.before):
            out.append(f"{action.key!r}: the plan shows a meter {action.meter_id} that Polar "
                       "does not hold as shown")
    return out


def _read_bytes(path: str | Path) -> bytes:
    """The file's bytes, after checking it is a regular file of at most MAX_PLAN_BYTES
    (opened without blocking: a FIFO must not hang us)."""
    mib = MAX_PLAN_BYTES // (1024 * 1024)
    too_big = f"{path}: larger than {mib} MiB, not a plan file; refusing to read it"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{path}: not a regular file; a plan file is what `plan --out` wrote")
        if info.st_size > MAX_PLAN_BYTES:
            raise UserError(too_big)
        data = os.read(fd, MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_PLAN_BYTES:
        raise UserError(too_big)
    return data


def read(path: str | Path) -> Plan:
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: corrupt plan (not UTF-8)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: corrupt plan ({exc.msg})") from None
    return from_document(doc, str(path))
