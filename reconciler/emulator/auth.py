"""Who calls the emulated Polar: its tokens, their scopes and Polar's checks of them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.emulator.refusals import Forbidden, Unauthorized

ALL_SCOPES = frozenset({
    "meters:read", "meters:write", "events:read", "events:write", "customer_meters:read",
    "products:read", "products:write", "benefits:read", "benefits:write",
})
READ_SCOPES = frozenset({"meters:read", "meters:write"})
WRITE_SCOPES = frozenset({"meters:write"})
ORGANIZATION_TOKEN_PREFIX = "polar_oat_"
PERSONAL_TOKEN_PREFIX = "polar_pat_"


@dataclass(frozen=True)
class Principal:
    """Who calls: a token and its scopes."""

    token: str
    scopes: frozenset[str]

    @property
    def personal(self) -> bool:
        return self.token.startswith(PERSONAL_TOKEN_PREFIX)


def check_token(token: str) -> str:
    """The token if it is one the emulator can hold; ValueError otherwise."""
    known_kind = token.startswith((ORGANIZATION_TOKEN_PREFIX, PERSONAL_TOKEN_PREFIX))
    if not known_kind or not token.isascii():
        raise ValueError(
            f"a token must start with {ORGANIZATION_TOKEN_PREFIX} (organization) or "
            f"{PERSONAL_TOKEN_PREFIX} (personal) and be ASCII"
        )
    return token


class Tokens:
    """The emulator's own token (every scope) and the extra ones tests add."""

    def __init__(self, own: str, extra: Mapping[str, Iterable[str]]) -> None:
        self.own = check_token(own)
        self._scopes = {token: frozenset(scopes) for token, scopes in extra.items()}
        self._scopes[self.own] = ALL_SCOPES

    def add(self, token: str, scopes: Iterable[str]) -> None:
        self._scopes[check_token(token)] = frozenset(scopes)

    def principal(self, token: str | None) -> Principal | None:
        """Who a bearer token is; None without one. An unknown token is refused at once."""
        if token is None:
            return None
        scopes = self._scopes.get(token)
        if scopes is None:
            raise Unauthorized("invalid_token")
        return Principal(token, scopes)

    def extra_to_state(self) -> dict[str, list[str]]:
        return {t: sorted(s) for t, s in self._scopes.items() if t != self.own}


def authorize(principal: Principal | None, scopes: frozenset[str]) -> Principal:
    """Polar's check: some caller, holding at least one of `scopes`."""
    if principal is None:
        raise Unauthorized("missing_token")
    if not principal.scopes & scopes:
        raise Forbidden(scopes)
    return principal
