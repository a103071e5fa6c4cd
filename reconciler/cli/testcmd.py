"""`polar-meters test`: run the meter tests written beside the meters, offline."""

from __future__ import annotations

import json
import sys

import click

from reconciler.cli.common import paths_argument, strict_option, valid_config
from reconciler.errors import UserError
from reconciler.render.diagnostics import plural
from reconciler.render.numbers import number_text
from reconciler.render.style import Styler, use_color
from reconciler.usage.metertest import MeterOutcome, MeterTestOutcome, run_test

EVENT_WIDTH = 120


def _event_line(raw: object) -> str:
    text = json.dumps(raw, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= EVENT_WIDTH else text[: EVENT_WIDTH - 1] + "…"


def _failure_lines(meter: MeterOutcome, s: Styler, most: int, total_events: int) -> list[str]:
    result, expected = meter.result, meter.expected
    out = []
    for what in meter.failed:
        actual = result.total if what == "total" else len(result.matched)
        out.append(
            s(f"  {meter.key}: {what} expected {number_text(expected[what])}, "
              f"got {number_text(actual)}", fg="red")
        )
    matched = result.matched
    if result.filter_only:
        prop = meter.spec["aggregation"].get("property")
        out.append(f"    {plural(result.filter_only, 'more event')} matched its filter without "
                   f"a number at {prop!r}: not the meter's")
    if not matched:
        out.append(f"    it matched none of the {total_events} events")
        return out
    out.append(f"    matched {len(matched)} of {total_events} events:")
    for sample in matched[:most]:
        out.append(f"      {sample.where}  {_event_line(sample.raw)}")
    if len(matched) > most:
        out.append(f"      … and {len(matched) - most} more")
    return out


def _report(outcome: MeterTestOutcome, s: Styler, most: int) -> list[str]:
    test = outcome.test
    events = plural(len(test.events), "event")
    source = "inline" if test.source == "inline" else f"from {test.source}"
    about = f"{plural(len(outcome.meters), 'meter')}, {events} {source}"
    if outcome.ok:
        return [s("PASS", fg="green", bold=True) + f" {test.name} ({about})"]
    lines = [s("FAIL", fg="red", bold=True) + f" {test.name} ({about}) at {test.location}"]
    for meter in outcome.meters:
        if meter.ok:
            lines.append(f"  {meter.key}: ok (total {number_text(meter.result.total)})")
        else:
            lines.extend(_failure_lines(meter, s, most, len(test.events)))
    return lines


@click.command("test")
@paths_argument
@click.option("-k", "--test", "names", multiple=True, metavar="NAME",
              help="Run only this test (repeatable).")
@click.option("--max-events", default=10, show_default=True, type=click.IntRange(min=0),
              metavar="N", help="On a failure, list at most N of the events a meter matched.")
@strict_option
def command(
    paths: tuple[str, ...], names: tuple[str, ...], max_events: int, strict: bool
) -> None:
    """Run the meter tests (`tests:`) of the files in PATHS (default meters/), offline.

    Each test's events go through the configured meters with Polar's matching and
    aggregation rules; every expected total and matched count must hold. Exit 1 on any
    failure (or configuration error), 0 when all pass. Never makes a network request.
    """
    config = valid_config(click.get_current_context(), paths, strict)
    tests = config.tests
    if names:
        known = {t.name for t in tests}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise UserError(f"no test named {unknown[0]!r} in {plural(len(config.files), 'file')}")
        tests = [t for t in tests if t.name in names]
    if not tests:
        click.echo(f"No tests in {plural(len(config.files), 'file')}.")
        return
    specs = {m.key: m.spec for m in config.meters}
    s = Styler(use_color())
    failed = 0
    for test in tests:
        outcome = run_test(test, specs)
        failed += not outcome.ok
        click.echo("\n".join(_report(outcome, s, max_events)))
        for meter in outcome.meters:
            for line in meter.result.warnings(meter.key):
                click.echo(s("warning:", fg="yellow") + f" {line}", err=True)
    if failed:
        click.echo(s(f"{failed} of {plural(len(tests), 'test')} failed.", fg="red", bold=True))
        sys.exit(1)
    click.echo(s(f"{plural(len(tests), 'test')} passed.", fg="green", bold=True))
