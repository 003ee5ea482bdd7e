"""Who is calling: bearer tokens (Litestar's JWT auth), and who the facade is told acted.

A token names its subject, its role and the one book (or ``*``) it is for:

- ``admin``: a person operating the programme, named in the subject (an id:
  letters, digits, ``-``, ``_``); they act with the application's authority as
  ``admin:<subject>``, which is what the books record as having acted;
- ``integration``: another system's key; it acts as ``SYSTEM`` (named in logs);
- admins and integrations alone may hold a token for every book (``*``);
- ``coordinator`` and ``member``: a person, the member id in the subject, for one book.

A token proves who is calling, nothing more: what a person may see and do is
decided by the facade from the book's records *now* (their roles, their
communities, the proxy authorisations they hold), so a coordinator whose role
is removed or a proxy whose authorisation is revoked loses it on the next
request, however long their token still runs. Only the ``Bearer`` scheme is
accepted; a token for the subject ``system``, or a person's token for every
book, is never issued and is refused if presented.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from msgspec import Struct

from timebank.bank import SYSTEM, admin_actor
from timebank.community.limits import ID_PATTERN, MEMBER_ID_LENGTH_MAX

__all__ = ["Principal", "Role", "issue_token", "jwt_auth"]

SCHEME = "bearer"
ALL_BOOKS = "*"

EXCLUDED = [r"^/health\Z", r"^/ready\Z", r"^/schema(?:/.*)?\Z"]
"""Whole paths that need no token (Litestar searches these patterns anywhere in a path, so each
is anchored: ``/books/docs/members/health`` needs a token like any other)."""


class Role(StrEnum):
    ADMIN = "admin"
    INTEGRATION = "integration"
    COORDINATOR = "coordinator"
    MEMBER = "member"


SYSTEM_ROLES = frozenset({Role.ADMIN, Role.INTEGRATION})


class Principal(Struct, frozen=True, kw_only=True):
    """The caller a valid token names."""

    subject: str
    role: Role
    book: str
    """The book the token is for, or ``*`` for every book (admins and integrations only)."""

    @property
    def actor(self) -> str:
        """Who the facade is told acts, and the books record: ``admin:<subject>`` for an
        administrator, ``SYSTEM`` for an integration, else the person (a member id)."""
        if self.role is Role.ADMIN:
            return admin_actor(self.subject)
        return SYSTEM if self.role is Role.INTEGRATION else self.subject

    def may_open(self, book_id: str) -> bool:
        return self.book == book_id or (self.book == ALL_BOOKS and self.role in SYSTEM_ROLES)


_NAME = re.compile(ID_PATTERN)


def _valid(subject: str, role: Role, book: str) -> bool:
    """A person's token names a person (never ``system``) and one book; an administrator's
    names them by an id (it becomes ``admin:<subject>`` in the books)."""
    if role is Role.ADMIN:
        named = len(subject) <= MEMBER_ID_LENGTH_MAX and _NAME.fullmatch(subject) is not None
        return named and bool(book)
    if role in SYSTEM_ROLES:
        return bool(subject) and bool(book)
    return bool(subject) and subject != SYSTEM and bool(book) and book != ALL_BOOKS


def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    extras = token.extras
    try:
        role = Role(extras.get("role", ""))
        principal = Principal(subject=token.sub, role=role, book=str(extras.get("book", "")))
    except (ValueError, TypeError):
        return None
    return principal if _valid(principal.subject, role, principal.book) else None


class BearerOnly(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, accepting the ``Bearer`` scheme only (any case)."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get(self.auth_header, "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != SCHEME or not token.strip():
            raise NotAuthorizedException("a bearer token is needed: Authorization: Bearer <token>")
        encoded = token.strip()
        key = (self.token_secret, encoded)
        known = _VERIFIED.get(key)
        if known is not None and time.time() < known[0]:
            return known[1]
        result = await self.authenticate_token(encoded_token=encoded, connection=connection)
        _VERIFIED[key] = (result.auth.exp.timestamp(), result)
        if len(_VERIFIED) > VERIFIED_TOKENS_MAX:
            del _VERIFIED[next(iter(_VERIFIED))]  # the one verified longest ago
        return result


VERIFIED_TOKENS_MAX = 4_096
_VERIFIED: dict[tuple[str, str], tuple[float, AuthenticationResult]] = {}
"""Tokens whose signature was checked, with their expiry: a token is the same string on every
request of a client, and checking its signature again (PyJWT) cost a third of a millisecond of
each request's CPU. Its claims are all a principal is made of, so a token verified once names
the same principal until it expires; what that principal may do is still decided by the
facade at every request. Only the event loop touches it."""


def jwt_auth(secret: str, lifetime: timedelta) -> JWTAuth[Principal, Token]:
    if len(secret) < 32:
        raise ValueError("the token secret must be at least 32 characters")
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_principal,
        token_secret=secret,
        default_token_expiration=lifetime,
        exclude=EXCLUDED,
        authentication_middleware_class=BearerOnly,
    )


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role | str,
    book: str,
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    """A signed bearer token (what ``timebank token`` prints)."""
    chosen = Role(role)
    if not _valid(subject, chosen, book):
        raise ValueError(
            "a person's token names a member (never 'system') and one book, not every book;"
            " an administrator's names them by an id (letters, digits, - and _)"
        )
    auth = jwt_auth(secret, lifetime)
    extras = {"role": chosen.value, "book": book}
    return auth.create_token(identifier=subject, token_extras=extras)
