"""The Litestar application over the facade: ``create_app(bank, settings)``.

Every handler decodes its input, calls the same ``BankBook`` methods an
embedding application calls, and encodes the result; the API never touches
SQL. Around the handlers: bearer-token authentication, per-object visibility
(``auth``), idempotency keys (``deps.act``), RFC 9457 problems (``problems``),
rate limiting, CORS, security headers, a request id on every response and a
structured log line per request, and an OpenAPI 3.1 schema whose Swagger UI 5
is served from the files the ``openapi-ui-bundles`` package ships (no CDN).

The middleware runs in this order, outermost first: the request clock, the
client's address (``X-Forwarded-For`` only from ``settings.trusted_proxies``),
the rate limit (so requests with a bad token count too), the token check, and
the transport checks: a JSON body must fit its operation's types exactly (no
``"10"`` or ``60.0`` for an integer; 422 otherwise), and integers, in a body or
a query, must fit in 64 bits.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

import msgspec
from litestar import Litestar, Request, Router, get
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import BodyKwarg, FromPath, ParameterKwarg
from litestar.response import File
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.typing import FieldDefinition
from openapi_ui_bundles import swagger_ui
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import timebank
from timebank.api.auth import jwt_auth
from timebank.api.problems import BodyInvalid, exception_handlers
from timebank.api.routes import (
    books,
    care,
    credits,
    events,
    gifts,
    ledger,
    matching,
    members,
    orders,
    outbox,
    programme,
    redemptions,
    reports,
    statements,
    supply,
    system,
    wishes,
)
from timebank.api.settings import ApiSettings
from timebank.bank import TimeBank

__all__ = ["create_app"]

log = logging.getLogger("timebank.api.access")
ASSETS = "/schema/assets"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The Swagger UI files the docs page loads; nothing else of the package is served."""
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
        " script-src 'self' 'unsafe-inline'"
    ),
}
LOGGED_PATH_MAX = 512
INT64 = range(-(2**63), 2**63)
DECIMAL_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
MSGSPEC_ERROR = re.compile(r"(?P<reason>.*?)(?: - at `(?P<path>[^`]*)`)?", re.DOTALL)
NAMED_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`")


def _request_id(scope: Scope) -> str:
    """The request's id: kept from ``X-Request-Id`` if sent (at most 64 characters), else new."""
    state = scope["state"]
    if "request_id" not in state:
        sent = next((v for k, v in scope.get("headers", []) if k.lower() == b"x-request-id"), b"")
        state["request_id"] = sent.decode("latin-1")[:64] or uuid.uuid4().hex
    return str(state["request_id"])


async def _stamp(message: Message, scope: Scope) -> None:
    """Add the request id and security headers to every response, and log the request.

    A ``before_send`` hook, not a middleware, so that the answers Litestar gives
    outside the route's middleware (no such route) carry them too, and every
    request is logged with its real status.
    """
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    request_id = _request_id(scope)
    headers["x-request-id"] = request_id
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    started = scope["state"].get("started")
    log.info(
        json.dumps(
            {
                "request_id": request_id,
                "method": scope.get("method"),
                "path": str(scope.get("path", ""))[:LOGGED_PATH_MAX],
                "status": message["status"],
                "ms": None if started is None else round((time.perf_counter() - started) * 1000, 2),
            }
        )
    )


def _request_clock(app: ASGIApp) -> ASGIApp:
    """Note when each request arrived, for the log line ``_stamp`` writes."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) == "http":
            scope["state"]["started"] = time.perf_counter()
            _request_id(scope)
        await app(scope, receive, send)

    return middleware


def _client_address(trusted: list[str]) -> Callable[[ASGIApp], ASGIApp]:
    """The client's address from ``X-Forwarded-For``, but only when a trusted proxy sent it.

    Uvicorn's own middleware does it (the rightmost address no trusted proxy
    owns is the client); the rate limit then counts by that address.
    """

    def layer(app: ASGIApp) -> ASGIApp:
        return cast("ASGIApp", ProxyHeadersMiddleware(cast("Any", app), trusted_hosts=trusted))

    return layer


def _outermost(layers: list[Any]) -> Callable[[AppConfig], AppConfig]:
    """An ``on_app_init`` hook putting ``layers`` outside the middleware added before it.

    The token check adds itself first in the stack; run after it, this puts the
    rate limit in front of it, so that requests with a bad token are counted.
    """

    def hook(config: AppConfig) -> AppConfig:
        config.middleware[:0] = layers
        return config

    return hook


# --- the transport checks ---------------------------------------------------------------------


def _is_integer(field: FieldDefinition) -> bool:
    """Whether a parameter holds integers: ``int``, ``int | None`` or a collection of ``int``."""
    if field.annotation is int:
        return True
    if field.is_union or field.is_non_string_collection:
        return any(inner.annotation is int for inner in field.inner_types)
    return False


def _check_integers(request: Request[Any, Any, Any], handler: HTTPRouteHandler) -> None:
    """Integer path and query parameters are plain decimal integers of at most 64 bits."""
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if not _is_integer(field) or (
            isinstance(kwarg, ParameterKwarg) and (kwarg.header or kwarg.cookie)
        ):
            continue
        if name in request.path_params:
            sent = [str(request.path_params[name])]
            source = "path"
        else:
            key = kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name
            sent = request.query_params.getall(key, [])
            source = "query"
        for value in sent:
            if DECIMAL_INTEGER.fullmatch(value) is None or int(value) not in INT64:
                raise ValidationException(
                    detail=f"{name} must be an integer of at most 64 bits",
                    extra=[{"message": "Expected a 64-bit integer", "key": name, "source": source}],
                )


@functools.lru_cache(maxsize=1024)
def _body_decoder(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    """A strict JSON decoder for a body type, or None for a type msgspec cannot decode alone."""
    try:
        return msgspec.json.Decoder(annotation, strict=True)
    except TypeError:
        return None


def _invalid(error: msgspec.ValidationError) -> BodyInvalid:
    """The field msgspec names (a JSON path) and what it expected there."""
    found = MSGSPEC_ERROR.fullmatch(str(error))
    assert found is not None  # the pattern matches any text
    reason, path = found["reason"], found["path"] or "$"
    named = NAMED_FIELD.fullmatch(reason)
    if named is not None:
        path = f"{path}.{named['name']}"
    return BodyInvalid(field=path[:200], reason=reason[:200])


def _check_wide_integers(value: Any) -> None:
    """No integer in a JSON value needs more than 64 bits."""
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{path}.{key}", inner) for key, inner in item.items())
        elif isinstance(item, list):
            stack.extend((f"{path}[{n}]", inner) for n, inner in enumerate(item))
        elif isinstance(item, int) and item not in INT64:
            raise BodyInvalid(field=path[:200], reason="Expected an integer of at most 64 bits")


def _is_json(data: FieldDefinition) -> bool:
    """Whether a handler's body is JSON (Litestar's default for ``data``)."""
    kwarg = data.kwarg_definition
    return not isinstance(kwarg, BodyKwarg) or kwarg.media_type == RequestEncodingType.JSON


def _check_body(body: bytes, annotation: Any) -> None:
    """A JSON body fits ``annotation`` exactly (msgspec's strict mode) and has no wide integer.

    A body that is not JSON at all is left to Litestar's own parsing, which
    refuses it as malformed (400).
    """
    decoder = _body_decoder(annotation)
    if decoder is None:
        return
    try:
        decoder.decode(body)
    except msgspec.ValidationError as error:
        raise _invalid(error) from None
    except (msgspec.DecodeError, RecursionError):
        return
    _check_wide_integers(msgspec.json.decode(body))


def _transport_checks(app: ASGIApp) -> ASGIApp:
    """Refuse what Litestar's lenient parsing would accept (it converts with ``strict=False``).

    Litestar turns ``"10"``, ``60.0`` and ``1e2`` into the integer a handler
    asks for, and lets integers of any size through to the store: checked here,
    before the handler's parameters are parsed, against the handler's own types.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if str(scope["type"]) == "http" and isinstance(handler, HTTPRouteHandler):
            request: Request[Any, Any, Any] = Request(scope, receive)
            _check_integers(request, handler)
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and _is_json(data):
                _check_body(await request.body(), data.annotation)
        await app(scope, receive, send)

    return middleware


# --- the docs ---------------------------------------------------------------------------------


@get(ASSETS + "/{name:str}", include_in_schema=False, sync_to_thread=False)
def asset(name: FromPath[str]) -> File:
    """A file of the Swagger UI that ``openapi-ui-bundles`` ships, by its name."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFoundException("no such asset")
    return File(
        swagger_ui.static_path / name, media_type=media_type, content_disposition_type="inline"
    )


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="timebank",
        version=timebank.__version__,
        description="Time-bank ledger of volunteer minutes. Every error is an RFC 9457 problem.",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                path="/docs",
                js_url=f"{ASSETS}/swagger-ui-bundle.js",
                css_url=f"{ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f'<link rel="icon" type="image/png" href="{ASSETS}/favicon-32x32.png">',
            )
        ],
    )


def create_app(bank: TimeBank, settings: ApiSettings) -> Litestar:
    """The API over ``bank`` (any store: memory, SQLite, PostgreSQL)."""
    auth = jwt_auth(settings.token_secret, settings.token_lifetime)
    api = Router(
        path="/",
        route_handlers=[
            *books.ROUTES,
            *programme.ROUTES,
            *ledger.ROUTES,
            *members.ROUTES,
            *statements.ROUTES,
            *credits.ROUTES,
            *redemptions.ROUTES,
            *gifts.ROUTES,
            *events.ROUTES,
            *supply.ROUTES,
            *orders.ROUTES,
            *outbox.ROUTES,
            *matching.ROUTES,
            *wishes.ROUTES,
            *care.ROUTES,
            *reports.ROUTES,
        ],
    )
    outer: list[Any] = [_request_clock]
    if settings.trusted_proxies:
        outer.append(_client_address(list(settings.trusted_proxies)))
    if settings.rate_limit_per_minute:
        limit = RateLimitConfig(
            rate_limit=("minute", settings.rate_limit_per_minute),
            exclude=[r"^/health\Z", r"^/ready\Z"],
        )
        outer.append(limit.middleware)
    app = Litestar(
        route_handlers=[system.health, system.ready, api, asset],
        exception_handlers=exception_handlers,
        before_send=[_stamp],
        on_app_init=[auth.on_app_init, _outermost(outer)],
        middleware=[_transport_checks],
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        openapi_config=_openapi(),
        request_max_body_size=1_048_576,
        debug=settings.debug,
    )
    app.state.bank = bank
    app.state.settings = settings
    return app
