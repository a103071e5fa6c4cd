"""The request bodies a plan sends: a create's whole meter, an update's changed fields."""

from __future__ import annotations

from typing import Any

from reconciler.model import TAG_KEY, DesiredMeter


def _metadata_body(key: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {**metadata, TAG_KEY: key}


def create_body(
    meter: DesiredMeter, organization_id: str | None = None
) -> dict[str, Any]:
    spec = meter.spec
    body: dict[str, Any] = {
        "name": spec["name"],
        "unit": spec["unit"],
        "filter": spec["filter"],
        "aggregation": spec["aggregation"],
        "metadata": _metadata_body(meter.key, spec["metadata"]),
    }
    if spec["custom_label"] is not None:
        body["custom_label"] = spec["custom_label"]
    if spec["custom_multiplier"] is not None:
        body["custom_multiplier"] = spec["custom_multiplier"]
    if organization_id:
        body["organization_id"] = organization_id
    return body


def update_body(meter: DesiredMeter, changed: set[str]) -> dict[str, Any]:
    """Only the fields that changed: Polar refuses filter/aggregation on a meter that has
    processed events even when they are unchanged, and metadata is replaced whole."""
    spec = meter.spec
    body: dict[str, Any] = {}
    for name in ("name", "unit", "custom_label", "custom_multiplier", "filter", "aggregation"):
        if name in changed:
            body[name] = spec[name]
    if "metadata" in changed:
        body["metadata"] = _metadata_body(meter.key, spec["metadata"])
    if "archived" in changed:
        body["is_archived"] = spec["archived"]
    return body
