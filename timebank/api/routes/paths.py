"""The paths and query parameters the routes share."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

__all__ = ["BOOK", "BOOKS", "MEMBER", "Limit"]

BOOKS = "/books"
BOOK = BOOKS + "/{book_id:str}"
MEMBER = BOOK + "/members/{member_id:str}"

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size, 1 to 500.")]
