"""Group commit: concurrent units of work on one book share one database transaction.

Writers of one book take turns anyway (the book's row is their lock, see
decision 0008), so a second writer that arrives while the first is inside its
transaction can only wait. Instead of each waiting writer then paying for its
own ``BEGIN``, head lock and ``COMMIT`` in turn, the writers queued behind a
running unit are taken together: one of them (the *leader*) opens one
transaction and runs every queued unit in arrival order, each inside a
savepoint of its own, then commits once.

- A unit whose work raises rolls back to its savepoint alone; the others keep
  their writes, and its caller gets its own exception.
- Each unit reads the book's head after the previous one's writes, so the hash
  chain stays one chain, in the order the units ran.
- A database error inside the group (or at its commit) that is worth another
  attempt runs the whole group again, as a single unit would be; any other
  database error, or attempts used up, runs every unit of the group again on
  its own, so each caller gets the outcome of its own work and a faulty unit
  cannot take innocent ones down with it. A connection lost during the
  group's ``COMMIT`` leaves every unit of it unsure, so each raises
  ``CommitOutcomeUnknown``, as a single unit would.
- A writer alone in the queue runs exactly as before, with no savepoint.

Each unit runs on the leader's thread in a copy of its caller's
``contextvars`` context, so context variables set by the caller are seen.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

__all__ = ["GROUP_MAX", "Group", "Ticket"]

T = TypeVar("T")

GROUP_MAX: Final = 32
"""Most units in one shared transaction (PostgreSQL keeps 64 subtransactions cheaply)."""

_leading = threading.local()


@dataclass(slots=True, eq=False)
class Ticket(Generic[T]):
    """One caller's unit of work, waiting for its turn and then for its outcome."""

    work: Callable[..., T]
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    wake: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    result: Any = None
    error: BaseException | None = None

    def succeed(self, result: Any) -> None:
        self.result = result
        self.error = None
        self.finished = True

    def fail(self, error: BaseException) -> None:
        self.result = None
        self.error = error
        self.finished = True

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[no-any-return]


class Group:
    """The queue of one book's writers in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Ticket[Any]] = []
        self._running = False

    def submit(self, ticket: Ticket[T], run: Callable[[list[Ticket[Any]]], None]) -> T:
        """Queue ``ticket``; when the turn comes, ``run`` settles a list of tickets it heads.

        ``run`` must settle every ticket it is given (``succeed`` or ``fail``).
        """
        if getattr(_leading, "active", False):
            # A unit of work that starts another one (for another book) from inside a
            # group: run it here and now, as it would have run without groups.
            run([ticket])
            return ticket.outcome()
        with self._lock:
            self._queue.append(ticket)
            lead = not self._running
            self._running = True
        if not lead:
            ticket.wake.wait()
            if ticket.finished:
                return ticket.outcome()
            # Handed the lead: ticket heads the queue now.
        self._lead(run)
        return ticket.outcome()

    def _lead(self, run: Callable[[list[Ticket[Any]]], None]) -> None:
        with self._lock:
            batch = self._queue[:GROUP_MAX]
            del self._queue[:GROUP_MAX]
        _leading.active = True
        try:
            run(batch)
        except BaseException as error:
            for ticket in batch:
                if not ticket.finished:
                    ticket.fail(error)
            raise
        finally:
            _leading.active = False
            with self._lock:
                if self._queue:
                    successor: Ticket[Any] | None = self._queue[0]
                else:
                    successor = None
                    self._running = False
            for ticket in batch:
                if not ticket.finished:
                    ticket.fail(RuntimeError("a unit of work of a group was left without outcome"))
                ticket.wake.set()
            if successor is not None:
                successor.wake.set()
