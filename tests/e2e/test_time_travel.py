"""The date-sensitive tests and the demo pass on days far from the samples', under libfaketime.

Every process of the run sees the faked day: pytest, the gateway, its workers (the private
redis-server alone runs on real time: see gateway/redisproc.py). The moments are chosen where
dates go wrong: the year end, when Japan is in the new year while UTC is not; a February end
and a leap day in the Japanese morning, when UTC is still on the day before; a day years away
from anything the samples were made on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO, gateway_env, private_database

# No skip when faketime is missing: `./torii test` installs it, and a skipped check would pass silently.
pytestmark = pytest.mark.slow

MOMENTS = ("2026-12-31 23:30:00 +0900", "2027-02-28 12:00:00 +0900", "2028-02-29 08:30:00 +0900",
           "2031-06-15 10:00:00 +0900")


def at(moment: str, *command: str, env: dict[str, str] | None = None,
       timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["faketime", moment, *command], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_date_sensitive_tests_pass_at(moment: str, tmp_path: Path) -> None:
    done = at(moment, sys.executable, "-m", "pytest", "-m", "dates", "-q", "-p", "no:cacheprovider",
              "--basetemp", str(tmp_path / "pytest"), "tests/parsers", "tests/workflows", timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.parametrize("moment", MOMENTS)
def test_the_demo_ends_as_expected_at(moment: str, tmp_path: Path) -> None:
    with private_database(tmp_path) as db_url:
        done = at(moment, sys.executable, "-m", "samples.demo", env=gateway_env(tmp_path, db_url, None),
                  timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "Demo finished: every invitation, order and registration ended as expected." in done.stdout
    year = moment[:4]
    assert f"PO-{year}-" in done.stdout  # order numbers carry the Japanese year of the faked day
