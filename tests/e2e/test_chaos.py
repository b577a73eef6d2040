"""Chaos in small: a few hundred replies, bounces and faxed orders over SMTP while the intake, the inbound worker
and the delivery worker are killed with SIGKILL and Redis is restarted empty (and, with DATABASE_URL set, a
private PostgreSQL cluster crashed and restarted): nothing acknowledged is lost or left undone, nothing is
processed twice, nothing is sent twice. ``bench/chaos.py`` is the same with thousands of messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.chaos import ChaosConfig, run_chaos

pytestmark = pytest.mark.slow


@pytest.mark.timeout(400)
def test_killing_every_part_while_mail_arrives_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    config = ChaosConfig(messages=150, clients=3, faults=5 if postgres else 4, postgres=postgres, seed=7,
                         drain_timeout=150, sweep_interval=1.0, sweep_grace=6.0)
    report = run_chaos(config, tmp_path)
    summary = "\n".join(report.lines())
    assert report.acknowledged == report.sent == 150, summary
    assert sum(report.faults.values()) == config.faults and len(report.faults) == config.faults, summary
    assert report.refused == 0, summary
    assert report.lost == 0 and report.unprocessed == 0, summary
    assert report.twice == 0, summary
    assert report.duplicate_outbound == 0, summary
    assert report.wrong == 0, summary
