"""The bad configurations in tests/bad_configs and where each is reported (file, line, col, message)."""

from __future__ import annotations

CASES: dict[str, tuple[int, int, str]] = {
    "malformed.yaml": (4, 1, "YAML error: while parsing a flow node"),
    "tab.yaml": (4, 1, "tab character: YAML indentation must use spaces"),
    "dup-top-key.yaml": (4, 1, "duplicate key 'meters' (first defined at line 3"),
    "dup-meter-field.yaml": (8, 5, "duplicate key 'name' (first defined at line 5"),
    "dup-clause-field.yaml": (6, 80, "duplicate key 'value'"),
    "dup-meter-key.yaml": (8, 3, "duplicate key 'm1' (first defined at line 4"),
    "wrong-type-name.yaml": (5, 5, "meters.m1.name: expected a string, not a list"),
    "wrong-type-clauses.yaml": (6, 32, "clauses: expected a list, not a mapping"),
    "unknown-field.yaml": (7, 5, "unknown field 'agregation' (did you mean 'aggregation'?)"),
    "value-yes.yaml": (6, 77, 'write true or false, or quote it ("yes")'),
    "value-float.yaml": (6, 77, 'write 1 or "1.0"'),
    "value-octal.yaml": (6, 77, "012 is an octal number"),
    "value-date.yaml": (6, 77, "read as a date by YAML 1.1: quote it"),
    "value-int32.yaml": (6, 77, "2147483648 is too large: at most 2147483647"),
    "value-inf.yaml": (8, 23, "write a finite number"),
    "unknown-operator.yaml": (6, 66, "operator: 'equals' is not one of eq, ne, gt"),
    "unknown-conjunction.yaml": (6, 27, "'xor' is not one of and, or"),
    "count-with-property.yaml": (7, 32, "count takes no property"),
    "sum-without-property.yaml": (7, 5, "need the property to aggregate"),
    "unknown-func.yaml": (7, 25, "'median' is not one of count, sum"),
    "custom-without-label.yaml": (4, 3, "unit custom needs a custom_label"),
    "label-with-scalar.yaml": (8, 5, "custom_label is only allowed with unit: custom"),
    "multiplier-zero.yaml": (10, 24, "must be greater than 0"),
    "multiplier-hex.yaml": (10, 24, "0x10 is a hexadecimal number"),
    "name-too-short.yaml": (5, 11, "'AB' is too short: at least 3 characters"),
    "missing-filter.yaml": (4, 3, "meters.m1: missing required field 'filter'"),
    "key-uppercase.yaml": (4, 3, "meters.Api-Calls: bad key: meter keys are lowercase"),
    "key-too-long.yaml": (4, 3, "key too long: 41 characters, at most 40"),
    "key-on.yaml": (9, 7, "mapping key 'on' is read as a boolean"),
    "metadata-51-keys.yaml": (8, 5, "more than 49 keys"),
    "metadata-value-too-long.yaml": (8, 22, "too long: 501 characters, at most 500"),
    "metadata-key-too-long.yaml": (8, 16, "key too long: 41 characters"),
    "reserved-tag.yaml": (8, 16, "polar_meters_key is reserved"),
    "order-operator-string.yaml": (6, 77, "gt compares numbers"),
    "bad-id.yaml": (8, 9, "meters.m1.id: expected a string"),
    "version-2.yaml": (2, 10, "version: must be 1"),
    "missing-version.yaml": (2, 1, "missing required field 'version'"),
    "top-level-list.yaml": (2, 1, "the top level must be a mapping"),
    "nul.yaml": (5, 16, "NUL character"),
    "non-utf8.yaml": (5, 14, "not valid UTF-8 (byte 0xe9)"),
    "empty.yaml": (1, 1, "the file is empty"),
    "comments-only.yaml": (1, 1, "the file is empty"),
    "alias-bomb.yaml": (3, 4, "alias bomb"),
    "deep-filter.yaml": (7, 881, "nested more than 64 levels deep"),
    "same-pin.yaml": (9, 3, "is already pinned by 'm1'"),
}

DIRECTORY_CASES: dict[str, tuple[str, int, int, str]] = {
    "dup-across-files": (
        "dup-across-files/b.yaml", 4, 3,
        "meters.m1: defined again (first at {BAD}/dup-across-files/a.yaml:4:3)",
    ),
    "org-conflict": (
        "org-conflict/b.yaml", 3, 18,
        "all files must name the same one",
    ),
}

ALL_CASES = {**{k: (k, *v) for k, v in CASES.items()}, **DIRECTORY_CASES}
