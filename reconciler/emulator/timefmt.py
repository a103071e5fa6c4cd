"""Times the way Polar's answers write them (pydantic's JSON of a UTC datetime)."""

from reconciler.timestamps import json_timestamp as timestamp

__all__ = ["timestamp"]
