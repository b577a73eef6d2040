"""``./torii demo`` (``python -m samples.demo [--keep]``): the gateway started, a partner conversation played
through it over real SMTP.

Creates an issuer's invitations for the partners in samples/partners.json, waits
for the invitation mails to leave, then delivers the replies in samples/replies/
(their placeholders filled with each invitation's live reply address and
Message-ID) and prints where every invitation ended and what mail went out.
Orders follow (``play_orders``), then registrations for company IDs with the
mails in samples/registration/ (``samples.demo_registration``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import smtplib
import sys
import time
import unicodedata
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from gateway.cli import StopSignal, configure_logging, gateway, imap_mailboxes
from samples import faxsim
from workflows import accounts, api_tokens, clock
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.models import Operator

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# Placeholders in samples/replies/*.eml (see samples/compose.py).
PLACEHOLDERS = ("__REPLY_TO__", "__IN_REPLY_TO__", "__PARTNER__", "__MESSAGE_ID__")


def fill_sample(raw: bytes, *, reply_to: str, in_reply_to: str, partner: str, message_id: str) -> bytes:
    """A sample reply made live: its placeholders filled, and dated now, as if just written."""
    for key, value in zip(PLACEHOLDERS, (reply_to, in_reply_to, partner, message_id), strict=True):
        raw = raw.replace(key.encode(), value.encode())
    return re.sub(rb"(?m)^Date: [^\r\n]*", b"Date: " + format_datetime(clock.now()).encode(), raw, count=1)


def pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where a CJK character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - columns)


def fax_delivery(pdf: bytes, message_id: str, domain: str) -> bytes:
    """A received fax as a fax-to-email service delivers it: the pages as a PDF attachment."""
    msg = EmailMessage()
    msg["From"] = "fax-service@fax.example.net"
    msg["To"] = f"fax@{domain}"
    msg["Subject"] = "FAX受信 from 0111234567 (1 page)"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("FAXを受信しました。")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="fax.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def returned_fax_mail(letter: bytes, answer: str, name: str, message_id: str, domain: str) -> bytes:
    """The letter as the partner faxes it back: ticked, signed, degraded, mailed by a fax-to-email service."""
    # samples/ is the project's toolbox, not part of the installed package.
    sys.path.insert(0, str(SAMPLES.parent))
    from workflows.letters import faxback_geometry

    rng = random.Random(7)
    geometry = faxback_geometry()
    page = faxsim.mark(faxsim.rasterize(letter, 200), geometry, answer, "circle", rng)
    page = faxsim.write_name(page, geometry, name, rng)
    fax = faxsim.degrade(page, resolution="normal", skew_deg=1.8, noise=0.5, upside_down=False, rng=rng)
    return fax_delivery(faxsim.to_pdf([fax]), message_id, domain)


def _wait(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError("the gateway did not finish in time")


def demo_access(settings: Settings) -> tuple[str, str]:
    """(an API token for the demo's own calls, a fresh password for the console's ``demo`` admin)."""
    password = secrets.token_urlsafe(12)
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            operator = session.scalars(select(Operator).where(Operator.name == "demo")).first()
            if operator is None:
                accounts.add_operator(session, "demo", password, "admin")
            else:
                accounts.set_password(session, operator, password)
            return api_tokens.issue_token(session, f"demo-{uuid.uuid4().hex[:6]}", "admin")[1], password
    finally:
        db.dispose()


def run_demo(settings: Settings) -> bool:
    token, password = demo_access(settings)
    api = httpx.Client(base_url=f"http://{settings.http_host}:{settings.http_port}", timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    cast = json.loads((SAMPLES / "partners.json").read_text(encoding="utf-8"))
    manifest = json.loads((SAMPLES / "replies" / "manifest.json").read_text(encoding="utf-8"))
    run = uuid.uuid4().hex[:6]

    print(f"\n== 1. {cast['issuer']['company']} invites {len(cast['partners'])} partners (POST /api/invitations)")
    invitations: dict[str, dict[str, Any]] = {}
    for key, partner in cast["partners"].items():
        body = {
            "issuer": cast["issuer"],
            "partner": {"company": partner["company"], "name": partner["name"],
                        "email": f"{key}-{run}@{key}.example"},
            "language": partner["language"],
            "approval_required": partner.get("approval_required", True),
            "comment": "いつもお世話になっております。請求書の電子化のため、ご招待いたします。",
        }
        inv = api.post("/api/invitations", json=body).raise_for_status().json()
        invitations[key] = inv
        print(f"   INV-{inv['id']:<4} {pad(partner['company'], 28)} state={inv['state']:<9} reply to {inv['reply_to']}")

    def sent_mail(inv: dict[str, Any]) -> dict[str, Any] | None:
        mails = api.get("/api/outbox", params={"object_type": "invitation", "object_id": inv["id"]}).json()
        return next((m for m in mails if m["kind"] == "invitation" and m["status"] == "sent"), None)

    originals = {key: _wait(lambda inv=inv: sent_mail(inv)) for key, inv in invitations.items()}
    print(f"\n== 2. Invitation mails sent (captured in {settings.spool_dir / 'mail'})")

    print("\n== 3. Partners reply from their own mail clients (SMTP to "
          f"{settings.smtp_host}:{settings.smtp_port})")
    played = []
    for item in manifest:
        inv = invitations[item["partner"]]
        message_id = f"{uuid.uuid4().hex}@{item['partner']}.example"
        raw = fill_sample((SAMPLES / "replies" / item["file"]).read_bytes(), reply_to=inv["reply_to"],
                          in_reply_to=originals[item["partner"]]["message_id"],
                          partner=inv["partner"]["email"], message_id=message_id)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            smtp.sendmail(inv["partner"]["email"], [inv["reply_to"]], raw)

        def processed(mid: str = message_id) -> dict[str, Any] | None:
            found = api.get("/api/messages", params={"message_id": mid}).json()
            return found[0] if found and found[0]["status"] != "received" else None

        message = _wait(processed)
        played.append((item, message))
        print(f"   {item['file']:<42} → {message['status']:<9} {message['reason'] or ''}")

    stranger = (b"From: someone@guess.example\r\nTo: reply+aaaaaaaaaaaaaaaaaaaaaaaa@" + settings.mail_domain.encode()
                + b"\r\nSubject: Re: invitation\r\nMessage-ID: <" + f"{run}@guess.example".encode()
                + b">\r\n\r\nApprove\r\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        smtp.sendmail("someone@guess.example", [f"reply+aaaaaaaaaaaaaaaaaaaaaaaa@{settings.mail_domain}"], stranger)
    forged = _processed(api, f"{run}@guess.example")
    print(f"   {'(a guessed reply token)':<42} → {forged['status']:<9} {forged['reason']}")

    print("\n== 3b. A partner without email gets a FAX letter, ticks 済, and faxes the page back")
    fax_inv = api.post("/api/invitations", json={
        "issuer": cast["issuer"], "channel": "fax", "language": "ja",
        "partner": {"company": "北海食品株式会社", "name": "渡辺 健", "fax": "011-123-4567"},
        "comment": "いつもお世話になっております。",
    }).raise_for_status().json()
    _wait(lambda: api.get(f"/api/invitations/{fax_inv['id']}").json()["state"] == "sent")
    print(f"   INV-{fax_inv['id']:<4} letter faxed to {fax_inv['fax_number']} (PDF in {settings.spool_dir / 'fax'})")
    letter = api.get(f"/api/invitations/{fax_inv['id']}/letter").content
    fax_message_id = f"{run}@fax.example.net"
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        smtp.sendmail("fax-service@fax.example.net", [f"fax@{settings.mail_domain}"],
                      returned_fax_mail(letter, "approve", "渡辺", fax_message_id, settings.mail_domain))
    faxed = _processed(api, fax_message_id, timeout=90)
    print(f"   {'(the faxed-back page, skewed and noisy)':<42} → {faxed['status']:<9} {faxed['reason']}")
    invitations["hokkai"] = fax_inv

    ok, order_ids = play_orders(api, settings, run)
    # Imported here: samples.demo_registration plays with this module's helpers.
    from samples.demo_registration import play_registrations

    registered, registration_ids = play_registrations(api, settings, run, password)
    ok &= registered

    print("\n== 6. Where every invitation ended")
    final = {key: api.get(f"/api/invitations/{inv['id']}").json() for key, inv in invitations.items()}
    expected = {item["partner"]: item["expect_state"] for item in manifest} | {"hokkai": "approved"}
    for key, inv in final.items():
        want = expected.get(key, "approved")
        mark = "ok" if inv["state"] == want else f"EXPECTED {want}"
        ok &= inv["state"] == want
        print(f"   INV-{inv['id']:<4} {pad(inv['partner']['company'], 28)} {inv['state']:<9} "
              f"contact={inv['contact_person'] or '-':<12} {mark}")

    _wait(lambda: all(m["status"] == "sent" for m in api.get("/api/outbox").json()))
    print("\n== 7. Mail the gateway sent (GET /api/outbox)")
    ids = ({("invitation", inv["id"]) for inv in invitations.values()} | {("order", o) for o in order_ids}
           | {("registration", r) for r in registration_ids})
    sent = [mail for mail in api.get("/api/outbox").json() if (mail["object"]["type"], mail["object"]["id"]) in ids]
    kind_width, to_width = (max((len(mail[key]) for mail in sent), default=0) for key in ("kind", "to"))
    for mail in sent:
        print(f"   [{mail['status']}] {mail['kind']:<{kind_width}} to {mail['to']:<{to_width}} {mail['subject']}")

    review = api.get("/api/review").json()
    print(f"\n== 8. Review queue: {len(review)} message(s) wait for an operator "
          f"(console: http://{settings.http_host}:{settings.http_port}/, log in as demo / {password})")
    for message in review[-5:]:
        print(f"   #{message['id']} from {message['from']}: {message['reason']}")
    print("\nDemo " + ("finished: every invitation, order and registration ended as expected." if ok
                        else "FAILED: see above."))
    return ok


def _send(settings: Settings, mail_from: str, rcpt: str, raw: bytes) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        smtp.sendmail(mail_from, [rcpt], raw)


def _processed(api: httpx.Client, message_id: str, timeout: float = 30.0) -> dict[str, Any]:
    found: dict[str, Any] = _wait(lambda: (f := api.get("/api/messages", params={"message_id": message_id}).json())
                                  and f[0]["status"] != "received" and f[0], timeout)
    return found


def play_orders(api: httpx.Client, settings: Settings, run: str) -> tuple[bool, list[int]]:
    """A restaurant imports its suppliers and products from CSV, orders by mail and by fax, gets answers."""
    print("\n== 4. A buyer orders from suppliers off the platform (CSV import, POST /api/orders)")
    buyer = api.post("/api/buyers", json={
        "name": f"レストラン花子 {run}", "email": f"orders-{run}@hanako.example", "phone": "03-5555-0101",
        "delivery_addresses": [{"name": "本店", "postal_code": "150-0001", "address": "東京都渋谷区神宮前1-2-3"}],
    }).raise_for_status().json()
    for kind, name in (("suppliers", "suppliers.utf8.csv"), ("products", "products.cp932.csv")):
        result = api.post(f"/api/buyers/{buyer['id']}/import/{kind}", content=(SAMPLES / "csv" / name).read_bytes(),
                          headers={"Content-Type": "text/csv"}).raise_for_status().json()
        print(f"   {name:<22} {result['encoding']:<6} {result['created']} created")
    suppliers = {s["name"]: s for s in api.get(f"/api/buyers/{buyer['id']}").json()["suppliers"]}
    fish, greens = suppliers["丸魚水産株式会社"], suppliers["有限会社 八百新青果"]
    by_mail = api.post("/api/orders", json={
        "buyer_id": buyer["id"], "supplier_id": fish["id"], "orderer_name": "佐藤 花子",
        "lines": [{"product_name": "真鯛 (活〆)", "quantity": 2}, {"product_name": "マグロ 中トロ", "quantity": "1.5"}],
    }).raise_for_status().json()
    by_fax = api.post("/api/orders", json={
        "buyer_id": buyer["id"], "supplier_id": greens["id"], "orderer_name": "佐藤 花子", "note": "午前着希望",
        "lines": [{"product_name": "トマト (桃太郎)", "quantity": 5}, {"product_name": "キャベツ①", "quantity": 10}],
    }).raise_for_status().json()
    print(f"   {by_mail['number']} to {fish['name']} by mail; {by_fax['number']} to {greens['name']} by fax")

    def sheet_mail() -> dict[str, Any] | None:
        mails = api.get("/api/outbox", params={"object_type": "order", "object_id": by_mail["id"]}).json()
        return next((m for m in mails if m["kind"] == "order_sheet" and m["status"] == "sent"), None)

    sheet: dict[str, Any] = _wait(sheet_mail)
    message_id = f"{uuid.uuid4().hex}@marugyo-suisan.example"
    reply = EmailMessage()
    reply["From"] = fish["email"]
    reply["To"] = sheet["reply_to"]
    reply["Subject"] = "Re: " + sheet["subject"]
    reply["Message-ID"] = f"<{message_id}>"
    reply["In-Reply-To"] = f"<{sheet['message_id']}>"
    written = clock.now()
    reply["Date"] = format_datetime(written)
    # 明日 is the day after the mail was written, in Japan: read against its Date, whatever the day.
    tomorrow = clock.day_of(written) + timedelta(days=1)
    reply.set_content("いつもありがとうございます。\n真鯛は欠品です。マグロは承りました。明日お届けします。\n魚住",
                      charset="shift_jis")
    _send(settings, fish["email"], sheet["reply_to"], reply.as_bytes())
    answered = _processed(api, message_id)
    print(f"   {'(the fish supplier replies in Shift_JIS)':<42} → {answered['status']:<9} {answered['reason']}")
    faxed = play_order_fax(api, settings, run, by_fax)
    print(f"   {'(the greengrocer faxes the sheet back)':<42} → {faxed['status']:<9} {faxed['reason']}")

    ok = True
    for placed, want, want_day in ((by_mail, "partially_confirmed", tomorrow.isoformat()), (by_fax, "confirmed", None)):
        got = api.get(f"/api/orders/{placed['id']}").json()
        lines = ", ".join(f"{line['product_name']} {line['quantity']}→{line['confirmed_quantity']}"
                          for line in got["lines"])
        right = got["state"] == want and got["delivery_date"] == want_day
        mark = "ok" if right else f"EXPECTED {want}, delivery {want_day or '-'}"
        ok &= right
        print(f"   {got['number']} {got['state']:<20} delivery {got['delivery_date'] or '-':<10} {lines}  {mark}")
    return ok, [by_mail["id"], by_fax["id"]]


def play_order_fax(api: httpx.Client, settings: Settings, run: str, placed: dict[str, Any]) -> dict[str, Any]:
    """The greengrocer ticks 受注します on the faxed order sheet and faxes it back."""
    sys.path.insert(0, str(SAMPLES.parent))
    from workflows.order_documents.fax_forms import order_form_geometry

    _wait(lambda: api.get(f"/api/orders/{placed['id']}").json()["state"] == "sent")
    sheet = api.get(f"/api/orders/{placed['id']}/documents/order_sheet").content
    rng = random.Random(11)
    geometry = order_form_geometry()
    page = faxsim.mark(faxsim.rasterize(sheet, 200), geometry, "confirm", "tick", rng)
    fax = faxsim.degrade(page, resolution="normal", skew_deg=-1.2, noise=0.5, upside_down=False, rng=rng)
    message_id = f"{run}-order@fax.example.net"
    _send(settings, "fax-service@fax.example.net", f"fax@{settings.mail_domain}",
          fax_delivery(faxsim.to_pdf([fax]), message_id, settings.mail_domain))
    return _processed(api, message_id, timeout=90)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="torii demo", description="run the gateway and play a partner "
                                                                    "conversation through it")
    parser.add_argument("--keep", action="store_true", help="keep the gateway running after the demo")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    stop = StopSignal().install()
    settings = load_settings()
    imap_mailboxes(settings, "demo")
    with gateway(settings, workers=max(1, settings.worker_processes)) as running:
        ok = run_demo(running.settings)
        if args.keep:
            s = running.settings
            print(f"\nThe gateway keeps running: console http://{s.http_host}:{s.http_port}/ (Ctrl-C stops).")
            running.run_until(stop)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
