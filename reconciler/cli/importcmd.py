"""`polar-meters import`: write YAML for meters that already exist in Polar. Never writes to Polar."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler import SCHEMA_URL
from reconciler.cli.common import target_from_context
from reconciler.cli.options import program_options
from reconciler.errors import UserError
from reconciler.files import write_text
from reconciler.pipeline import current_organization, parse_remote
from reconciler.render.meters_yaml import to_yaml

#: Where a repository keeps the schema its meter files' modelines point at.
PROJECT_SCHEMA = Path("schemas") / "meters.schema.json"


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
@program_options
@click.pass_context
def command(
    ctx: click.Context, out: str | None, force: bool, query: str | None, no_pins: bool,
    include_archived: bool,
) -> None:
    """Write the project's YAML for existing Polar meters: keys derived from names, `id:`
    pins, every field. The next plan adopts them (tags them); after that apply, no changes."""
    if out and Path(out).exists() and not force:
        raise UserError(f"{out} exists; pass --force to overwrite it")
    target = target_from_context(ctx, None)
    with target.client() as client:
        items = client.list_meters(query=query)
    meters = parse_remote(items)
    if not include_archived:
        meters = [m for m in meters if not m.archived]
    org = current_organization(target, meters) if target.organization_id else None
    text = to_yaml(meters, schema_ref(out), org, pins=not no_pins)
    if out:
        write_text(out, text, "meter file", make_parents=True)
        click.echo(f"Imported {len(meters)} meters into {out}.", err=True)
    else:
        click.echo(text, nl=False)
