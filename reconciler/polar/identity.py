"""Which remote meter a key names, for the read-only usage commands (quantities,
customer-meters). The same identity rules as planning, read straight from Polar:

1. the meter tagged with the key (metadata ``polar_meters_key``);
2. with a configuration: the meter its ``id:`` pins, else exactly one untagged, active meter
   with the configured name;
3. a meter id (a UUID) given instead of a key.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.types import Config
from reconciler.errors import UserError
from reconciler.model import TAG_KEY
from reconciler.polar.client import PolarClient

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}")


def resolve_meter(client: PolarClient, key: str, config: Config | None = None) -> dict[str, Any]:
    """Polar's meter (as it answers) for ``key``; a UserError saying why when none or several."""
    tagged = client.find_by_key(key)
    if len(tagged) > 1:
        ids = ", ".join(sorted(str(m["id"]) for m in tagged))
        raise UserError(f"{len(tagged)} meters are tagged with key {key!r} ({ids}): give the meter id")
    if tagged:
        return tagged[0]
    desired = next((m for m in config.meters if m.key == key), None) if config else None
    if desired is not None and desired.id:
        return client.get_meter(desired.id)
    if desired is not None:
        name = desired.spec["name"]
        same = [
            m for m in client.list_meters(query=name)
            if m.get("name") == name and m.get("archived_at") is None
            and TAG_KEY not in (m.get("metadata") or {})
        ]
        if len(same) == 1:
            return same[0]
        if same:
            ids = ", ".join(sorted(str(m["id"]) for m in same))
            raise UserError(f"several untagged meters are named {name!r} ({ids}): give the meter id")
    if UUID.fullmatch(key):
        return client.get_meter(key.lower())
    where = " nor in the configuration" if config is not None else ""
    raise UserError(
        f"no meter is tagged with key {key!r}{where}: apply the configuration first, pass the "
        "meter files with --config, or give the meter's id"
    )
