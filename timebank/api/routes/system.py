"""Health and readiness: unauthenticated, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import HTTPException
from msgspec import Struct

from timebank.api.deps import bank_of

__all__ = ["health", "ready"]


class Health(Struct, frozen=True, kw_only=True):
    status: str


@get("/health", tags=["system"], summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@get("/ready", tags=["system"], summary="The process can reach its database", sync_to_thread=True)
def ready(request: Request[Any, Any, Any]) -> Health:
    try:
        bank_of(request).book_ids()
    except Exception as error:  # any failure to reach the store means not ready
        raise HTTPException(status_code=503, detail="the database is unavailable") from error
    return Health(status="ready")
