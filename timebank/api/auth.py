"""Who is calling: bearer tokens (Litestar's JWT auth), roles, and what each may see.

A token names its subject and role, and the one book (or ``*``) it is for:

- ``admin``: the programme's operator; acts as ``SYSTEM`` in the facade;
- ``integration``: another system's key; acts as ``SYSTEM`` too, and is named in logs;
- ``coordinator``: a member with the coordinator role, scoped to ``communities``;
- ``member``: a member, who sees their own accounts and those of the members who
  authorised them as a proxy (the facade checks the authorisation on every write).

The facade decides who may *do* what; this module decides who may *see* what, and
keeps coordinators inside their communities. A caller who may not see a member is
told the member does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token
from msgspec import Struct

from timebank.bank import SYSTEM, BankBook
from timebank.community import MemberNotFound
from timebank.community.model import Member

__all__ = ["Principal", "Role", "can_see", "issue_token", "jwt_auth", "see_member"]

EXCLUDED = [r"^/health\Z", r"^/ready\Z", r"^/schema(?:/.*)?\Z"]
"""Whole paths that need no token (Litestar searches these patterns anywhere in a path, so each
is anchored: ``/books/docs/members/health`` needs a token like any other)."""


class Role(StrEnum):
    ADMIN = "admin"
    INTEGRATION = "integration"
    COORDINATOR = "coordinator"
    MEMBER = "member"


class Principal(Struct, frozen=True, kw_only=True):
    """The caller a valid token names."""

    subject: str
    role: Role
    book: str
    """The book the token is for, or ``*`` for every book (admins and integrations only)."""
    communities: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        """Who the facade records as acting."""
        return SYSTEM if self.role in (Role.ADMIN, Role.INTEGRATION) else self.subject

    @property
    def staff(self) -> bool:
        return self.role is not Role.MEMBER

    def may_open(self, book_id: str) -> bool:
        return self.book == book_id or (self.book == "*" and self.role is not Role.MEMBER)


def _principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    extras = token.extras
    try:
        return Principal(
            subject=token.sub,
            role=Role(extras.get("role", "")),
            book=str(extras.get("book", "")),
            communities=tuple(str(c) for c in extras.get("communities", ())),
        )
    except (ValueError, TypeError):
        return None


def jwt_auth(secret: str, lifetime: timedelta) -> JWTAuth[Principal, Token]:
    if len(secret) < 32:
        raise ValueError("the token secret must be at least 32 characters")
    return JWTAuth[Principal, Token](
        retrieve_user_handler=_principal,
        token_secret=secret,
        default_token_expiration=lifetime,
        exclude=EXCLUDED,
    )


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role | str,
    book: str,
    communities: tuple[str, ...] = (),
    lifetime: timedelta = timedelta(hours=12),
) -> str:
    """A signed bearer token (what ``timebank token`` prints)."""
    chosen = Role(role)
    if book == "*" and chosen is Role.MEMBER:
        raise ValueError("a member's token is for one book")
    auth = jwt_auth(secret, lifetime)
    extras = {"role": chosen.value, "book": book, "communities": list(communities)}
    return auth.create_token(identifier=subject, token_extras=extras)


def can_see(principal: Principal, book: BankBook, member: Member) -> bool:
    """Whether the caller may see this member's accounts and records."""
    role = principal.role
    if role in (Role.ADMIN, Role.INTEGRATION):
        return True
    if role is Role.COORDINATOR:
        return member.community in principal.communities
    if principal.subject == member.member_id:
        return True
    return any(p.proxy_id == principal.subject and p.active for p in book.proxies(member.member_id))


def see_member(principal: Principal, book: BankBook, member_id: str) -> Member:
    """The member, if the caller may see them; otherwise, as for a stranger, not found."""
    member = book.member(member_id)
    if not can_see(principal, book, member):
        raise MemberNotFound(member_id=str(member_id)[:128])
    return member
