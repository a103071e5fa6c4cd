"""polar-meters: Polar usage meters as code."""

__version__ = "0.1.0"
