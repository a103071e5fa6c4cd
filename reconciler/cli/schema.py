"""`polar-meters schema`: print the JSON Schema of meter files (or of the project file)."""

from __future__ import annotations

import click

from reconciler.config.project import project_schema_text
from reconciler.config.schema import schema_text


@click.command("schema")
@click.option("--project", "project", is_flag=True,
              help="The schema of the project file, polar-meters.yaml, instead.")
def command(project: bool) -> None:
    """Print the JSON Schema (draft-07) of meter files, e.g. for editors or CI."""
    click.echo(project_schema_text() if project else schema_text(), nl=False)
