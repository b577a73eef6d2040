"""The one clock: business time frozen and moved in tests, Japanese days, dates read against the day written."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from workflows import clock

pytestmark = pytest.mark.dates

REPO = Path(__file__).resolve().parents[2]
JST_NEW_YEAR = datetime(2027, 1, 1, 0, 30, tzinfo=clock.TOKYO)  # 2026-12-31 15:30 UTC


def test_the_business_day_is_the_day_in_japan_not_in_utc() -> None:
    assert JST_NEW_YEAR.astimezone(UTC).date().isoformat() == "2026-12-31"
    assert clock.day_of(JST_NEW_YEAR).isoformat() == "2027-01-01"
    with clock.freeze(JST_NEW_YEAR):
        assert clock.today().isoformat() == "2027-01-01"


def test_a_frozen_clock_stands_still_until_it_is_moved() -> None:
    with clock.freeze(datetime(2028, 2, 28, 23, 0, tzinfo=clock.TOKYO)) as frozen:
        first = clock.now()
        assert clock.now() == first and first.tzinfo is UTC
        frozen.move(hours=1)
        assert clock.today().isoformat() == "2028-02-29"  # a leap day
        frozen.move(timedelta(days=1))
        assert clock.today().isoformat() == "2028-03-01"
        frozen.set(datetime(2031, 6, 15, 9, 0, tzinfo=clock.TOKYO))
        assert clock.now() == datetime(2031, 6, 15, 0, 0, tzinfo=UTC)


def test_the_autouse_clock_is_frozen_in_every_test(frozen_clock: clock.FrozenClock) -> None:
    before = clock.now()
    frozen_clock.move(minutes=5)
    assert clock.now() - before == timedelta(minutes=5)


def test_a_frozen_clock_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="aware"):
        clock.FrozenClock(datetime(2027, 1, 1))


def test_a_mail_is_read_against_the_day_its_date_header_says_when_that_is_plausible() -> None:
    received = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # fetched from the mailbox after the holidays
    written = datetime(2026, 12, 31, 23, 30, tzinfo=clock.TOKYO)
    assert clock.written_on(received, written).isoformat() == "2026-12-31"
    assert clock.written_on(received, received + timedelta(minutes=30)) == clock.day_of(received)  # a fast clock


@pytest.mark.parametrize("header", [
    None,
    datetime(2026, 11, 21, 10, 30, tzinfo=UTC),  # weeks old: a resent or forged header
    datetime(2027, 1, 10, 0, 0, tzinfo=UTC),  # days ahead of receipt
    datetime(2027, 1, 4, 1, 0),  # naive: no zone, so no day
])
def test_a_date_header_that_cannot_be_believed_gives_way_to_the_moment_of_receipt(header: datetime | None) -> None:
    received = datetime(2027, 1, 3, 16, 0, tzinfo=UTC)  # 2027-01-04 01:00 in Japan
    assert clock.written_on(received, header).isoformat() == "2027-01-04"


# Business time comes from workflows/clock.py alone; wall-clock timing (monotonic, perf_counter) is fine.
FORBIDDEN = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
             ("time", "time"), ("time", "time_ns")}


def _clock_reads(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and (node.func.value.id, node.func.attr) in FORBIDDEN:
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.func.value.id}.{node.func.attr}()")
    return found


def test_no_module_reads_the_system_clock_but_the_clock() -> None:
    sources = [p for folder in ("gateway", "workflows", "parsers", "samples") for p in (REPO / folder).rglob("*.py")
               if p != REPO / "workflows" / "clock.py"]
    assert len(sources) > 50
    assert [read for path in sources for read in _clock_reads(path)] == []


def test_a_gateway_shifted_to_another_moment_lives_there() -> None:
    shift = datetime(2031, 6, 15, 1, 0, tzinfo=UTC).timestamp() - datetime.now(UTC).timestamp()
    done = subprocess.run([sys.executable, "-c", "from workflows import clock; print(clock.today())"], cwd=REPO,
                          env={**os.environ, "TORII_CLOCK_SHIFT": str(shift)}, capture_output=True, text=True)
    assert done.stdout.strip() == "2031-06-15", done.stderr
    refused = subprocess.run([sys.executable, "-c", "from workflows import clock"], cwd=REPO,
                             env={**os.environ, "TORII_CLOCK_SHIFT": "tomorrow"}, capture_output=True, text=True)
    assert refused.returncode != 0 and "TORII_CLOCK_SHIFT must be a number of seconds" in refused.stderr
