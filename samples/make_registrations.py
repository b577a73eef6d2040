"""Make the sample registration mails under samples/registration/ with the project's own tools.

    .venv/bin/python -m samples.make_registrations

What ``./torii demo`` sends to apply for company IDs (manual 001), in the order it plays them:

- ``request.ja.eml``: a supplier asks register@ for a company ID, in Japanese (ISO-2022-JP), the company
  named by a 企業名： line;
- ``application.ja.txt``: that supplier's application, as ``label：value`` lines; the demo fills the
  linked page's form with them;
- ``approval.ja.eml``: its wholesaler's contact replies 「承認します」 to the request to approve, top-posted
  above the quoted request (ISO-2022-JP);
- ``request.en.eml``: a second supplier asks in English, the company named in the subject only;
- ``application.free-mail.en.eml``: its application by reply to the link mail, bottom-posted, UTF-8 sent
  8bit (as Thunderbird and Apple Mail send it), with a gmail.com address for the ID administrator;
- ``request.existing.ja.eml``: a colleague of the first supplier asks again for the same company, written
  ﾐﾄﾞﾘ食品 … ㈱ (half-width katakana, ㈱ after the name), in Shift_JIS (CP932) as Outlook writes it.

The quoted originals are the gateway's real mails, rendered from templates/ for these applicants.
``__RUN__`` (``samples.demo_registration.RUN``) stands for the demo run's tag, in company names and
addresses; the registration address, Message-IDs and the reply's In-Reply-To are the placeholders of
samples/replies (``samples.demo.fill_sample``). Every placeholder sits in a header or in a body sent as
7bit or 8bit, where the demo can fill it in as bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from types import SimpleNamespace

from parsers.registration_form import FIELDS
from samples.compose import IN_REPLY_TO, MESSAGE_ID, REPLY_TO, SAMPLES, compose_reply
from samples.demo_registration import RUN
from workflows.mail import render_mail
from workflows.registration.applying import terms

WRITTEN = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)

# The first supplier, its wholesaler and its ID administrator (application.ja.txt).
MIDORI = {
    "company_name": f"株式会社ミドリ食品 {RUN}",
    "company_address": "静岡県静岡市葵区追手町9-6 ミドリビル3F",
    "company_phone": "054-221-0123",
    "jan_maker_code": "456995230",
    "wholesaler_company": "東海中央青果株式会社",
    "wholesaler_department": "営業第二部",
    "wholesaler_contact": "佐藤 健",
    "wholesaler_email": f"sato-{RUN}@tokai-seika.example",
    "admin_name": "緑川 花子",
    "admin_email": f"midorikawa-{RUN}@midori-foods.example",
}
MIDORI_APPLICANT = ("田中 一郎", f"tanaka-{RUN}@midori-foods.example")
MIDORI_COLLEAGUE = ("鈴木 次郎", f"suzuki-{RUN}@midori-foods.example")

# The second supplier, who gives a free-mail address for its ID administrator.
HATAKE_COMPANY = f"Hatake Farm {RUN} Co., Ltd."
HATAKE_APPLICANT = ("Kenji Yamada", f"yamada-{RUN}@hatake-farm.example")
HATAKE_FORM = "\n".join([
    f"Company name: {HATAKE_COMPANY}",
    "Head office address: 1-1 Minami-Nagaike, Nagano",
    "Phone: 026-000-0000",
    "JAN maker code: 4512345",
    "Wholesaler company: Shinshu Oroshi Inc.",
    "Wholesaler department: Produce",
    "Wholesaler contact: Ito",
    f"Wholesaler contact email: ito-{RUN}@shinshu-oroshi.example",
    "ID administrator name: Kenji Yamada",
    "ID administrator email: yamada.hatake@gmail.com",
])

SIGNATURE_WHOLESALER = ("━━━━━━━━━━━━━━━━━━\n東海中央青果株式会社\n営業第二部 佐藤 健\nTEL 054-000-1111\n"
                        "━━━━━━━━━━━━━━━━━━")


def request_mail(sender: tuple[str, str], subject: str, body: str, charset: str) -> bytes:
    """A new mail to the registration address (``__REPLY_TO__``), as the applicant's client writes it."""
    msg = EmailMessage()
    name, address = sender
    msg["From"] = Address(name, addr_spec=address)
    msg["To"] = REPLY_TO
    msg["Subject"] = subject
    msg["Date"] = format_datetime(WRITTEN)
    msg["Message-ID"] = f"<{MESSAGE_ID}>"
    if charset == "shift_jis":
        # CP932, as Outlook on Windows writes Shift_JIS: ㈱ and half-width katakana included.
        msg.set_content(body.encode("cp932"), "text", "plain", cte="8bit", params={"charset": "shift_jis"})
    else:
        msg.set_content(body, charset=charset, cte="7bit" if charset == "iso-2022-jp" or body.isascii() else "8bit")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def eight_bit(raw: bytes) -> bytes:
    """The mail with its UTF-8 body sent unencoded (8bit) instead of in base64."""
    msg = message_from_bytes(raw, policy=policy.compat32)
    body = msg.get_payload(decode=True)
    assert isinstance(body, bytes)
    del msg["Content-Transfer-Encoding"]
    msg["Content-Transfer-Encoding"] = "8bit"
    # BytesGenerator writes surrogate-escaped text back as the original bytes.
    msg.set_payload(body.decode("ascii", "surrogateescape"))
    return msg.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))


def rendered(kind: str, language: str, registration: SimpleNamespace, reference: str, **context: object
             ) -> tuple[str, str]:
    mail = render_mail(kind, language, {"registration": registration, "reference": reference,
                                        "reply_address": "reply@torii.example", **context})
    return mail.subject, mail.text


def main() -> None:
    out = SAMPLES / "registration"
    out.mkdir(exist_ok=True)
    labels = {f.key: f.label_ja for f in FIELDS}
    written: dict[str, bytes] = {}

    written["request.ja.eml"] = request_mail(
        MIDORI_APPLICANT, "企業ID申請のお願い",
        f"Torii ご担当者様\n\nお世話になっております。ミドリ食品の田中です。\n"
        f"取引先の卸様からのご案内で、企業IDを申請したくご連絡いたしました。\n\n企業名：{MIDORI['company_name']}\n\n"
        "お手続きをご案内いただけますと幸いです。\nよろしくお願いいたします。\n\n田中 一郎", "iso-2022-jp")
    written["application.ja.txt"] = "".join(f"{labels[key]}：{value}\n" for key, value in MIDORI.items()).encode()

    applied = SimpleNamespace(**MIDORI, applicant_email=MIDORI_APPLICANT[1])
    subject, original = rendered("registration_wholesaler_request", "ja", applied, "REG-1001",
                                 approve_url="https://torii.example/register/approve/sample",
                                 due_at="2026-11-29 09:15", reminder=False)
    written["approval.ja.eml"] = compose_reply(
        answer="承認します。\nミドリ食品様とは10年来のお取引があります。", original_text=original,
        # An encoded subject would hide the tag from the demo; the reference in it is the sample's anyway.
        original_subject=subject.replace(f" {RUN}", ""), from_name=MIDORI["wholesaler_contact"],
        from_addr=MIDORI["wholesaler_email"], to_addr=REPLY_TO, in_reply_to=IN_REPLY_TO, charset="iso-2022-jp",
        style="top", signature=SIGNATURE_WHOLESALER, date=WRITTEN)

    written["request.en.eml"] = request_mail(
        HATAKE_APPLICANT, f"Company ID request: {HATAKE_COMPANY}",
        "Hello,\n\nWe are a vegetable farm in Nagano and would like a company ID,\n"
        "so that our wholesaler can send us its orders through Torii.\n\nBest regards,\nKenji Yamada\n", "utf-8")
    requested = SimpleNamespace(company_name=HATAKE_COMPANY)
    subject, original = rendered("registration_link", "en", requested, "REG-1002",
                                 link_url="https://torii.example/register/sample",
                                 expires_at="2026-12-04 09:15", terms=terms("en"),
                                 fields=[(f.label_ja, f.label_en) for f in FIELDS])
    written["application.free-mail.en.eml"] = eight_bit(compose_reply(
        answer=f"Thank you. Here is our application:\n\n{HATAKE_FORM}", original_text=original,
        original_subject=subject, from_name=HATAKE_APPLICANT[0], from_addr=HATAKE_APPLICANT[1], to_addr=REPLY_TO,
        in_reply_to=IN_REPLY_TO, charset="utf-8", style="bottom", signature="Kenji Yamada\nHatake Farm",
        date=WRITTEN))

    written["request.existing.ja.eml"] = request_mail(
        MIDORI_COLLEAGUE, "企業IDの申請について",
        f"ご担当者様\n\n新規に企業IDを申請させてください。\n会社名: ﾐﾄﾞﾘ食品 {RUN}㈱\n担当: 営業部 鈴木\n\n"
        "よろしくお願いします。", "shift_jis")

    for name, raw in written.items():
        (out / name).write_bytes(raw)
    print(f"wrote {len(written)} registration samples to {out}")


if __name__ == "__main__":
    main()
