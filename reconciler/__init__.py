"""polar-meters: Polar usage meters as code.

The version number lives here and only here: the package metadata (pyproject.toml reads it),
`--version`, the User-Agent, plan files and the GitHub Action all take it from
``__version__``.
"""

__version__ = "0.2.0"

#: Where the project is published. ``OWNER`` is a placeholder (README, "Install"): a fork
#: that publishes releases puts its GitHub owner here.
REPOSITORY = "OWNER/polar-meters"

#: The schema's ``$id``: the raw file of this release's tag, so a modeline that names it
#: works wherever a meter file is committed (``schemas/meters.schema.json`` must say the same).
SCHEMA_URL = (
    f"https://raw.githubusercontent.com/{REPOSITORY}/v{__version__}/schemas/meters.schema.json"
)
