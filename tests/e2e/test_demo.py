from __future__ import annotations

import re
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
    assert "Demo finished: every invitation, order and registration ended as expected." in out
    assert "rejection_notice" in out and "already_approved" in out
    assert "→ ignored" in out and "→ review" in out and "→ unmatched" in out
    assert "→ processed approve applied from the fax-back form" in out
    assert "suppliers.utf8.csv     utf-8  3 created" in out and "products.cp932.csv     cp932  6 created" in out
    assert "→ processed partial applied" in out
    assert "→ processed confirm applied from the faxed-back order sheet" in out
    assert "order_confirmation" in out
    # Registrations (manual 001): issued on approval, refused for a free-mail administrator, existing.
    issued = re.search(r"REG-\d+ +株式会社ミドリ食品 \w{6} +issued +(C\d{6}) +ok", out)
    assert issued, out
    assert re.search(r"REG-\d+ +Hatake Farm \w{6} Co\., Ltd\. +requested +- +ok", out)
    assert re.search(rf"REG-\d+ +ミドリ食品 \w{{6}}\(株\) +existing +{issued.group(1)} +ok", out)
    assert f"account ID {issued.group(1)}-001" in out
    assert re.search(r"REG-\d+ +信州りんご園\w{6}合同会社 +issued +C\d{6} +ok", out)  # approved by fax
    # applied by fax on the blank form: in review until the operator confirms, then approved and issued
    assert "(the application form, filled in and faxed) → review    registration application by fax" in out
    assert re.search(r"operator confirms /messages/\d+/application: \d+ of 12 fields read as written.* → HTTP 303", out)
    assert re.search(r"REG-\d+ +安曇野わさび\w{6}合同会社 +issued +C\d{6} +ok", out)
    assert re.search(r"application\.free-mail\.en\.eml +→ refused +IDs and passwords are not sent to free-mail", out)
    assert re.search(r"registration_fix to \S+: IDs and passwords are not sent to free-mail addresses "
                     r"\(gmail\.com\)", out)
    assert re.search(r"registration_existing to \S+: C\d{6}, ID管理者 緑川 花子 mi\*\*\*@midori-foods\.example", out)
    assert re.search(r"\[sent\] registration_complete +to midorikawa-\w{6}@midori-foods\.example +"
                     r"【Torii】会員登録完了のお知らせ", out)
