"""The Litestar application over the facade: ``create_app(bank, settings)``.

Every handler decodes its input, calls the same ``BankBook`` methods an
embedding application calls, and encodes the result; the API never touches
SQL. Around the handlers: bearer-token authentication, per-object visibility
(``auth``), idempotency keys (``deps.act``), RFC 9457 problems (``problems``),
rate limiting, CORS, security headers, a request id on every response and a
structured log line per request, and an OpenAPI 3.1 schema whose Swagger UI 5
is served from the files the ``openapi-ui-bundles`` package ships (no CDN).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from litestar import Litestar, Router, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import NotFoundException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from openapi_ui_bundles import swagger_ui

import timebank
from timebank.api.auth import jwt_auth
from timebank.api.problems import exception_handlers
from timebank.api.routes import books, exchange, members, minutes, reports, system, wishes
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
    outside the route's middleware (no such route, 401 from the token check,
    429 from the rate limit) carry them, and are logged with their real status.
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
                "path": scope.get("path"),
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


@get(ASSETS + "/{name:str}", include_in_schema=False, sync_to_thread=False)
def asset(name: FromPath[str]) -> File:
    """A file of the Swagger UI that ``openapi-ui-bundles`` ships, by its name."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFoundException("no such asset")
    return File(
        swagger_ui.static_path / name, media_type=media_type, content_disposition_type="inline"
    )


def create_app(bank: TimeBank, settings: ApiSettings) -> Litestar:
    """The API over ``bank`` (any store: memory, SQLite, PostgreSQL)."""
    auth = jwt_auth(settings.token_secret, settings.token_lifetime)
    auth.exclude = [*(auth.exclude or []), ASSETS]
    api = Router(
        path="/",
        route_handlers=[
            *books.ROUTES,
            *members.ROUTES,
            *minutes.ROUTES,
            *exchange.ROUTES,
            *wishes.ROUTES,
            *reports.ROUTES,
        ],
    )
    middleware: list[Any] = [_request_clock]
    if settings.rate_limit_per_minute:
        limit = RateLimitConfig(
            rate_limit=("minute", settings.rate_limit_per_minute),
            exclude=["/health", "/ready"],
        )
        middleware.append(limit.middleware)
    openapi = OpenAPIConfig(
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
    app = Litestar(
        route_handlers=[
            system.health,
            system.ready,
            api,
            asset,
        ],
        exception_handlers=exception_handlers,
        before_send=[_stamp],
        on_app_init=[auth.on_app_init],
        middleware=middleware,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins))
        if settings.cors_origins
        else None,
        openapi_config=openapi,
        request_max_body_size=1_048_576,
        debug=settings.debug,
    )
    app.state.bank = bank
    app.state.settings = settings
    return app
