"""`polar-meters schema`: print the JSON Schema of meter files."""

from __future__ import annotations

import click

from reconciler.config.schema import schema_text


@click.command("schema")
def command() -> None:
    """Print the JSON Schema (draft-07) of meter files, e.g. for editors or CI."""
    click.echo(schema_text(), nl=False)
