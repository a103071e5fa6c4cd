"""Polar's meters API over httpx: list every meter, create, update, get.

Every failure becomes a PolarAPIError whose message is one readable line built from Polar's
own answer. The access token is only ever placed in the Authorization header.
"""

from __future__ import annotations

from typing import Any

import httpx

from reconciler import __version__
from reconciler.errors import PolarAPIError

API_VERSION = "2026-10"
PAGE_LIMIT = 100
USER_AGENT = f"polar-meters/{__version__} (+https://github.com/polar-meters; httpx)"


class PolarClient:
    """A thin, synchronous client for the meter endpoints polar-meters needs."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        organization_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.organization_id = organization_id
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Polar-Version": API_VERSION,
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PolarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise PolarAPIError(f"{method} {path}: Polar did not answer in time") from None
        except httpx.HTTPError as exc:
            raise PolarAPIError(f"{method} {path}: cannot reach Polar ({_one_line(exc)})") from None
        if response.status_code >= 400:
            raise PolarAPIError(
                f"{method} {path}: {describe_error(response)}",
                status=response.status_code,
                body=_json_or_none(response),
            )
        try:
            return response.json()
        except ValueError:
            raise PolarAPIError(
                f"{method} {path}: Polar answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from None

    def list_page(self, page: int, limit: int = PAGE_LIMIT, query: str | None = None) -> dict[str, Any]:
        params: list[tuple[str, str | int]] = [
            ("page", page),
            ("limit", limit),
            ("sorting", "created_at"),
        ]
        if query:
            params.append(("query", query))
        if self.organization_id:
            params.append(("organization_id", self.organization_id))
        data = self._request("GET", "/v1/meters/", params=params)
        if not (
            isinstance(data, dict)
            and isinstance(data.get("items"), list)
            and isinstance(data.get("pagination"), dict)
            and isinstance(data["pagination"].get("total_count"), int)
            and isinstance(data["pagination"].get("max_page"), int)
        ):
            raise PolarAPIError("GET /v1/meters/: Polar's answer is not a list of meters")
        return data

    def list_meters(self, attempts: int = 3, query: str | None = None) -> list[dict[str, Any]]:
        """Every meter (archived included), each once, checked against ``total_count``.

        Polar's sort has no tie-breaker, so pages can shift while meters are created: the
        listing is deduplicated by id and, when the count does not add up, read again.
        """
        for _ in range(attempts):
            seen: dict[str, dict[str, Any]] = {}
            first = self.list_page(1, query=query)
            total = first["pagination"]["total_count"]
            max_page = first["pagination"]["max_page"]
            pages = [first] + [self.list_page(p, query=query) for p in range(2, max_page + 1)]
            for page in pages:
                for item in page["items"]:
                    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                        raise PolarAPIError("GET /v1/meters/: Polar answered a meter without an id")
                    seen.setdefault(item["id"], item)
            if len(seen) == total:
                return list(seen.values())
        raise PolarAPIError(
            f"the meters changed while they were being read ({len(seen)} read, Polar counts "
            f"{total}); run the command again"
        )

    def meter_has_events(self, meter_id: str) -> bool | None:
        """Whether any event matches the meter (then Polar has locked its filter and
        aggregation); None when the token cannot read events."""
        try:
            data = self._request("GET", "/v1/events/", params={"meter_id": meter_id, "limit": 1})
        except PolarAPIError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise
        try:
            return int(data["pagination"]["total_count"]) > 0
        except (KeyError, TypeError, ValueError):
            raise PolarAPIError("GET /v1/events/: Polar's answer is not a list of events") from None

    def get_meter(self, meter_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/meters/{meter_id}")

    def create_meter(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/meters/", json=body)

    def update_meter(self, meter_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", f"/v1/meters/{meter_id}", json=body)

    def send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """Send one planned request as it is written in the plan."""
        return self._request(method, path, json=body)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _format_loc(loc: Any) -> str:
    if not isinstance(loc, list):
        return ""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def describe_error(response: httpx.Response) -> str:
    """One line from Polar's error answer, whatever its shape."""
    status = response.status_code
    body = _json_or_none(response)
    if status == 422 and isinstance(body, dict) and isinstance(body.get("detail"), list):
        items = []
        for item in body["detail"]:
            if isinstance(item, dict):
                where = _format_loc(item.get("loc"))
                msg = _one_line(item.get("msg", ""))
                items.append(f"{where}: {msg}" if where else msg)
        return "Polar rejected the request (422): " + "; ".join(items)
    if status == 401:
        detail = ""
        if isinstance(body, dict):
            detail = body.get("error_description") or body.get("detail") or body.get("error") or ""
        return (
            f"Polar refused the access token (401{': ' + _one_line(detail) if detail else ''}); "
            "check POLAR_ACCESS_TOKEN and --server"
        )
    if status == 403:
        detail = body.get("error_description", "") if isinstance(body, dict) else ""
        return (
            f"the access token lacks a scope (403: {_one_line(detail)}); "
            "polar-meters needs meters:read and, to apply, meters:write"
        )
    if status == 404:
        if isinstance(body, dict) and body.get("error") == "ResourceNotFound":
            return "not found (404): no such meter in this organization"
        return "not found (404): is --server a Polar API?"
    if status == 429:
        return f"rate limited by Polar (429), retry after {response.headers.get('retry-after', '?')}s"
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error")
        if isinstance(detail, str):
            return f"Polar answered {status}: {_one_line(detail)}"
    reason = response.reason_phrase or ""
    return f"Polar answered {status} {reason}".rstrip()

