"""Business time: the one clock every rule of the gateway reads.

When a message was received, when an answer is due, when a lockout or a link runs
out, which day 「明日」 names: each comes from ``now()`` here, never from
``datetime.now()``, ``date.today()`` or ``time.time()`` elsewhere. Tests freeze this
clock and move it (``freeze``), so a 48-hour timer is tested in no time and no test
depends on the day it runs. Wall-clock timing for metrics, timeouts and back-off
sleeps (``time.monotonic()``) is not business time and does not come from here.

Business days are Japanese days: ``today()`` and ``day_of()`` are dates in
Asia/Tokyo, so 2027-01-01 00:30 JST is 2027-01-01 while UTC still says 2026-12-31.

Dates partners write are read against the day the partner wrote: ``written_on()``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from parsers.dates import TOKYO

__all__ = ["TOKYO", "FrozenClock", "day_of", "freeze", "now", "today", "wall_now", "written_on"]

# A Date header further than this from the moment we received the mail is not believed.
HEADER_DATE_TRUSTED = timedelta(days=7)
# Senders' clocks run a little fast; a Date header this far after receipt is still believed.
HEADER_DATE_AHEAD = timedelta(hours=1)


def _shift() -> timedelta:
    # A gateway can live at another moment than its machine's (a training or replay gateway; the e2e tests pin
    # a gateway's day with it). Its processes inherit the same shift, so they agree on the time.
    text = os.environ.get("TORII_CLOCK_SHIFT") or "0"
    try:
        return timedelta(seconds=float(text))
    except ValueError as exc:
        raise ValueError(f"TORII_CLOCK_SHIFT must be a number of seconds, not {text!r}") from exc


_SHIFT = _shift()


def _system() -> datetime:
    return datetime.now(UTC) + _SHIFT


_source: Callable[[], datetime] = _system


def now() -> datetime:
    """The current moment of business time: an aware datetime in UTC."""
    return _source()


def wall_now() -> datetime:
    """The machine's own moment, never shifted or frozen: for what other machines check against theirs
    (a webhook's signed timestamp, which receivers compare with their clock to refuse replays)."""
    return datetime.now(UTC)


def day_of(moment: datetime) -> date:
    """The Japanese calendar day of ``moment`` (an aware datetime)."""
    return moment.astimezone(TOKYO).date()


def today() -> date:
    """Today in Japan."""
    return day_of(now())


def written_on(received_at: datetime, header_date: datetime | None = None) -> date:
    """The day, in Japan, a partner wrote a message, to read its dates (明日, 12/1) against.

    A mail says when it was written in its Date header; it is believed when it is aware and
    within a week before receipt (or an hour after: senders' clocks drift), because a mail can
    wait in a mailbox before it is fetched. Otherwise, and for a fax, the moment it reached us.
    """
    if header_date is not None and header_date.tzinfo is not None \
            and received_at - HEADER_DATE_TRUSTED <= header_date <= received_at + HEADER_DATE_AHEAD:
        return day_of(header_date)
    return day_of(received_at)


class FrozenClock:
    """A clock that stands still until it is moved: the clock of tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen clock needs an aware datetime")
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def move(self, delta: timedelta | None = None, /, **parts: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)`` (``move(hours=49)``); the new moment."""
        self.at += delta if delta is not None else timedelta(**parts)
        return self.at

    def set(self, at: datetime) -> datetime:
        """Jump to ``at`` (an aware datetime), forward or back."""
        self.at = FrozenClock(at).at
        return self.at


@contextmanager
def freeze(at: datetime | None = None) -> Iterator[FrozenClock]:
    """Business time stands at ``at`` (default: the system's now) until the block ends, unless moved."""
    global _source
    frozen = FrozenClock(at if at is not None else _system())
    previous, _source = _source, frozen
    try:
        yield frozen
    finally:
        _source = previous
