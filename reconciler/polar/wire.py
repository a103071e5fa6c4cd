"""What polar-meters sends and accepts on the wire, whatever the server does.

A broken or hostile server must not hang a run, exhaust its memory or get the token sent
elsewhere:
- every request goes to a path under ``/v1/`` of the one configured server (no URL, no
  ``..``): a tampered plan file cannot send the token to another host;
- every request, its retries included, ends within a deadline (``POLAR_METERS_TIMEOUT``,
  seconds; time spent waiting for Polar's rate limit does not count);
- an answer is read up to ``MAX_ANSWER_BYTES`` once decompressed (gzip is decoded here, a
  bounded amount at a time, so a gzip bomb costs no more memory than a big answer);
- JSON nested deeper than the parser goes is a one-line error, not a RecursionError;
- the token is one line of printable ASCII, or it is refused without being quoted.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import time
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import PolarAPIError, UserError

#: Seconds a request may take in all (connect, send, every read, retries).
TIMEOUT_ENV = "POLAR_METERS_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
#: A page of 100 meters is ~64 KiB; Polar's largest answers stay far below this.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: Only gzip is asked for: it is decoded here within MAX_ANSWER_BYTES.
ACCEPT_ENCODING = "gzip"

_PATH = re.compile(r"/v1/[A-Za-z0-9._~/-]*")
_TOKEN_ENV = "POLAR_ACCESS_TOKEN"


class TooSlow(PolarAPIError):
    """The answer did not arrive in full within the request's deadline."""


def timeout_from_env(environ: Mapping[str, str] = os.environ) -> float:
    text = environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise UserError(f"{TIMEOUT_ENV}={text!r}: expected seconds, more than 0 and at most 3600")
    return seconds


def check_path(method: str, path: str) -> None:
    """Refuse anything but a path under /v1/ of the configured server."""
    segments = path.split("/")
    if not _PATH.fullmatch(path) or "//" in path or "." in segments or ".." in segments:
        shown = path if len(path) <= 80 else path[:77] + "..."
        raise PolarAPIError(
            f"refusing to send {method} {shown!r}: not a path under /v1/ of the configured "
            "server (is the plan file tampered with?)"
        )


def clean_token(token: str) -> str:
    """The token without surrounding whitespace; refused, never quoted, when it holds a
    control or non-ASCII character (it goes into an HTTP header as it is)."""
    token = token.strip()
    for char in token:
        if not " " < char < "\x7f":
            kind = ("a space" if char == " " else "a non-ASCII character" if ord(char) > 0x7E
                    else "a control character (a line break, a tab…)")
            raise UserError(
                f"the access token holds {kind}: set {_TOKEN_ENV} to the token alone, as Polar "
                "shows it (polar_oat_… or polar_pat_…)"
            )
    return token


def refused(exc: BaseException) -> bool:
    """Whether nothing listened where the request went (ECONNREFUSED, however wrapped)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_warning(base_url: str) -> str | None:
    """The warning due before a token is sent over http:// to a host that is not this one."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or is_loopback(parts.hostname or ""):
        return None
    return (
        f"Warning: the access token will be sent over plain http:// to {parts.hostname}, where "
        "anyone on the way can read it: use https://"
    )


def read_body(response: httpx.Response, deadline: float, what: str) -> bytes:
    """The whole (decoded) body of a streamed answer, within MAX_ANSWER_BYTES and the
    deadline; PolarAPIError saying which limit was hit."""
    if response.is_stream_consumed:  # an in-memory answer (the in-process emulator)
        if len(response.content) > MAX_ANSWER_BYTES:
            raise _too_big(what)
        return response.content
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip"):
        raise PolarAPIError(f"{what}: Polar's answer is encoded as {encoding[:40]!r}, not gzip")
    decoder = zlib.decompressobj(wbits=47) if "gzip" in encoding else None  # 47: gzip or zlib
    length = response.headers.get("content-length", "")
    if decoder is None and length.isdigit() and int(length) > MAX_ANSWER_BYTES:
        raise _too_big(what)
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():
            if decoder is not None:
                chunk = decoder.decompress(chunk, MAX_ANSWER_BYTES + 1 - size)
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise _too_big(what)
            parts.append(chunk)
            if time.monotonic() > deadline:
                raise TooSlow(f"{what}: the answer did not arrive in full in time")
    except zlib.error:
        raise PolarAPIError(f"{what}: Polar's answer is not valid gzip") from None
    return b"".join(parts)


def _too_big(what: str) -> PolarAPIError:
    return PolarAPIError(
        f"{what}: Polar's answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB, "
        "more than any of its answers: is --server a Polar API?"
    )


def buffered(response: httpx.Response, body: bytes) -> httpx.Response:
    """The answer again, its body read and decoded: an ordinary response to read as JSON."""
    skip = (b"content-encoding", b"content-length", b"transfer-encoding")
    headers = [(k, v) for k, v in response.headers.raw if k.lower() not in skip]
    extensions = {k: v for k, v in response.extensions.items() if k == "reason_phrase"}
    copy = httpx.Response(response.status_code, headers=headers, content=body,
                          request=response.request, extensions=extensions)
    copy.read()  # in memory already: marks it read
    return copy


def parse_json(response: httpx.Response, what: str) -> Any:
    """Polar's JSON answer; ValueError when it is not JSON, PolarAPIError when it nests
    deeper than any answer of Polar's (the parser would run out of stack)."""
    try:
        return json.loads(response.content)
    except RecursionError:
        raise PolarAPIError(
            f"{what}: Polar's answer is nested deeper than any of its answers"
        ) from None
