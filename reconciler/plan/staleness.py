"""Is a saved plan still true? Compare what it saw with what Polar has now. Pure."""

from __future__ import annotations

from reconciler.model import RemoteMeter, content_digest
from reconciler.plan.types import Plan


def _label(key: str | None, name: str, meter_id: str) -> str:
    return f"{key!r} ({meter_id})" if key else f"{name!r} ({meter_id})"


def stale_reasons(plan: Plan, remote: list[RemoteMeter]) -> list[str]:
    """Why the plan no longer describes Polar's meters; empty when it still does."""
    reasons: list[str] = []
    now = {m.id: m for m in remote}
    for seen in plan.seen:
        m = now.get(seen.id)
        if m is None:
            reasons.append(f"meter {_label(seen.key, seen.name, seen.id)} disappeared")
        elif content_digest(m.raw) != seen.content_digest():
            reasons.append(
                f"meter {_label(seen.key, seen.name, seen.id)} changed "
                f"(modified_at {seen.modified_at} → {m.modified_at})"
            )
    known = {f.id for f in plan.seen}
    keys = {a.key for a in plan.actions} | set(plan.unchanged)
    created_names = {a.name for a in plan.actions if a.kind == "create"}
    for m in remote:
        if m.id in known:
            continue
        if m.key is not None and m.key in keys:
            reasons.append(f"a new meter {m.id} carries key {m.key!r}")
        elif m.key is None and not m.archived and m.spec["name"] in created_names:
            reasons.append(
                f"a new meter {m.id} is named {m.spec['name']!r}, like a meter the plan creates"
            )
    return reasons
