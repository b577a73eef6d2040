from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO, gateway_env, private_database

pytestmark = pytest.mark.slow


def test_demo_plays_every_sample_and_ends_as_expected(tmp_path: Path) -> None:
    with private_database(tmp_path) as db_url:
        env = gateway_env(tmp_path, db_url, None)
        done = subprocess.run([sys.executable, "-m", "samples.demo"], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Demo finished: every invitation and order ended as expected." in out
    assert "rejection_notice" in out and "already_approved" in out
    assert "→ ignored" in out and "→ review" in out and "→ unmatched" in out
    assert "→ processed approve applied from the fax-back form" in out
    assert "suppliers.utf8.csv     utf-8  3 created" in out and "products.cp932.csv     cp932  6 created" in out
    assert "→ processed partial applied" in out
    assert "→ processed confirm applied from the faxed-back order sheet" in out
    assert "order_confirmation" in out
