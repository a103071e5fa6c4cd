"""Several emulated organizations behind one server (`emulator --org NAME:UUID:TOKEN`).

Each organization is an Emulator of its own (its meters, events and tokens); a request goes
to the one that knows its bearer token, as on Polar, where a token belongs to one
organization. A request with no token or an unknown one goes to the first, which refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.emulator.core import Emulator, Unauthorized

ORG_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")


@dataclass(frozen=True)
class OrgSpec:
    """One `--org NAME:UUID:TOKEN`."""

    name: str
    organization_id: str
    token: str


def parse_org(text: str) -> OrgSpec:
    """`NAME:UUID:TOKEN`; a ValueError says what is wrong (never repeating the token)."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts):
        raise ValueError("--org takes NAME:UUID:TOKEN, e.g. sandbox:1dbfc517-…:polar_oat_…")
    name, organization_id, token = parts
    if not ORG_NAME.fullmatch(name):
        raise ValueError(
            f"--org {name}: a name is lowercase letters, digits, '-' and '_', starting with a letter"
        )
    return OrgSpec(name, organization_id, token)


class Organizations:
    """Emulators by name, in the order given; ``route`` picks the one a token belongs to."""

    def __init__(self, specs: list[OrgSpec], state_dir: Path | None = None, **options: Any) -> None:
        """OPTIONS: the Emulator's own (billing_interval, unstable_sort), for each."""
        names = [s.name for s in specs]
        for what, values in (("name", names), ("organization id", [s.organization_id for s in specs]),
                             ("token", [s.token for s in specs])):
            if len(set(values)) != len(values):
                raise ValueError(f"--org: each organization needs its own {what}")
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
        self.emulators = {
            s.name: Emulator(
                token=s.token, organization_id=s.organization_id,
                state_path=state_dir / f"{s.name}.json" if state_dir is not None else None,
                **options,
            )
            for s in specs
        }

    @property
    def first(self) -> Emulator:
        return next(iter(self.emulators.values()))

    def route(self, authorization: str | None) -> Emulator:
        """The organization whose token the Authorization header carries, else the first."""
        token = (authorization or "").partition(" ")[2].strip()
        for emulator in self.emulators.values():
            try:
                if token and emulator.principal(token) is not None:
                    return emulator
            except Unauthorized:
                continue
        return self.first
