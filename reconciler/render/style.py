"""Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""

from __future__ import annotations

import os
import sys
from typing import IO

import click


def use_color(stream: IO[str] | None = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Styler:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, **style: object) -> str:
        return click.style(text, **style) if self.color else text  # type: ignore[arg-type]
