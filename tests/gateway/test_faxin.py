"""Fax-to-email deliveries: the sender's number from wherever the service puts it, and files wrapped as deliveries."""

from __future__ import annotations

import json
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.faxin import wrap_file
from parsers.fax_sender import GENERIC, BadFaxServices, fax_file_type, fax_sender, load_services
from parsers.mime.parse import parse_mail
from workflows.config import load_settings
from workflows.inbound.correlation import is_fax_order


def delivery(subject: str = "FAX received", *, sender: str = "fax@service.example",
             headers: dict[str, str] | None = None, filename: str = "fax.pdf",
             body: str = "You have a new fax.") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "fax-orders@torii.localhost"
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    message.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


@pytest.mark.parametrize(("raw", "number", "where"), [
    (delivery("FAX受信 送信元: 03-5555-0101 (2ページ)"), "+81355550101", "subject"),
    (delivery("Fax from +81 3 5555 0102, 1 page"), "+81355550102", "subject"),
    (delivery("ＦＡＸ受信　発信元：０３－５５５５－０１０３"), "+81355550103", "subject"),
    (delivery("New fax", headers={"X-Fax-From": "0355550104"}), "+81355550104", "header X-Fax-From"),
    (delivery("New fax", filename="fax_0355550105_20261121-0932.pdf"), "+81355550105", "filename"),
    (delivery("New fax", body="Caller ID: 045-555-0106\nPages: 2"), "+81455550106", "body"),
])
def test_the_generic_profile_finds_the_sender_number(raw: bytes, number: str, where: str) -> None:
    found = fax_sender(parse_mail(raw), (GENERIC,))
    assert (found.number, found.found_in, found.service) == (number, where, "generic")


def test_a_date_in_the_file_name_is_not_a_number() -> None:
    found = fax_sender(parse_mail(delivery("New fax", filename="fax_20261121093200.pdf")), (GENERIC,))
    assert found.number is None
    assert found.found_in == "no sender number in the delivery"


def test_a_service_profile_from_a_file_comes_first(tmp_path: Path) -> None:
    profiles = tmp_path / "services.json"
    profiles.write_text(json.dumps([{"name": "hikari", "from": r"@hikari\.example$",
                                     "sender": [{"in": "subject", "pattern": r"相手先番号\s*(\S+)"}]}]),
                        encoding="utf-8")
    services = load_services(profiles)
    # The subject's first number is the receiving line; only the profile knows which is the sender.
    raw = delivery("受信 0355559999 相手先番号 0355550107", sender="noreply@hikari.example")
    found = fax_sender(parse_mail(raw), services)
    assert (found.number, found.service) == ("+81355550107", "hikari")
    other = fax_sender(parse_mail(delivery("Fax from 0355550108")), services)
    assert (other.number, other.service) == ("+81355550108", "generic")


@pytest.mark.parametrize("content", ['{"name": "x"}', '[{"name": "x", "sender": [{"in": "subject"}]}]',
                                     '[{"name": "x", "sender": [{"in": "subject", "pattern": "(a)(b)"}]}]',
                                     '[{"name": "x", "sender": [{"in": "nowhere", "pattern": "(1)"}]}]', "not json"])
def test_a_bad_profiles_file_says_what_is_wrong(tmp_path: Path, content: str) -> None:
    profiles = tmp_path / "services.json"
    profiles.write_text(content, encoding="utf-8")
    with pytest.raises(BadFaxServices, match="services.json"):
        load_services(profiles)


def test_a_file_is_wrapped_as_a_delivery_to_the_order_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setenv("TORII_HOME", str(tmp_path))
    settings = load_settings()
    pdf = b"%PDF-1.4\n% a fax\n"
    raw = wrap_file(pdf, "/tmp/scan_0355550109.pdf", settings)
    mail = parse_mail(raw)
    assert is_fax_order([], mail, settings)
    assert [a.data for a in mail.attachments] == [pdf]
    assert fax_sender(mail, (GENERIC,)).number == "+81355550109"
    given = parse_mail(wrap_file(pdf, "scan.pdf", settings, sender_fax="03-5555-0110"))
    assert fax_sender(given, (GENERIC,)).number == "+81355550110"
    assert fax_file_type(b"II*\x00rest") == ("image", "tiff")
    assert fax_file_type(b"From: someone\n\nhello") is None
    assert not is_fax_order(["invite@torii.localhost"], mail, replace(settings))
