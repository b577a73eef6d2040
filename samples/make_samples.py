"""Make the sample partner replies under samples/replies/ with the project's own tools.

    .venv/bin/python -m samples.make_samples

The quoted original in each reply is the gateway's real invitation mail, rendered
from templates/ for the demo's partners; the replies are written as the mail
clients named in the manifest write them. Addresses and Message-IDs are
placeholders, filled in when a sample is played against a live gateway.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from samples.compose import SAMPLES, compose_reply
from workflows.mail import render_mail

# The demo's partners; samples/demo.py creates invitations for exactly these.
PARTNERS = {
    "infobussan": {"company": "株式会社インフォ物産", "name": "山田 太郎", "language": "ja"},
    "marunouchi": {"company": "丸の内フーズ株式会社", "name": "佐藤 花子", "language": "ja"},
    "sakura": {"company": "有限会社さくら青果", "name": "田中 一郎", "language": "ja"},
    "blueharbor": {"company": "Blue Harbor Trading Ltd.", "name": "Emma Clark", "language": "en"},
    "minato": {"company": "株式会社みなと水産", "name": "小林 誠", "language": "ja", "approval_required": False},
}
ISSUER = {"company": "株式会社インフォ商会", "name": "鈴木 二郎", "email": "suzuki@issuer.example"}

SIGNATURE_JA = ("━━━━━━━━━━━━━━━━━━\n{company}\n営業部 {name}\nTEL 03-1234-5678 / FAX 03-1234-5679\n"
                "━━━━━━━━━━━━━━━━━━")

# file, partner, answer, how the client writes it, what the demo expects afterwards
REPLIES = [
    ("01-infobussan-approve-iso2022jp.eml", "infobussan", "承認します。\n担当者：山田 太郎", "iso-2022-jp",
     "top", "approved", "Japanese client, ISO-2022-JP, top-posted above the > quoted invitation"),
    ("02-marunouchi-reject-cp932-outlook.eml", "marunouchi", "大変申し訳ございませんが、今回はお断りいたします。",
     "shift_jis", "outlook", "rejected",
     "Outlook, Shift_JIS (CP932), original below -----Original Message-----"),
    ("03-sakura-hold-html.eml", "sakura", "保留でお願いします。来週までに社内で確認します。", "utf-8", "html",
     "held", "HTML-only reply (webmail), original in a gmail_quote blockquote"),
    ("04-sakura-approve-after-hold.eml", "sakura", "お待たせしました。承認します。\n担当者：田中 一郎", "utf-8", "top",
     "approved", "the held invitation approved later"),
    ("05-blueharbor-accept.eml", "blueharbor", "Hello,\n\nWe accept your invitation.\nContact: Emma Clark",
     "utf-8", "bottom", "approved", "English, bottom-posted below the quote"),
    ("06-blueharbor-decline-too-late.eml", "blueharbor", "Sorry, on second thought we decline.", "utf-8", "top",
     "approved", "a rejection after approval: refused, and the partner is told it is already approved"),
    ("07-infobussan-out-of-office.eml", "infobussan",
     "ただいま出張中のため、11月25日まで不在にしております。\n承認等のご連絡は戻り次第いたします。",
     "iso-2022-jp", "bare", "approved", "an out-of-office auto-reply: ignored, never answered"),
    ("08-marunouchi-unclear.eml", "marunouchi", "ご連絡ありがとうございます。担当部署に共有いたしました。",
     "shift_jis", "top", "rejected", "says nothing about the answer: goes to the review queue"),
]

AUTO_REPLY_HEADERS = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes", "Precedence": "auto_reply"}


def invitation_text(key: str) -> tuple[str, str]:
    partner = PARTNERS[key]
    invitation = SimpleNamespace(
        id=1001 + list(PARTNERS).index(key),
        issuer_company=ISSUER["company"], issuer_name=ISSUER["name"],
        partner_company=partner["company"], partner_name=partner["name"],
        comment="いつもお世話になっております。請求書の電子化のため、ご招待いたします。",
        approval_required=partner.get("approval_required", True),
    )
    rendered = render_mail("invitation", str(partner["language"]),
                           {"invitation": invitation, "reply_address": "reply@torii.example"})
    return rendered.subject, rendered.text


def main() -> None:
    out = SAMPLES / "replies"
    out.mkdir(exist_ok=True)
    manifest = []
    for name, key, answer, charset, style, expect, description in REPLIES:
        subject, original = invitation_text(key)
        partner = PARTNERS[key]
        automatic = "out-of-office" in name
        raw = compose_reply(
            answer=answer,
            original_text=original,
            original_subject=subject,
            from_name=str(partner["name"]),
            charset=charset,
            style=style,
            signature=SIGNATURE_JA.format(**partner) if partner["language"] == "ja" and not automatic else "",
            extra_headers=AUTO_REPLY_HEADERS if automatic else None,
        )
        (out / name).write_bytes(raw)
        manifest.append({"file": name, "partner": key, "expect_state": expect, "description": description})
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (SAMPLES / "partners.json").write_text(
        json.dumps({"issuer": ISSUER, "partners": PARTNERS}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} replies to {out}")


if __name__ == "__main__":
    main()
