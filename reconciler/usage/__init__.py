"""Offline evaluation: the matching/aggregation engine, events files, meter tests, previews."""
