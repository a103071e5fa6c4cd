"""`polar-meters customer-meters`: each customer's consumed and credited units, and balance."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click

from reconciler.cli.common import environment_config, target_from_context
from reconciler.cli.options import program_options
from reconciler.errors import PolarAPIError, UserError
from reconciler.model import TAG_KEY
from reconciler.polar.identity import resolve_meter
from reconciler.polar.usage import list_customer_meters
from reconciler.render.numbers import number_text
from reconciler.render.style import Styler, use_color

COLUMNS = ("customer", "meter", "consumed", "credited", "balance")


def customer_params(customer_ids: Sequence[str], external_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Polar's customer filters (each repeatable: any of them)."""
    return [("customer_id", c) for c in customer_ids] + [
        ("external_customer_id", e) for e in external_ids
    ]


def _customer(item: dict[str, Any]) -> str:
    customer = item.get("customer") or {}
    return str(customer.get("external_id") or customer.get("email") or item.get("customer_id"))


def _meter(item: dict[str, Any]) -> str:
    meter = item.get("meter") or {}
    return str((meter.get("metadata") or {}).get(TAG_KEY) or meter.get("name") or item.get("meter_id"))


def rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per customer meter, by customer then meter."""
    out = [
        {
            "customer": _customer(i), "customer_id": i.get("customer_id"), "meter": _meter(i),
            "meter_id": i.get("meter_id"), "consumed": i.get("consumed_units"),
            "credited": i.get("credited_units"), "balance": i.get("balance"),
        }
        for i in items
    ]
    return sorted(out, key=lambda r: (r["customer"], r["meter"]))


def table(found: list[dict[str, Any]], s: Styler) -> list[str]:
    cells = [[r["customer"], r["meter"], *(number_text(r[c]) for c in COLUMNS[2:])] for r in found]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(COLUMNS)]

    def line(values: Sequence[str]) -> str:
        left = [v.ljust(w) for v, w in zip(values[:2], widths[:2], strict=True)]
        right = [v.rjust(w) for v, w in zip(values[2:], widths[2:], strict=True)]
        return "  ".join(left + right).rstrip()

    return [s(line(COLUMNS), bold=True)] + [line(row) for row in cells]


def _csv(found: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    fields = ["customer", "customer_id", "meter", "meter_id", "consumed", "credited", "balance"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    return out.getvalue()


_USAGE_OPTIONS = [
    click.option("--customer-id", "customer_ids", multiple=True, metavar="UUID",
                 help="Only this customer (repeatable)."),
    click.option("--external-customer-id", "external_ids", multiple=True, metavar="ID",
                 help="Only this customer, by your own id (repeatable)."),
    click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
                 show_default=True, help="text for people, json or csv for programs."),
    click.option("-c", "--config", "config_paths", multiple=True, metavar="PATH",
                 help="Meter files: resolve KEY by its id: pin or name too, as plan does."),
]


def usage_options(f):  # type: ignore[no-untyped-def]
    """The options quantities and customer-meters share: customers, format, configuration."""
    for option in reversed(_USAGE_OPTIONS):
        f = option(f)
    return f


@click.command("customer-meters")
@click.argument("key", required=False)
@usage_options
@program_options
@click.pass_context
def command(
    ctx: click.Context, key: str | None, customer_ids: Sequence[str],
    external_ids: Sequence[str], fmt: str, config_paths: Sequence[str],
) -> None:
    """Each customer's consumed units, credited units and balance, per meter (all active
    meters, or the meter with KEY: its polar-meters key or a meter id). Reads every page."""
    config = environment_config(ctx, config_paths) if config_paths else None
    target = target_from_context(ctx, config.organization_id if config else None)
    params = customer_params(customer_ids, external_ids)
    with target.client() as client:
        if key:
            params.append(("meter_id", str(resolve_meter(client, key, config)["id"])))
        try:
            items = list_customer_meters(client, params)
        except PolarAPIError as exc:
            if exc.status == 403:
                raise UserError(
                    "the access token lacks the customer_meters:read scope (403): "
                    "customer-meters needs it"
                ) from None
            raise
    found = rows(items)
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(_csv(found), nl=False)
    elif not found:
        click.echo("No customer meters" + (f" for {key}." if key else "."))
    else:
        click.echo("\n".join(table(found, Styler(use_color()))))
        click.echo(f"{len(found)} customer meter{'' if len(found) == 1 else 's'}.")
