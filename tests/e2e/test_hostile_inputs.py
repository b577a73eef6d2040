"""Hostile input and failing parts, through a real gateway: every message ends with a reason, none stays ``received``,
the workers stay up and take the next one; intake answers 451 when it cannot commit, and 250 again once it can.

The files are made as the tests run (``samples.hostile``). Tests that kill or starve parts run a gateway of their own.
"""

from __future__ import annotations

import os
import random
import re
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from harness import REPO, GatewayProcess, gateway_env, private_database, wait_for
from samples import hostile

pytestmark = pytest.mark.slow

DOMAIN = "torii.test"


def ingest(gw: GatewayProcess, path: Path) -> int:
    """``torii ingest FILE`` on the gateway's database and Redis, as a user runs it; the inbound id."""
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "ingest", str(path), "--fax-from", "03-5555-0101"],
                          env=gw.env, cwd=REPO, capture_output=True, timeout=120, check=True)
    found = re.search(rb"inbound (\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    return int(found.group(1))


def processed(gw: GatewayProcess, inbound_id: int, timeout: float) -> dict[str, Any]:
    return wait_for(lambda: (m := gw.api("GET", f"/api/messages/{inbound_id}"))["status"] != "received" and m,
                    timeout, 0.2, f"message {inbound_id} to get a reason")


def faxed_back_form(gw: GatewayProcess, invitation_id: int, answer: str = "approve") -> bytes:
    """The invitation's letter, ticked, signed and faxed back (``samples.faxsim``), as the fax service mails it."""
    from samples import faxsim
    from workflows.letters import faxback_geometry

    rng = random.Random(invitation_id)
    page = faxsim.rasterize(gw.http.get(f"/api/invitations/{invitation_id}/letter").content, 200)
    page = faxsim.write_name(faxsim.mark(page, faxback_geometry(), answer, "tick", rng), faxback_geometry(), "田中",
                             rng)
    return faxsim.to_pdf([faxsim.degrade(page, resolution="normal", skew_deg=-0.8, noise=0.3,
                                         upside_down=False, rng=rng)])


def send_fax(gw: GatewayProcess, data: bytes, filename: str, content_type: str, to: str) -> str:
    message_id = f"{uuid.uuid4().hex}@fax.example.net"
    gw.send(hostile.fax_mail(data, filename, content_type, to=to, message_id=message_id), rcpt=to,
            mail_from="fax-service@fax.example.net")
    return message_id


# -- the bomb from the bug report, and a good fax after it ----------------------------------------


def test_the_gibibyte_pdf_given_to_torii_ingest_gets_its_reason_and_a_good_fax_after_it_is_read(
        gw: GatewayProcess, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(hostile.bomb_pdf(hostile.GiB))
    started = time.monotonic()

    message = processed(gw, ingest(gw, bomb), timeout=60)

    assert time.monotonic() - started < 60
    assert (message["status"], message["reason"]) == ("review",
                                                      "too large: PDF page 1 content inflates past 64 MiB (bomb.pdf)")
    inv = gw.invite(channel="fax", partner={"company": "有限会社さくら青果", "name": "田中 一郎",
                                            "email": f"tanaka-{uuid.uuid4().hex[:8]}@sakura.example",
                                            "fax": "03-1234-5678"})
    gw.wait_state(inv["id"], "sent")
    good = gw.wait_message(send_fax(gw, faxed_back_form(gw, inv["id"]), "fax.pdf", "application/pdf",
                                    f"fax@{DOMAIN}"), timeout=90)
    assert good["status"] == "processed", good
    assert gw.invitation(inv["id"])["state"] == "approved"


# -- every other hostile input gets its reason ----------------------------------------------------


MAILS = [
    (lambda mid: hostile.many_parts_mail(5000, to=f"someone@{DOMAIN}", message_id=mid),
     r"too large: more than 2000 MIME parts"),
    (lambda mid: hostile.deep_mail(5000, to=f"someone@{DOMAIN}", message_id=mid),
     r"too large: MIME nesting deeper than 30 levels"),
    (lambda mid: hostile.huge_header_mail(hostile.MiB, to=f"someone@{DOMAIN}", message_id=mid),
     r"too large: the header is \d+ KiB \(at most 256 KiB\)"),
]
FAXES = [
    (hostile.encrypted_pdf, "fax.pdf", "application/pdf", f"fax@{DOMAIN}",
     r"fax: fax\.pdf: unparseable: encrypted PDF.*"),
    (hostile.huge_tiff, "fax.tiff", "image/tiff", f"fax-orders@{DOMAIN}",
     r"too large: the image claims 1,000,000 Mpx \(fax\.tiff\)"),
    (hostile.image_bomb_pdf, "fax.pdf", "application/pdf", f"fax-orders@{DOMAIN}",
     r"too large: page 1 embeds an image of 100000×100000 pixels \(at most 100 Mpx\) \(fax\.pdf\)"),
    (lambda: hostile.many_pages_pdf(60), "fax.pdf", "application/pdf", f"fax@{DOMAIN}",
     r"too large: 60 pages \(at most 50\) \(fax\.pdf\)"),
    (lambda: hostile.bomb_pdf(hostile.GiB, twice=True), "fax.pdf", "application/pdf", f"fax@{DOMAIN}",
     r"too large: PDF page 1 content inflates past 64 MiB \(fax\.pdf\)"),
]


@pytest.mark.parametrize(("make", "reason"), MAILS, ids=["5000-parts", "5000-deep", "1-MiB-header"])
def test_a_hostile_mail_gets_its_reason(gw: GatewayProcess, make: Any, reason: str) -> None:
    message_id = f"{uuid.uuid4().hex}@partner.example"
    gw.send(make(message_id), rcpt=f"someone@{DOMAIN}", mail_from="partner@partner.example")

    message = gw.wait_message(message_id, timeout=60)

    assert message["status"] == "review" and re.fullmatch(reason, message["reason"]), message


@pytest.mark.parametrize(("make", "filename", "ctype", "to", "reason"), FAXES,
                         ids=["encrypted-pdf", "absurd-tiff", "image-bomb", "60-pages", "bomb-deflated-twice"])
def test_a_hostile_fax_gets_its_reason(gw: GatewayProcess, make: Any, filename: str, ctype: str, to: str,
                                       reason: str) -> None:
    message = gw.wait_message(send_fax(gw, make(), filename, ctype, to), timeout=60)

    assert message["status"] == "review" and re.fullmatch(reason, message["reason"]), message


# -- a worker that dies in the middle of a message ------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def worker_pid(gw: GatewayProcess) -> int:
    assert gw.process is not None
    workers = [p for p in children(gw.process.pid)
               if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")]
    assert len(workers) == 1, workers
    return workers[0]


def test_a_message_that_kills_its_worker_every_time_is_failed_after_the_attempts_and_the_next_is_read(
        tmp_path: Path, redis_url: str) -> None:
    with private_database(tmp_path) as db_url:
        # A PDF that keeps its reader busy long enough to kill the worker in the middle of it, every time.
        env = gateway_env(tmp_path, db_url, redis_url, TORII_WORKER_PROCESSES="1", TORII_WORKER_THREADS="2",
                          TORII_MAX_PDF_SECONDS="600", TORII_MAX_READING_SECONDS="900",
                          TORII_INBOUND_MAX_ATTEMPTS="3")
        gw = GatewayProcess(tmp_path, env).start()
        try:
            message_id = send_fax(gw, hostile.slow_pdf(16 * hostile.MiB), "slow.pdf", "application/pdf",
                                  f"fax@{DOMAIN}")
            inbound_id = wait_for(lambda: gw.message(message_id), 30, 0.1, "the message to be stored")["id"]
            for attempt in (1, 2, 3):
                wait_for(lambda n=attempt: gw.api("GET", f"/api/messages/{inbound_id}")["attempts"] == n, 60, 0.1,
                         f"attempt {attempt} to begin")
                worker = worker_pid(gw)
                readers = children(worker)  # its fork server of PDF readers
                os.kill(worker, signal.SIGKILL)
                wait_for(lambda w=worker: not Path(f"/proc/{w}").exists() or b"Z" in Path(f"/proc/{w}/stat")
                         .read_bytes().split(b")")[1][:3], 10, 0.1, "the worker to die")
                assert gw.api("GET", f"/api/messages/{inbound_id}")["status"] == "received"
                # What it was reading dies with it: nothing is left holding memory.
                wait_for(lambda r=readers: not any(Path(f"/proc/{p}").exists() for p in r), 10, 0.1,
                         "the killed worker's PDF readers to end")

            message = processed(gw, inbound_id, timeout=90)

            assert (message["status"], message["reason"]) == ("failed", "worker died 3 times while processing it")
            assert message["attempts"] == 3
            following = f"{uuid.uuid4().hex}@partner.example"
            gw.send(hostile.many_parts_mail(3, to=f"someone@{DOMAIN}", message_id=following),
                    rcpt=f"someone@{DOMAIN}", mail_from="partner@partner.example")
            assert gw.wait_message(following, timeout=60)["status"] == "unmatched"
            time.sleep(4)  # a sweep or two (every second, grace 3 s): the failed message is left alone
            assert gw.api("GET", f"/api/messages/{inbound_id}")["attempts"] == 3
        finally:
            assert gw.stop() == 0, gw.log_tail()


# -- intake that cannot commit answers 451, and recovers by itself --------------------------------


def a_mail(n: int, body: str = "本文") -> tuple[str, bytes]:
    message = EmailMessage()
    message["From"] = "partner@partner.example"
    message["To"] = f"someone@{DOMAIN}"
    message["Subject"] = f"held back {n}"
    message["Message-ID"] = f"<held-{n}-{uuid.uuid4().hex[:6]}@partner.example>"
    message.set_content(body)
    return message["Message-ID"].strip("<>"), message.as_bytes()


def delivery(gw: GatewayProcess, raw: bytes) -> tuple[int, float]:
    started = time.monotonic()
    try:
        reply = gw.send(raw, rcpt=f"someone@{DOMAIN}", mail_from="partner@partner.example")
        return int(reply.split()[0]), time.monotonic() - started
    except smtplib.SMTPDataError as refused:
        return refused.smtp_code, time.monotonic() - started


@contextmanager
def intake_gateway(tmp_path: Path, redis_url: str, database_url: str) -> Iterator[GatewayProcess]:
    env = gateway_env(tmp_path / "home", database_url, redis_url, TORII_WORKER_PROCESSES="0",
                      TORII_INTAKE_PATIENCE="2")
    gw = GatewayProcess(tmp_path / "home", env).start()
    try:
        yield gw
    finally:
        assert gw.stop() == 0, gw.log_tail()


def test_intake_answers_451_while_the_database_is_locked_and_250_once_it_is_free(tmp_path: Path,
                                                                                 redis_url: str) -> None:
    database = tmp_path / "torii.sqlite3"
    with intake_gateway(tmp_path, redis_url, f"sqlite:///{database}") as gw:
        lock = sqlite3.connect(database, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")  # another program holds the database, for longer than intake will wait
        try:
            held_back = [a_mail(n) for n in range(3)]
            for _, raw in held_back:
                code, seconds = delivery(gw, raw)
                assert code == 451 and seconds < 10
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        for message_id, raw in held_back:  # the clients try again, as 451 told them to
            assert delivery(gw, raw)[0] == 250
            assert len(gw.api("GET", "/api/messages", params={"message_id": message_id})) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs (a disk that fills up) needs root")
def test_intake_answers_451_when_the_disk_is_full_and_250_once_there_is_room(tmp_path: Path, redis_url: str) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("no tmpfs can be mounted here")
    try:
        with intake_gateway(tmp_path, redis_url, f"sqlite:///{disk / 'torii.sqlite3'}") as gw:
            filler = disk / "filler"
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            filler.write_bytes(b"\0" * (free - 64 * 1024))  # what is left is less than the next message
            big = [a_mail(n, "あ" * 100_000) for n in range(2)]
            assert delivery(gw, big[0][1])[0] == 451
            filler.unlink()  # room again
            for message_id, raw in big:
                assert delivery(gw, raw)[0] == 250
                assert len(gw.api("GET", "/api/messages", params={"message_id": message_id})) == 1
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
