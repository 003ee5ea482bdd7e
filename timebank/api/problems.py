"""Errors as RFC 9457 problem details, in Chinese or English by ``Accept-Language``.

Every domain error maps by its family to one status (``RequestInvalid`` and
``LimitExceeded`` 422, ``NotFound`` 404, ``Conflict`` 409, and 403 for
``ActorNotAuthorised``), and by its stable ``code`` to a problem ``type``
(``urn:timebank:problem:<code>``), a title, and a detail built from the
error's own data. Litestar's own errors (a malformed body, a missing token, a
rate limit) become problems the same way, and anything unexpected is a bare
500 problem that says nothing of the server's insides.

A body that is not JSON at all is a 400 (``request_malformed``); a JSON body
whose values do not fit the operation (a string or a float where an integer
belongs, a missing field) is a 422 (``request_body_invalid``) naming the field.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import (
    HTTP_403_FORBIDDEN,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from timebank.community import ActorNotAuthorised
from timebank.community.port import StoreError
from timebank.i18n import Text, negotiate, text
from timebank.ledger import Conflict, LedgerError, LimitExceeded, NotFound, RequestInvalid

__all__ = [
    "MEDIA_TYPE",
    "BodyInvalid",
    "exception_handlers",
    "language",
    "problem",
    "status_of",
]

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:timebank:problem:"
log = logging.getLogger("timebank.api")


def language(request: Request[Any, Any, Any]) -> str:
    """``zh`` if the caller prefers Chinese, else ``en`` (q-values honoured)."""
    return negotiate(request.headers.get("accept-language"))


class BodyInvalid(Exception):
    """A well-formed JSON body with a value of the wrong type or shape at ``field``.

    ``field`` is a JSON path (``$.raw_minutes``, ``$.legs[0].minutes``; ``$`` for the
    body itself); ``reason`` is what was expected, in English.
    """

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def status_of(error: LedgerError) -> int:
    if isinstance(error, ActorNotAuthorised):
        return HTTP_403_FORBIDDEN
    if isinstance(error, NotFound):
        return HTTP_404_NOT_FOUND
    if isinstance(error, Conflict):
        return HTTP_409_CONFLICT
    if isinstance(error, (RequestInvalid, LimitExceeded)):
        return HTTP_422_UNPROCESSABLE_ENTITY
    return HTTP_422_UNPROCESSABLE_ENTITY


def problem(
    request: Request[Any, Any, Any],
    *,
    code: str,
    status: int,
    detail_en: str,
    template: str | None = None,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    lang = language(request)
    t = text(lang)
    detail = detail_en
    if lang != "en":
        detail = _translated(t, code, detail_en, template, data or {})
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": t.name("problem", code),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path,
    }
    if data:
        body["data"] = data
    return Response(
        body,
        status_code=status,
        media_type=MEDIA_TYPE,
        headers={"Content-Language": lang, **(headers or {})},
    )


def _translated(
    t: Text, code: str, detail_en: str, template: str | None, data: dict[str, Any]
) -> str:
    """The detail in ``t``'s language: the template (or the fixed sentence) as the catalog
    has it under ``code``; an English sentence it does not know (Litestar's own) gives way
    to the problem's title, so a Chinese reader never gets English."""
    if template is not None:
        if t.translation(code, template) is not None:
            return t.detail(code, template, data)
    else:
        found = t.translation(code, detail_en)
        if found is not None:
            return found
    return t.name("problem", code)


def _domain(request: Request[Any, Any, Any], error: LedgerError) -> Response[dict[str, Any]]:
    data = {key: value for key, value in error.to_dict().items() if key != "code"}
    return problem(
        request,
        code=error.code,
        status=status_of(error),
        detail_en=str(error),
        template=error.template,
        data=data,
    )


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    extra = error.extra if isinstance(error.extra, list) else None
    return problem(
        request,
        code="request_malformed",
        status=400,
        detail_en=str(error.detail),
        data={"errors": extra} if extra else None,
    )


def _body_invalid(request: Request[Any, Any, Any], error: BodyInvalid) -> Response[Any]:
    return problem(
        request,
        code="request_body_invalid",
        status=HTTP_422_UNPROCESSABLE_ENTITY,
        detail_en=f"the body's {error.field} is invalid: {error.reason}",
        template="the body's {field} is invalid: {reason}",
        data={"field": error.field, "reason": error.reason},
    )


_HTTP_CODES = {
    400: "request_malformed",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    code = _HTTP_CODES.get(status, "http_error")
    headers = dict(error.headers or {})
    return problem(request, code=code, status=status, detail_en=str(error.detail), headers=headers)


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    # The store's own errors (the database unavailable, busy, or a COMMIT whose outcome
    # was lost) derive from the port's ``StoreError``: the API does not import the store.
    if isinstance(error, StoreError):
        log.warning("store unavailable: %s", error)
        return problem(
            request,
            code="store_unavailable",
            status=HTTP_503_SERVICE_UNAVAILABLE,
            detail_en="the database is unavailable; try again shortly",
            headers={"Retry-After": "1"},
        )
    log.exception("unexpected error", exc_info=error)
    return problem(
        request,
        code="internal_error",
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        detail_en="something went wrong on our side",
    )


def _too_deep(request: Request[Any, Any, Any], error: RecursionError) -> Response[Any]:
    """msgspec refuses JSON nested deeper than it can decode with a ``RecursionError``."""
    if "deserializing" not in str(error):
        return _unexpected(request, error)
    return problem(
        request,
        code="request_malformed",
        status=400,
        detail_en="the JSON body is nested too deeply",
    )


exception_handlers: dict[type[Exception] | int, Any] = {
    LedgerError: _domain,
    BodyInvalid: _body_invalid,
    ValidationException: _validation,
    RecursionError: _too_deep,
    HTTPException: _http,
    Exception: _unexpected,
}
"""Litestar exception handlers: most specific class first is how Litestar picks."""
