"""Polar's product and benefit routes (catalog.py answers them): each path's methods, the
scopes they accept and the handler. routes.py adds them to the meter and usage routes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reconciler.emulator import catalog_validation, validation
from reconciler.emulator.auth import Principal
from reconciler.emulator.bodies import body_errors, missing_body
from reconciler.emulator.catalog import (
    BENEFITS_READ,
    BENEFITS_WRITE,
    PRODUCTS_READ,
    PRODUCTS_WRITE,
    Catalog,
)
from reconciler.emulator.fields import Invalid
from reconciler.emulator.wire import Request, Response, json_response

Handler = Callable[[Request, Principal], Response]
PRODUCT_PATH = re.compile(r"/v1/products/([^/]+)")
BENEFIT_PATH = re.compile(r"/v1/benefits/([^/]+)")


def _path_id(request: Request, check_body: Callable[[Any], Any] | None = None) -> str:
    """The path's id, or every error of the path and the body together."""
    try:
        return validation.path_id(request.path.rsplit("/", 1)[1])
    except Invalid as exc:
        errors = body_errors(check_body, request.json) if check_body else []
        raise Invalid(exc.errors + errors) from None


def _body(request: Request) -> Any:
    if request.json is None:
        raise Invalid(missing_body())
    return request.json


def _lister(read_query: Callable[[list[tuple[str, str]]], dict[str, Any]], method: str) -> Handler:
    """A list endpoint: its query read by `read_query`, answered by Catalog's `method`."""
    def answer(request: Request, principal: Principal) -> Response:
        page = getattr(Catalog(request.emulator), method)(principal, **read_query(request.query))
        return json_response(200, page.to_json())
    return answer


def _creator(method: str) -> Handler:
    def answer(request: Request, principal: Principal) -> Response:
        created = getattr(Catalog(request.emulator), method)(_body(request), principal)
        return json_response(201, created)
    return answer


def _getter(method: str) -> Handler:
    def answer(request: Request, principal: Principal) -> Response:
        return json_response(200, getattr(Catalog(request.emulator), method)(
            _path_id(request), principal))
    return answer


def _update_product(request: Request, principal: Principal) -> Response:
    product_id = _path_id(request, catalog_validation.product_update)
    answer = Catalog(request.emulator).update_product(product_id, _body(request), principal)
    return json_response(200, answer)


def _delete_benefit(request: Request, principal: Principal) -> Response:
    Catalog(request.emulator).delete_benefit(_path_id(request), principal)
    return Response(204, {}, b"")


Routes = dict[str, tuple[frozenset[str], Handler]]
PRODUCTS: Routes = {
    "GET": (PRODUCTS_READ, _lister(catalog_validation.products_query, "list_products")),
    "POST": (PRODUCTS_WRITE, _creator("create_product")),
}
PRODUCT: Routes = {"GET": (PRODUCTS_READ, _getter("get_product")),
                   "PATCH": (PRODUCTS_WRITE, _update_product)}
BENEFITS: Routes = {
    "GET": (BENEFITS_READ, _lister(catalog_validation.benefits_query, "list_benefits")),
    "POST": (BENEFITS_WRITE, _creator("create_benefit")),
}
# PATCH /v1/benefits/{id} is not modelled: 405, naming what is.
BENEFIT: Routes = {"GET": (BENEFITS_READ, _getter("get_benefit")),
                   "DELETE": (BENEFITS_WRITE, _delete_benefit)}
FIXED = {"/v1/products/": PRODUCTS, "/v1/benefits/": BENEFITS}
PATTERNS = ((PRODUCT_PATH, PRODUCT), (BENEFIT_PATH, BENEFIT))
