"""Benchmark: outbound mail through SmtpTransport to a local relay, in messages per second.

    .venv/bin/python bench/relay_out.py [--messages 2000] [--threads 1 4]

The relay is an aiosmtpd answering 250 at once, in a process of its own so that it
does not share our GIL. Each run sends the same invitation-sized Japanese mails,
with one kept-open connection per thread; with and without DKIM signing (dkimpy,
RSA 2048, relaxed/relaxed); and, for comparison, one connection per mail. The
relay counts the SMTP sessions it saw, so the reuse is visible in the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.synchronize
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from gateway.dkim import DkimSigner, public_txt_record, verify  # noqa: E402
from gateway.transports import Envelope, MessageSigner, SmtpRelay, SmtpTransport  # noqa: E402
from harness import free_port  # noqa: E402
from workflows.mail import RenderedMail, build_mime, new_message_id  # noqa: E402

DOMAIN = "torii.test"


class CountingRelay:
    def __init__(self, messages: Any, sessions: Any, keep: Any) -> None:
        self.messages = messages
        self.sessions = sessions
        self.keep = keep  # the first signed mail received, for a DKIM check after the runs

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        with self.sessions.get_lock():
            self.sessions.value += 1
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.messages.get_lock():
            self.messages.value += 1
        content = bytes(envelope.original_content)
        if content.startswith(b"DKIM-Signature:") and self.keep.empty():
            self.keep.put_nowait(content)
        return "250 2.0.0 queued"


def run_relay(port: int, messages: Any, sessions: Any, keep: Any, ready: multiprocessing.synchronize.Event,
              stop: multiprocessing.synchronize.Event) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(CountingRelay(messages, sessions, keep), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def make_mails(n: int) -> list[Envelope]:
    text = ("株式会社インフォ物産\n山田 太郎 様\n\n平素より大変お世話になっております。\n"
            "株式会社インフォ商会の鈴木でございます。\n\n"
            + "お取引先としてご招待申し上げます。内容をご確認ください。\n" * 20)
    html = "<p>" + text.replace("\n", "<br>") + "</p>"
    rendered = RenderedMail("【ご招待】株式会社インフォ商会からのお取引のご案内", text, html)
    mails = []
    for _ in range(n):
        message_id = new_message_id(DOMAIN)
        raw = build_mime(from_addr=f"reply+x@{DOMAIN}", from_name="株式会社インフォ商会", to_addr="p@partner.example",
                         to_name="山田 太郎", reply_to=f"reply+x@{DOMAIN}", message_id=message_id, rendered=rendered)
        mails.append(Envelope(f"bounce+{message_id.split('@')[0]}@{DOMAIN}", ("p@partner.example",), raw, message_id))
    return mails


def send_all(url: str, mails: list[Envelope], threads: int, signer: MessageSigner | None, reuse: bool) -> float:
    transport = SmtpTransport(SmtpRelay.from_url(url), signer)
    shares = [mails[i::threads] for i in range(threads)]
    errors: list[BaseException] = []

    def work(share: list[Envelope]) -> None:
        try:
            for envelope in share:
                transport.send(envelope)
                if not reuse:
                    transport._discard()  # this thread's connection only: the old one-connection-per-mail way
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    transport.close()
    if errors:
        raise errors[0]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    signer = DkimSigner(DOMAIN, "bench", pem)

    port = free_port()
    messages, sessions = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    keep: Any = multiprocessing.Queue()
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    relay = multiprocessing.Process(target=run_relay, args=(port, messages, sessions, keep, ready, stop), daemon=True)
    relay.start()
    ready.wait(30)
    url = f"smtp://127.0.0.1:{port}?timeout=30"
    mails = make_mails(args.messages)
    size = sum(len(m.raw) for m in mails) // len(mails)
    print(f"{args.messages} mails of ~{size} bytes to aiosmtpd on 127.0.0.1:{port} (separate process); "
          f"DKIM rsa-sha256 2048 bit", flush=True)
    print(f"{'threads':>7} {'dkim':>5} {'connection':>16} {'mails':>6} {'seconds':>8} {'mails/s':>8} {'sessions':>8}")
    runs = [(t, s, True) for t in args.threads for s in (None, signer)]
    runs.append((1, None, False))
    try:
        for threads, use_signer, reuse in runs:
            batch = mails if reuse else mails[: max(1, len(mails) // 4)]
            with messages.get_lock(), sessions.get_lock():
                messages.value = sessions.value = 0
            elapsed = send_all(url, batch, threads, use_signer, reuse)
            assert messages.value == len(batch), (messages.value, len(batch))
            how = "kept per thread" if reuse else "one per mail"
            print(f"{threads:>7} {'yes' if use_signer else 'no':>5} {how:>16} {len(batch):>6} {elapsed:>8.2f} "
                  f"{len(batch) / elapsed:>8.0f} {sessions.value:>8}", flush=True)
    finally:
        stop.set()
        relay.join(10)
    sample = keep.get(timeout=5)
    verified = verify(sample, {signer.record_name: public_txt_record(pem)})
    print("a signed mail as the relay received it verifies:", verified)


if __name__ == "__main__":
    main()
