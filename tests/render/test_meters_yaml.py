"""reconciler/render/meters_yaml.py: the YAML import writes."""

from __future__ import annotations

from reconciler.render.meters_yaml import derive_key


def test_import_keys_transliterate() -> None:
    assert derive_key("Ünïcode meter — café", set()) == "unicode-meter-cafe"
    assert derive_key("Größe (GB)", set()) == "grosse-gb"
    assert derive_key("日本", set()) == "meter"
    assert derive_key("Café", {"cafe"}) == "cafe-2"
