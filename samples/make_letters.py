"""Make the sample paper invitations under samples/letters/ with the project's own renderer.

    .venv/bin/python -m samples.make_letters

One FAX letter (A4, with the fax-back reply form) and one postcard (100 × 148 mm,
address side and back), in Japanese, for the demo's first partner. The temporary
ID and password and the reference secret are fixed demo values, so the samples
are the same every time; real ones come from ``workflows.credentials``.
"""

from __future__ import annotations

import time
from datetime import date
from types import SimpleNamespace

from samples.compose import SAMPLES
from samples.make_samples import ISSUER, PARTNERS
from workflows.letters import reference_for, render_letter

DEMO_SECRET = b"torii-demo-reference-secret-0001"
DEMO_ID, DEMO_PASSWORD = "KP4M7RTX", "HN9WE3AC"
ISSUED_ON = date(2026, 11, 20)


def main() -> None:
    out = SAMPLES / "letters"
    out.mkdir(exist_ok=True)
    partner = PARTNERS["infobussan"]
    assert isinstance(partner, dict)
    invitation = SimpleNamespace(
        id=1001,
        issuer_company=ISSUER["company"],
        issuer_name=ISSUER["name"],
        partner_company=str(partner["company"]),
        partner_name=str(partner["name"]),
        partner_postal_code="100-0005",
        partner_address="東京都千代田区丸の内1-1-1 インフォビル 5F",
        comment="いつもお世話になっております。\n請求書の電子化のため、BtoBプラットフォームにご招待いたします。",
        language="ja",
        approval_required=True,
    )
    reference = reference_for(invitation.id, DEMO_SECRET)
    for layout in ("fax", "postcard"):
        started = time.perf_counter()
        pdf = render_letter(invitation, DEMO_ID, DEMO_PASSWORD, layout=layout, language="ja",
                            reference=reference, reply_address="invite@torii.localhost",
                            fax_number="03-1234-5679", issued_on=ISSUED_ON)
        path = out / f"invitation-{invitation.id}-{layout}.ja.pdf"
        path.write_bytes(pdf)
        print(f"wrote {path.relative_to(SAMPLES.parent)}: {len(pdf):,} bytes in "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
