"""Reading Polar's answers: an error as one line, a redirect named, a page of a listing
checked before anything is read page by page."""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.errors import PolarAPIError
from reconciler.polar.wire import parse_json

#: Far more meters than any organization holds: a listing that counts more is not Polar's
#: (a total_count of 10^9 would otherwise mean 10^7 requests).
MAX_LISTED = 100_000
#: Customer meters are one per customer and meter: more of them.
MAX_LISTED_CUSTOMER_METERS = 1_000_000


def check_pages(what: str, pagination: Any, limit: int, cap: int) -> tuple[int, int]:
    """(total_count, max_page) of a listing's `pagination`, or PolarAPIError when they are not
    numbers Polar sends: more than `cap` items, or more pages than `limit` per page needs."""
    total = pagination.get("total_count") if isinstance(pagination, dict) else None
    pages = pagination.get("max_page") if isinstance(pagination, dict) else None
    if type(total) is not int or type(pages) is not int:
        raise PolarAPIError(f"{what}: Polar's answer is not a list of {_items(what)}")
    if not 0 <= total <= cap:
        raise PolarAPIError(
            f"{what}: Polar counts {total:,} {_items(what)}, more than polar-meters reads "
            f"({cap:,}): is --server a Polar API?"
        )
    if not 0 <= pages <= max(1, -(-total // limit)):
        raise PolarAPIError(
            f"{what}: Polar's answer is not a list of {_items(what)} ({pages:,} pages "
            f"for {total:,} of them)"
        )
    return total, pages


def _items(what: str) -> str:
    return "customer meters" if "customer-meters" in what else "meters"


def meter_page(data: Any, limit: int) -> dict[str, Any]:
    what = "GET /v1/meters/"
    if not (
        isinstance(data, dict)
        and isinstance(data.get("items"), list)
        and all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in data["items"])
    ):
        raise PolarAPIError(f"{what}: Polar's answer is not a list of meters")
    check_pages(what, data.get("pagination"), limit, MAX_LISTED)
    return data


def describe_redirect(response: httpx.Response) -> str:
    """A 3xx is never followed: the token would go wherever it points."""
    location = one_line(response.headers.get("location", ""))
    shown = location if len(location) <= 120 else location[:117] + "..."
    where = f" to {shown}" if shown else ""
    return (
        f"Polar answered {response.status_code} {response.reason_phrase}, a redirect{where}; "
        "polar-meters follows no redirects: check --server"
    )


def json_or_none(response: httpx.Response) -> Any:
    try:
        return parse_json(response, "")
    except (ValueError, PolarAPIError):
        return None


def one_line(value: object) -> str:
    return " ".join(str(value).split())


def _format_loc(loc: Any) -> str:
    if not isinstance(loc, list):
        return ""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts)


def describe_error(response: httpx.Response) -> str:
    """One line from Polar's error answer, whatever its shape."""
    status = response.status_code
    body = json_or_none(response)
    if status == 422 and isinstance(body, dict) and isinstance(body.get("detail"), list):
        items = []
        for item in body["detail"]:
            if isinstance(item, dict):
                where = _format_loc(item.get("loc"))
                msg = one_line(item.get("msg", ""))
                items.append(f"{where}: {msg}" if where else msg)
        return "Polar rejected the request (422): " + "; ".join(items)
    if status == 401:
        detail = ""
        if isinstance(body, dict):
            detail = body.get("error_description") or body.get("detail") or body.get("error") or ""
        return (
            f"Polar refused the access token (401{': ' + one_line(detail) if detail else ''}); "
            "check POLAR_ACCESS_TOKEN and --server"
        )
    if status == 403:
        detail = body.get("error_description", "") if isinstance(body, dict) else ""
        return (
            f"the access token lacks a scope (403: {one_line(detail)}); "
            "polar-meters needs meters:read and, to apply, meters:write"
        )
    if status == 404:
        if isinstance(body, dict) and body.get("error") == "ResourceNotFound":
            return "not found (404): no such meter in this organization"
        return "not found (404): is --server a Polar API?"
    if status == 429:
        after = response.headers.get("retry-after", "?")
        return f"rate limited by Polar (429), retry after {after}s"
    if isinstance(body, dict):
        said = body.get("detail") or body.get("error")
        if isinstance(said, str):
            return f"Polar answered {status}: {one_line(said)}"
    reason = response.reason_phrase or ""
    return f"Polar answered {status} {reason}".rstrip()



def lock_refusal(body: object) -> bool:
    """A 422 body whose every problem is a locked meter's ``forbidden`` (its filter or
    aggregation: "the meter is already aggregating events")."""
    detail = body.get("detail") if isinstance(body, dict) else None
    return isinstance(detail, list) and bool(detail) and all(
        isinstance(d, dict) and d.get("type") == "forbidden" for d in detail)
