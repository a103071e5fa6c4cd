"""`polar-meters import`: write YAML for meters that already exist in Polar. Never writes to Polar."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler import SCHEMA_URL
from reconciler.cli.common import target_from_context
from reconciler.cli.options import program_options
from reconciler.config.pinmerge import merge_pins
from reconciler.errors import UserError
from reconciler.files import write_text
from reconciler.model import RemoteMeter
from reconciler.pipeline import current_organization, parse_remote
from reconciler.render.meters_yaml import to_yaml

#: Where a repository keeps the schema its meter files' modelines point at.
PROJECT_SCHEMA = Path("schemas") / "meters.schema.json"


def merge_into(out: str, env: str, meters: list[RemoteMeter]) -> None:
    """Write ``env``'s pins into the meter file ``out``; say what was and was not merged."""
    try:
        data = Path(out).read_bytes()
    except OSError as exc:
        raise UserError(f"{out}: cannot read: {exc.strerror}") from None
    merged = merge_pins(out, data, env, meters)
    write_text(out, merged.text, "meter file")
    keys = ", ".join(merged.pinned) or "none"
    click.echo(f"Merged {env}'s pins into {out}: {len(merged.pinned)} meters ({keys}).", err=True)
    if merged.unmatched:
        left = ", ".join(f"{m.spec['name']!r} ({m.id})" for m in merged.unmatched)
        click.echo(f"Not configured in {out}, left out: {left}; import them with --out ANOTHER.yaml.",
                   err=True)


def schema_ref(out: str | None) -> str:
    """Where the modeline of a file written to `out` (None: standard output, read as a file
    in the current directory) points: the repository's own `schemas/meters.schema.json`,
    relative to the file, when a directory from the file's up to the repository root (the
    first holding `.git`) has one; else the schema's https URL of this release. Never a path
    into the installed package: that works on one machine only."""
    base = (Path(out).absolute().parent if out else Path.cwd().absolute())
    for folder in (base, *base.parents):
        if (folder / PROJECT_SCHEMA).is_file():
            return Path(os.path.relpath(folder / PROJECT_SCHEMA, base)).as_posix()
        if (folder / ".git").exists():
            break
    return SCHEMA_URL


@click.command("import")
@click.option("--out", metavar="FILE", help="Write the YAML here (default: standard output).")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@click.option("--query", metavar="TEXT", help="Only meters whose name contains TEXT (as Polar matches).")
@click.option("--no-pins", is_flag=True, help="Write no `id:` pins: the next plan adopts each meter "
              "by its unique name (a pin is needed only until the next apply tags it).")
@click.option("--include-archived", is_flag=True, help="Also import archived meters (as archived: true).")
@click.option("--merge", is_flag=True,
              help="With --env and --out FILE (existing): add this environment's pins to the "
              "meters FILE configures (matched by tag, else name); nothing else in FILE changes.")
@program_options
@click.pass_context
def command(
    ctx: click.Context, out: str | None, force: bool, query: str | None, no_pins: bool,
    include_archived: bool, merge: bool,
) -> None:
    """Write the project's YAML for existing Polar meters: keys derived from names, `id:`
    pins, every field. The next plan adopts them (tags them); after that apply, no changes."""
    if out and Path(out).exists() and not force and not merge:
        raise UserError(f"{out} exists; pass --force to overwrite it, or --merge to add pins")
    target = target_from_context(ctx, None)
    if merge and (not out or target.environment is None or no_pins):
        raise UserError("--merge adds one environment's pins to a meter file: give --env NAME "
                        "and --out FILE (not --no-pins)")
    with target.client() as client:
        items = client.list_meters(query=query)
    meters = parse_remote(items)
    if not include_archived:
        meters = [m for m in meters if not m.archived]
    if merge and out:
        merge_into(out, str(target.environment), meters)
        return
    # with an environment, the project file names the organization: the meter file does not
    org = current_organization(target, meters) if target.organization_id and not target.environment else None
    text = to_yaml(meters, schema_ref(out), org, pins=not no_pins, environment=target.environment)
    if out:
        write_text(out, text, "meter file", make_parents=True)
        click.echo(f"Imported {len(meters)} meters into {out}.", err=True)
    else:
        click.echo(text, nl=False)
