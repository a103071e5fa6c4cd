"""`polar-meters quantities`: a meter's usage over time, from Polar's quantities."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
from collections.abc import Sequence

import click

from reconciler.cli.common import environment_config, target_from_context
from reconciler.cli.customermeters import customer_params, usage_options
from reconciler.cli.options import program_options
from reconciler.polar.identity import resolve_meter
from reconciler.polar.usage import meter_quantities
from reconciler.render.chart import bucket_label, chart_rows
from reconciler.render.numbers import number_text
from reconciler.render.style import Styler, is_terminal, use_color
from reconciler.rules import INTERVALS
from reconciler.timestamps import TimestampError, json_timestamp, parse_timestamp
from reconciler.usage.timerange import check_range, parse_moment, parse_zone


def _plain_number(value: object) -> object:
    """``6.0`` as ``6`` (as the text output shows it); other numbers as they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _one_format(timestamp: object) -> object:
    """A timestamp of Polar's answer in the JSON output's one format (``...Z``)."""
    try:
        return json_timestamp(parse_timestamp(timestamp))
    except TimestampError:
        return timestamp


def _csv(buckets: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "quantity"])
    for b in buckets:
        writer.writerow([_one_format(b["timestamp"]), _plain_number(b["quantity"])])
    return out.getvalue()


@click.command("quantities")
@click.argument("key")
@click.option("--start", required=True, metavar="DATE|TIME",
              help="First bucket: 2026-10-01 (that day's start in --timezone) or an ISO "
              "timestamp (2026-10-01T08:00:00Z).")
@click.option("--end", required=True, metavar="DATE|TIME",
              help="Last bucket: the bucket holding this moment is the last, whole.")
@click.option("--interval", type=click.Choice(INTERVALS), default="day", show_default=True,
              help="Bucket size (Polar's span limits: hour 7 days, day 366, week 371, "
              "month 1460, year 3650).")
@click.option("--timezone", "zone_name", default="UTC", show_default=True, metavar="TZ",
              help="IANA time zone of the buckets and of dates without an offset.")
@click.option("--chart/--no-chart", default=None,
              help="Bars of unicode blocks (default: on a terminal only).")
@usage_options
@program_options
@click.pass_context
def command(
    ctx: click.Context, key: str, start: str, end: str, interval: str, zone_name: str,
    customer_ids: Sequence[str], external_ids: Sequence[str], fmt: str, chart: bool | None,
    config_paths: Sequence[str],
) -> None:
    """Show the usage of the meter with KEY (its polar-meters key, or a meter id) over time:
    Polar's buckets from --start to --end, and the total."""
    zone = parse_zone(zone_name)
    first = parse_moment(start, zone, "--start")
    last = parse_moment(end, zone, "--end")
    check_range(first, last, interval)
    config = environment_config(ctx, config_paths) if config_paths else None
    target = target_from_context(ctx, config.organization_id if config else None)
    params = [("start_timestamp", first.isoformat()), ("end_timestamp", last.isoformat()),
              ("interval", interval), ("timezone", zone_name),
              *customer_params(customer_ids, external_ids)]
    with target.client() as client:
        meter = resolve_meter(client, key, config)
        data = meter_quantities(client, str(meter["id"]), params)
    buckets, total = data["quantities"], data["total"]
    if fmt == "json":
        document = {
            "meter": {"id": meter["id"], "key": key, "name": meter.get("name")},
            "start_timestamp": json_timestamp(first), "end_timestamp": json_timestamp(last),
            "interval": interval, "timezone": zone_name,
            "quantities": [{**b, "timestamp": _one_format(b["timestamp"])} for b in buckets],
            "total": total,
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        click.echo(_csv(buckets), nl=False)
        return
    s = Styler(use_color())
    title = f"{key} {json.dumps(meter.get('name'), ensure_ascii=False)} ({meter['id']})"
    span = f"{bucket_label(first.isoformat(), interval, zone)} → {bucket_label(last.isoformat(), interval, zone)}"
    click.echo(s(title, bold=True) + f" · {interval} · {span} · {zone_name}")
    points = [(bucket_label(b["timestamp"], interval, zone), b["quantity"]) for b in buckets]
    draw = is_terminal(sys.stdout) if chart is None else chart
    width = max(10, min(50, shutil.get_terminal_size().columns - 40))
    for row in chart_rows(points, draw, width, paint=lambda text: s(text, fg="cyan")):
        click.echo(row)
    click.echo(s(f"Total: {number_text(total)}", bold=True))
