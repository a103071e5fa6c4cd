"""The emulator without a socket: an httpx transport that hands each request to `handle()`."""

from __future__ import annotations

import httpx

from reconciler.emulator.app import handle, split_target
from reconciler.emulator.bodies import length_refusal
from reconciler.emulator.core import Emulator
from reconciler.emulator.faults import exempt


def transport(emulator: Emulator) -> httpx.BaseTransport:
    """For `httpx.Client(base_url="http://polar-meters.local", transport=transport(emulator))`."""

    def respond(request: httpx.Request) -> httpx.Response:
        path, query = split_target(request.url.raw_path.decode("ascii"))
        lowered = {name.lower(): value for name, value in request.headers.items()}
        refusal = length_refusal(request.method, lowered, not exempt(path))
        answer = refusal or handle(
            emulator, request.method, path, query, request.headers, request.read()
        )
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    return httpx.MockTransport(respond)
