"""Where polar-meters talks to: production, sandbox, the in-process emulator, or a URL.

Resolving a target also settles which organization is meant and how it is sent: personal
tokens name it in every request, organization tokens already carry it.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from reconciler.errors import UserError
from reconciler.polar.client import DebugLog, PolarClient
from reconciler.polar.ratelimit import RateLimiter
from reconciler.polar.wire import clean_token, plain_http_warning
from reconciler.render.progress import StatusLine
from reconciler.rules import RATE_LIMITS

SERVERS = {
    "production": "https://api.polar.sh",
    "sandbox": "https://sandbox-api.polar.sh",
}
#: Polar's request limits per minute and token; other servers are not paced by default.
DEFAULT_PARALLELISM = 4
LOCAL_STATE = Path(".polar-meters") / "local.json"
LOCAL_BASE_URL = "http://polar-meters.local"


#: Target.organization_source when the meter files' organization_id named it
FROM_CONFIGURATION = "the configuration's organization_id"


@dataclass
class Target:
    """A resolved server: what to call it in output, and how to reach it."""

    name: str  # production | sandbox | local | the URL
    base_url: str
    token: str
    organization_id: str | None  # sent with requests (personal tokens only)
    expected_organization_id: str | None  # checked against what Polar answers
    transport: httpx.BaseTransport | None = None
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    parallelism: int = DEFAULT_PARALLELISM
    debug: DebugLog | None = None
    notice: Callable[[str], None] | None = None  # retries shown on one line of a terminal
    environment: str | None = None  # the project file's environment, when one was chosen
    #: who named expected_organization_id, for the error when Polar's meters are another's
    organization_source: str = FROM_CONFIGURATION

    def client(self) -> PolarClient:
        """A client sharing this run's rate limiter: a 429 slows every request down."""
        return PolarClient(
            self.base_url,
            self.token,
            organization_id=self.organization_id,
            transport=self.transport,
            limiter=self.limiter,
            parallelism=self.parallelism,
            debug=self.debug,
            notice=self.notice,
        )

    def tune(
        self, rate_limit: int | None, parallelism: int | None, debug: DebugLog | None
    ) -> Target:
        per_minute = rate_limit if rate_limit is not None else RATE_LIMITS.get(self.name)
        self.limiter = RateLimiter(per_minute or None)
        self.parallelism = parallelism or DEFAULT_PARALLELISM
        self.debug = debug
        self.notice = None if debug else StatusLine()
        return self


def _local_target(config_org: str | None, state: Path = LOCAL_STATE) -> Target:
    from reconciler.emulator.core import Emulator
    from reconciler.emulator.inprocess import transport

    state.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(organization_id=config_org, state_path=state)
    return Target(
        name="local",
        base_url=LOCAL_BASE_URL,
        token=emulator.token,
        organization_id=None,
        expected_organization_id=emulator.organization_id,
        transport=transport(emulator),
        organization_source="the emulator's state",
    )


def check_organization_id(value: str | None, where: str) -> str | None:
    """A UUID, as Polar names organizations, or a local error (not Polar's raw 422)."""
    if value is None:
        return None
    text = value.strip()
    try:
        uuid.UUID(text)
    except ValueError:
        shown = "a value that looks like a token" if text.startswith("polar_") else repr(
            text[:40])
        raise UserError(
            f"{where} is {shown}, not an organization id (a UUID such as "
            "1dbfc517-0bbf-4301-9ba8-555ca42b9737, shown in Polar's organization settings)"
        ) from None
    return text


def resolve_target(
    server: str | None,
    token: str | None,
    organization_id: str | None,
    config_organization_id: str | None = None,
    local_state: Path = LOCAL_STATE,
) -> Target:
    """Turn the --server/--token/--organization-id options into a Target, or explain why not."""
    server = (server or "production").strip()
    organization_id = check_organization_id(
        organization_id, "--organization-id (POLAR_ORGANIZATION_ID)")
    config_organization_id = check_organization_id(
        config_organization_id, "the configuration's organization_id")
    if organization_id and config_organization_id and organization_id != config_organization_id:
        raise UserError(
            f"--organization-id {organization_id} differs from the configuration's "
            f"organization_id {config_organization_id}: which one is meant?"
        )
    if server == "local":
        return _local_target(organization_id or config_organization_id, local_state)
    if server in SERVERS:
        base_url = SERVERS[server]
    elif server.startswith(("http://", "https://")):
        base_url = server.rstrip("/")
    else:
        raise UserError(
            f"unknown server {server!r}: use production, sandbox, local or an http(s):// URL"
        )
    token = clean_token(token or "")
    if not token:
        raise UserError(
            "no access token: set POLAR_ACCESS_TOKEN, "
            "or try everything offline with --server local"
        )
    warning = plain_http_warning(base_url)
    if warning:
        print(warning, file=sys.stderr)
    org = organization_id or config_organization_id
    source = "--organization-id (POLAR_ORGANIZATION_ID)" if organization_id else FROM_CONFIGURATION
    if token.startswith("polar_oat_"):
        # the token names its organization: a given one is checked against what Polar
        # answers (as the configuration's is), never sent
        return Target(server, base_url, token, None, org, organization_source=source)
    if token.startswith("polar_pat_") and not org:
        raise UserError(
            "a personal token (polar_pat_…) needs an organization: pass --organization-id, set "
            "POLAR_ORGANIZATION_ID, or put organization_id in the configuration"
        )
    return Target(server, base_url, token, org, org, organization_source=source)
