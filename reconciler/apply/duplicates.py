"""Never duplicate, even when two runs overlap (issue 15).

polar-meters holds no lock, so two applies of the same configuration may both create a key.
Two defences: right before each create, the key is looked up again by tag
(:func:`created_meanwhile`); after the creates, the keys created are listed again and where
another run created the same key, the oldest meter stays and every later copy is archived
and untagged (:func:`resolve_concurrent_creates`). Both runs pick the same meter to keep
(polar/identity.py's rule), so whichever checks last finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.errors import PolarAPIError
from reconciler.model import TAG_KEY, RemoteMeter, remote_from_api
from reconciler.polar.client import PolarClient
from reconciler.polar.identity import oldest_active


def _tagged(client: PolarClient, key: str) -> list[RemoteMeter]:
    meters = []
    for item in client.find_by_key(key):
        try:
            meters.append(remote_from_api(item))
        except ValueError:
            continue  # a meter polar-meters cannot read is not one it created
    return meters


def created_meanwhile(client: PolarClient, key: str) -> dict[str, Any] | None:
    """The active meter tagged KEY, if another run created it since the plan was made. A
    failed lookup does not stop the create: the check after the creates still holds."""
    try:
        active = [m for m in _tagged(client, key) if not m.archived]
    except PolarAPIError:
        return None
    return oldest_active(active).raw if active else None


def _untag_later_copies(client: PolarClient, key: str) -> list[str]:
    tagged = [m for m in _tagged(client, key) if not m.archived]
    if len(tagged) < 2:
        return []
    keep = oldest_active(tagged)
    notes = []
    for copy in tagged:
        if copy is keep:
            continue
        metadata = {k: v for k, v in (copy.raw.get("metadata") or {}).items() if k != TAG_KEY}
        try:
            client.send("PATCH", f"/v1/meters/{copy.id}", {"is_archived": True, "metadata": metadata})
        except PolarAPIError as exc:
            notes.append(f"{key}: a concurrent run created it too; could not archive the later "
                         f"copy {copy.id} ({exc}): `apply --resolve-duplicates` will")
            continue
        notes.append(f"{key}: a concurrent run created it too; archived the later copy {copy.id} "
                     f"(kept {keep.id})")
    return notes


def resolve_concurrent_creates(client: PolarClient, keys: Sequence[str]) -> list[str]:
    """Look each created key up again; archive and untag the later copies. One note each."""
    if not keys:
        return []
    with ThreadPoolExecutor(client.parallelism) as pool:
        found = list(pool.map(lambda key: _safely(client, key), keys))
    return [note for notes in found for note in notes]


def _safely(client: PolarClient, key: str) -> list[str]:
    try:
        return _untag_later_copies(client, key)
    except PolarAPIError as exc:
        return [f"{key}: could not check for a concurrent run's copy ({exc}); the next plan will show any"]
