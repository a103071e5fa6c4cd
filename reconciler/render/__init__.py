"""Stage 5a: every output format (text, json, markdown, github), previews, charts, progress."""
