"""Polar's request rules for products and benefits (server/polar/product/schemas.py,
benefit/strategies/meter_credit/schemas.py), the part the emulator models, as pydantic
reports them (see fields.py).

Modelled: ProductCreate's two forms (`recurring` when `recurring_interval` is set, else
`one_time`) with fixed and metered-unit prices; ProductUpdate's name, description,
visibility, metadata and `is_archived`; BenefitCreate of type `meter_credit`. What Polar
accepts but the emulator does not model (custom, seat-based and unit-based prices, medias,
custom fields, trials, meter cycles, changing a product's prices, other benefit types) is
refused with a 422 `value_error` saying so, never silently dropped.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from reconciler.emulator import fields as f
from reconciler.emulator.fields import Field, Invalid, Loc
from reconciler.emulator.validation import QueryReader, metadata, no_nul

PRESENTMENT_CURRENCIES = (
    "aed", "all", "amd", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt", "bif",
    "bmd", "bnd", "bob", "brl", "bsd", "bwp", "bzd", "cad", "cdf", "chf", "clp", "cny",
    "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb", "eur", "fjd",
    "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg", "huf",
    "idr", "ils", "inr", "isk", "jmd", "jpy", "kes", "kgs", "khr", "kmf", "krw", "kyd",
    "kzt", "lak", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mnt", "mop", "mur",
    "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "pab",
    "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rwf", "sar", "sbd",
    "scr", "sek", "sgd", "shp", "sos", "srd", "szl", "thb", "tjs", "top", "try", "ttd",
    "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd", "vuv", "wst", "xaf", "xcd",
    "xcg", "xof", "xpf", "yer", "zar", "zmw",
)
DEFAULT_CURRENCY = "usd"  # an emulated organization's default presentment currency
RECURRING_INTERVALS = ("day", "week", "month", "year")
VISIBILITIES = ("draft", "private", "public")
TAX_BEHAVIORS = ("location", "inclusive", "exclusive")
PRICE_TYPES = ("fixed", "custom", "seat_based", "metered_unit")
MODELLED_PRICES = ("fixed", "metered_unit")
BENEFIT_TYPES = ("custom", "discord", "github_repository", "downloadables", "license_keys",
                 "meter_credit", "feature_flag", "slack_shared_channel")
PRODUCT_SORTINGS = tuple(
    sign + name for name in ("created_at", "name", "price_amount_type", "price_amount")
    for sign in ("", "-")
)
BENEFIT_SORTINGS = tuple(
    sign + name for name in ("created_at", "description", "type", "user_order")
    for sign in ("", "-")
)
INT32_MAX = 2**31 - 1
_UNIT_AMOUNT_DIGITS, _UNIT_AMOUNT_PLACES = 17, 12


def not_modelled(loc: Loc, what: str, value: Any) -> Invalid:
    return Invalid([f.detail("value_error", loc, f"The emulator does not model {what}.", value)])


def _stripped(value: Any, loc: Loc, strict: bool, *, min_length: int, max_length: int) -> str:
    text = f.string(value, loc, strict).strip()
    return f.string(text, loc, strict, min_length=min_length, max_length=max_length)


def unit_amount(value: Any, loc: Loc, strict: bool = False) -> Decimal:
    """A Decimal > 0 of at most 17 digits, 12 of them decimal places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        f.fail("decimal_type", loc, "Decimal input should be an integer, float, string or "
               "Decimal object", value)
    try:
        number = Decimal(value.strip() if isinstance(value, str) else repr(value))
    except InvalidOperation:
        f.fail("decimal_parsing", loc, "Input should be a valid decimal", value)
    if not number.is_finite():
        f.fail("finite_number", loc, "Input should be a finite number", value)
    exponent = int(number.normalize().as_tuple().exponent)
    places = max(0, -exponent)
    digits = len(number.normalize().as_tuple().digits) + max(0, exponent)
    if digits > _UNIT_AMOUNT_DIGITS:
        f.fail("decimal_max_digits", loc, "Decimal input should have no more than 17 digits "
               "in total", value, {"max_digits": _UNIT_AMOUNT_DIGITS})
    if places > _UNIT_AMOUNT_PLACES:
        f.fail("decimal_max_places", loc, "Decimal input should have no more than 12 decimal "
               "places", value, {"decimal_places": _UNIT_AMOUNT_PLACES})
    if number <= 0:
        f.fail("greater_than", loc, "Input should be greater than 0", value, {"gt": 0})
    return number


_CURRENCY = partial(f.choice, choices=PRESENTMENT_CURRENCIES)
_TAX = f.nullable(partial(f.choice, choices=TAX_BEHAVIORS))
_PRICE_FIELDS = {
    "fixed": (
        Field("price_currency", _CURRENCY), Field("tax_behavior", _TAX),
        Field("price_amount", partial(f.integer, ge=0), required=True),
    ),
    "metered_unit": (
        Field("price_currency", _CURRENCY), Field("tax_behavior", _TAX),
        Field("meter_id", f.uuid4, required=True),
        Field("unit_amount", unit_amount, required=True),
        Field("cap_amount", f.nullable(partial(f.integer, ge=0, le=INT32_MAX))),
    ),
}


def price_create(value: Any, loc: Loc, strict: bool) -> dict[str, Any]:
    """One ProductPriceCreate, discriminated on `amount_type`."""
    tag = _tag(value, loc, "amount_type", PRICE_TYPES)
    if tag not in MODELLED_PRICES:
        raise not_modelled((*loc, tag), f"{tag} prices", value)
    data = f.model(value, (*loc, tag), strict, _PRICE_FIELDS[tag])
    return {"amount_type": tag, "price_currency": DEFAULT_CURRENCY, "tax_behavior": None,
            "cap_amount": None, **data}


def _tag(value: Any, loc: Loc, name: str, tags: tuple[str, ...]) -> str:
    if not isinstance(value, dict):
        f.fail("model_attributes_type", loc, f.NOT_AN_OBJECT, value)
    if name not in value:
        f.fail("union_tag_not_found", loc, f"Unable to extract tag using discriminator '{name}'",
               value, {"discriminator": f"'{name}'"})
    tag = value[name]
    if not isinstance(tag, str) or tag not in tags:
        expected = f.expected_text(tags)
        f.fail("union_tag_invalid", loc,
               f"Input tag '{tag}' found using '{name}' does not match any of the expected "
               f"tags: {expected}", value,
               {"discriminator": f"'{name}'", "tag": str(tag), "expected_tags": expected})
    return tag


def _prices(value: Any, loc: Loc, strict: bool) -> list[dict[str, Any]]:
    prices = f.list_of(value, loc, strict, price_create)
    if not prices:
        f.fail("too_short", loc, "List should have at least 1 item after validation, not 0",
               value, {"field_type": "List", "min_length": 1, "actual_length": 0})
    return prices


def _empty_or_null(what: str) -> f.Validator:
    def check(value: Any, loc: Loc, strict: bool) -> Any:
        if value not in (None, []):
            raise not_modelled(loc, what, value)
        return None
    return check


_NAME = partial(_stripped, min_length=3, max_length=64)
_DESCRIPTION = f.nullable(f.string)
_VISIBILITY = partial(f.choice, choices=VISIBILITIES)
_INTERVAL = partial(f.choice, choices=RECURRING_INTERVALS)
_COMMON_CREATE = (
    Field("metadata", no_nul(metadata)), Field("name", no_nul(_NAME), required=True),
    Field("description", _DESCRIPTION), Field("visibility", _VISIBILITY),
    Field("prices", _prices, required=True), Field("medias", _empty_or_null("product medias")),
    Field("attached_custom_fields", _empty_or_null("custom fields")),
    Field("organization_id", f.nullable(f.uuid4)),
)
_RECURRING_FIELDS = (
    *_COMMON_CREATE,
    Field("trial_interval", _empty_or_null("trials")),
    Field("trial_interval_count", _empty_or_null("trials")),
    Field("recurring_interval", _INTERVAL, required=True),
    Field("recurring_interval_count", partial(f.integer, ge=1, le=999)),
    Field("meter_interval", _empty_or_null("meter cycles")),
    Field("meter_interval_count", f.nullable(partial(f.integer, ge=1, le=999))),
)
_PRODUCT_DEFAULTS: dict[str, Any] = {
    "metadata": {}, "description": None, "visibility": "public", "organization_id": None,
    "recurring_interval": None, "recurring_interval_count": None,
}


def product_create(body: Any) -> dict[str, Any]:
    """A ProductCreate body with defaults filled in; raises Invalid."""
    recurring = isinstance(body, dict) and body.get("recurring_interval") is not None
    if recurring:
        data = f.model(body, ("body", "recurring"), False, _RECURRING_FIELDS)
        data.setdefault("recurring_interval_count", 1)
    else:
        one_time = (*_COMMON_CREATE,
                    Field("recurring_interval", f.nullable(_none)),
                    Field("recurring_interval_count", f.nullable(_none)))
        data = f.model(body, ("body", "one_time"), False, one_time)
    for name in ("medias", "attached_custom_fields", "trial_interval", "trial_interval_count",
                 "meter_interval", "meter_interval_count"):
        data.pop(name, None)
    if data.get("description") == "":
        data["description"] = None  # Polar's EmptyStrToNoneValidator
    return {**_PRODUCT_DEFAULTS, **data}


def _none(value: Any, loc: Loc, strict: bool) -> None:
    f.fail("none_required", loc, "Input should be None", value)


_UPDATE_FIELDS = (
    Field("metadata", no_nul(metadata)), Field("name", f.nullable(no_nul(_NAME))),
    Field("description", _DESCRIPTION), Field("is_archived", f.nullable(f.boolean)),
    Field("visibility", f.nullable(_VISIBILITY)),
    Field("trial_interval", _empty_or_null("trials")),
    Field("trial_interval_count", _empty_or_null("trials")),
    Field("recurring_interval", _empty_or_null("changing a recurring interval")),
    Field("recurring_interval_count", _empty_or_null("changing a recurring interval")),
    Field("prices", _empty_or_null("changing prices")),
    Field("medias", _empty_or_null("product medias")),
    Field("attached_custom_fields", _empty_or_null("custom fields")),
)


def product_update(body: Any) -> dict[str, Any]:
    """A ProductUpdate body: the fields it sets (null means unchanged); raises Invalid."""
    data = f.model(body, ("body",), False, _UPDATE_FIELDS)
    if data.get("description") == "":
        data["description"] = None
    return {k: v for k, v in data.items() if v is not None or k == "description"}


_BENEFIT_PROPERTIES = (
    Field("units", partial(f.integer, gt=0, le=INT32_MAX), required=True),
    Field("rollover", f.boolean, required=True),
    Field("meter_id", f.uuid4, required=True),
)
_BENEFIT_FIELDS = (
    Field("metadata", no_nul(metadata)),
    Field("description", no_nul(partial(_stripped, min_length=3, max_length=42)),
          required=True),
    Field("organization_id", f.nullable(f.uuid4)),
    Field("visibility", f.nullable(_VISIBILITY)),
    Field("properties", partial(f.model, fields=_BENEFIT_PROPERTIES), required=True),
)


def benefit_create(body: Any) -> dict[str, Any]:
    """A BenefitCreate body of type meter_credit; raises Invalid."""
    tag = _tag(body, ("body",), "type", BENEFIT_TYPES)
    if tag != "meter_credit":
        raise not_modelled(("body", tag), f"{tag} benefits", body)
    data = f.model(body, ("body", tag), False, _BENEFIT_FIELDS)
    return {"metadata": {}, "organization_id": None, "visibility": None, **data}


# -- list queries ----------------------------------------------------------------------------


def products_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/products/ (default sorting ``-created_at``); raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(PRODUCT_SORTINGS, "-created_at")
    reader.uuids("id")
    reader.uuids("organization_id")
    reader.values["query"] = reader.last.get("query")
    for name in ("is_archived", "is_recurring"):
        reader.values[name] = None
        if name in reader.last:
            reader.take(name, partial(f.boolean, reader.last[name], ("query", name)))
    reader.uuids("benefit_id")
    reader.values["visibility"] = None
    if visibility := reader.every("visibility"):
        reader.take("visibility", partial(f.list_of, visibility, ("query", "visibility"), False,
                                          _VISIBILITY))
    return reader.result_with_metadata()


def benefits_query(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """GET /v1/benefits/ (default sorting ``-created_at``); raises Invalid."""
    reader = QueryReader(pairs)
    reader.paging(BENEFIT_SORTINGS, "-created_at")
    reader.uuids("organization_id")
    reader.values["type"] = None
    if types := reader.every("type"):
        reader.take("type", partial(f.list_of, types, ("query", "type"), False,
                                    partial(f.choice, choices=BENEFIT_TYPES)))
    reader.uuids("id")
    reader.uuids("exclude_id")
    reader.values["query"] = reader.last.get("query")
    return reader.result_with_metadata()

