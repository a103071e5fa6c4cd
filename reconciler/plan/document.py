"""The plan as a versioned JSON document: saved by `plan --out`, printed by
`plan --format json`, applied by `apply --plan`.

Compatibility: consumers ignore fields they do not know; the major part of
``format_version`` changes only when a change would break a consumer. The document holds
no token and no header: only what the plan is about.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import UserError
from reconciler.model import Location
from reconciler.plan.diff import ABSENT, FieldChange
from reconciler.plan.types import ACTION_KINDS, Action, Fingerprint, Plan, RemoteRef, Request
from reconciler.timestamps import json_timestamp

FORMAT_VERSION = "1.0"
FORMAT_MAJOR = 1


def _change(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": change.path}
    if change.before is not ABSENT:
        out["before"] = change.before
    if change.after is not ABSENT:
        out["after"] = change.after
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
        "problem": action.problem,
        "caveat": action.caveat,
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


def to_document(plan: Plan, created_at: datetime | None = None) -> dict[str, Any]:
    created = json_timestamp(created_at or datetime.now(UTC))
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "polar_meters_version": __version__,
        "created_at": created,
        "server": {"name": plan.server, "url": plan.server_url},
        "organization_id": plan.organization_id,
        "configuration": {"digest": plan.config_digest, "files": plan.config_files},
        "has_changes": plan.has_changes,
        "has_problems": bool(plan.problems),
        "summary": summary(plan),
        "actions": [_action(a) for a in plan.actions],
        "unchanged": plan.unchanged,
        "unmanaged": [{"id": r.id, "name": r.name} for r in plan.unmanaged],
        "missing": [{"id": r.id, "name": r.name, "key": r.key} for r in plan.missing],
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
    return FieldChange(data["path"], data.get("before", ABSENT), data.get("after", ABSENT))


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
        plan = Plan(
            server=doc["server"]["name"],
            organization_id=doc.get("organization_id"),
            server_url=doc["server"].get("url"),
            config_digest=doc["configuration"].get("digest"),
            config_files=list(doc["configuration"].get("files") or []),
            unchanged=list(doc.get("unchanged") or []),
            unmanaged=[RemoteRef(r["id"], r["name"]) for r in doc.get("unmanaged") or []],
            missing=[RemoteRef(r["id"], r["name"], r.get("key")) for r in doc.get("missing") or []],
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
        )
        for a in doc["actions"]:
            if a["action"] not in ACTION_KINDS:
                raise ValueError(f"unknown action {a['action']!r}")
            req = a["request"]
            if req["method"] not in ("POST", "PATCH") or not isinstance(req["body"], dict):
                raise ValueError("bad request")
            plan.actions.append(
                Action(
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
                    problem=a.get("problem"),
                    caveat=a.get("caveat"),
                )
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"{source}: corrupt plan ({exc!r})") from None
    return plan


def read(path: str | Path) -> Plan:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot read the plan file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: corrupt plan (not UTF-8)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: corrupt plan ({exc.msg})") from None
    return from_document(doc, str(path))
