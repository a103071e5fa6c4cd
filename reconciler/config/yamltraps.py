"""The YAML 1.1 traps: which scalars and keys are refused, and how each refusal is worded.

PyYAML implements YAML 1.1, where many plain scalars silently become something else than what
was written. A misread value in a meter is a wrong invoice, so the rule here is:

- **Booleans**: a plain scalar is a boolean only when spelled ``true`` or ``false`` (also
  ``True``/``TRUE``/``False``/``FALSE``). ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` in any
  case, and odd casings such as ``tRue`` (text to YAML, surely not meant), are errors: write
  true/false, or quote the text.
- **Integers** only in plain decimal form (``42``, ``-7``). Octal (``012``, ``0o12``), hex
  (``0x1F``), binary (``0b101``), digit separators (``1_000``) and base 60 (``1:30``) are errors:
  write the number in decimal, or quote it.
- **Floats** only in plain decimal form (``1.5``, ``2.0e+3``); ``.inf``/``.nan`` are errors, and so
  is text that reads as a number in other YAML versions but as a string in YAML 1.1 (``1e3``).
- **Dates and timestamps** (``2024-01-01``) are errors: quote them.
- **Mapping keys** must be strings: a plain key that resolves to anything else (``on:``, ``1:``,
  ``~:``) is an error asking to quote it.
- NUL is refused in any string; other tags (``!!binary``, ``!custom``) are refused.

Both readers use these rules and nothing else: the general one (:mod:`yamlbuild`, over
libyaml's nodes) and the fast one (:mod:`yamlsimple`), which gives up on any scalar refused
here so that the general one words it.
"""

from __future__ import annotations

import re
from typing import Any

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE, TIMESTAMP = (_TAG + t for t in ("map", "seq", "merge", "timestamp"))

_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DECIMAL_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][-+]?[0-9]+)?")
# Plain text that YAML 1.1 keeps as a string but other readers (YAML 1.2) take as a number.
_NUMBER_LIKE = re.compile(
    r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?0o[0-7]+|[-+]?\.(?:inf|nan)",
    re.IGNORECASE,
)


KINDS = {BOOL: "a boolean", INT: "an integer", FLOAT: "a number", NULL: "null",
          TIMESTAMP: "a date"}


def plain_value(tag: str, text: str) -> Any:
    """An accepted plain scalar's value; ValueError (with the problem) if it is refused."""
    value, message = scalar_value(tag, text, True)
    if message:
        raise ValueError(message)
    return value


def scalar_value(tag: str, text: str, plain: bool) -> tuple[Any, str | None]:
    """The value of a scalar resolved to ``tag`` (``plain``: written without quotes or block
    style), and why it is refused (None when it is accepted)."""
    if tag == STR:
        if "\0" in text:
            return text, "NUL character not allowed (Polar rejects strings holding NUL)"
        if not plain:
            return text, None
        lowered = text.lower()
        if lowered in _YAML11_BOOLS or lowered in ("true", "false"):
            return text, _bool_message(text)
        if _NUMBER_LIKE.fullmatch(text):
            return text, (
                f"{text} is read as text by YAML 1.1 but as a number elsewhere: write the "
                f'number in plain decimal form, or quote it ("{text}") if text is meant'
            )
        return text, None
    if tag == BOOL:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true", None
        return lowered in ("yes", "on", "y"), _bool_message(text)
    if tag == INT:
        return _integer(text)
    if tag == FLOAT:
        return _float(text)
    if tag == NULL:
        return None, None
    if tag == TIMESTAMP:
        return text, f'{text} is read as a date by YAML 1.1: quote it ("{text}")'
    return text, f"unsupported YAML tag {tag}: quote the value if text is meant"


def _bool_message(text: str) -> str:
    return (
        f"{text} is ambiguous (a boolean to some YAML readers, text to others): write true "
        f'or false, or quote it ("{text}") if text is meant'
    )


def _integer(text: str) -> tuple[Any, str | None]:
    if _DECIMAL_INT.fullmatch(text):
        if len(text) > 100:
            return text, f"{text[:20]}… is too large a number"
        return int(text), None
    digits = text.lstrip("+-").lower()
    if "_" in digits:
        kind = "a number with digit separators"
    elif ":" in digits:
        kind = "a base-60 number"
    elif digits.startswith("0x"):
        kind = "a hexadecimal number"
    elif digits.startswith("0b"):
        kind = "a binary number"
    else:
        kind = "an octal number"
    return text, (
        f"{text} is {kind} in YAML 1.1: write the integer in plain decimal, or quote it "
        f'("{text}") if text is meant'
    )


def _float(text: str) -> tuple[Any, str | None]:
    if _DECIMAL_FLOAT.fullmatch(text):
        value = float(text)
        if value not in (float("inf"), float("-inf")):
            return value, None
        return text, f"{text} is too large a number"
    if text.lstrip("+-").lower() in (".inf", ".nan"):
        return text, f"{text} (infinity or not-a-number) is not accepted: write a finite number"
    return text, (
        f"{text} is not a plain decimal number (YAML 1.1 reads digit separators and base 60): "
        f'write it in plain decimal, or quote it ("{text}") if text is meant'
    )


def key_problem(tag: str, text: str) -> str | None:
    """Why a scalar key resolved to ``tag`` is refused (None: it is a string, accepted)."""
    if tag == STR:
        return None
    kind = KINDS.get(tag, tag)
    return (
        f"mapping key {text!r} is read as {kind} by YAML 1.1: keys must be "
        f'strings, quote it ("{text}")'
    )
