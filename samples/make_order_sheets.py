"""Make the order documents and returned order sheets under samples/orders/, with the project's own tools.

    .venv/bin/python -m samples.make_order_sheets

The sample order (``SAMPLE_ORDER``, reference secret ``DEMO_SECRET``) as an order
sheet in Japanese and English, a 40-line order's three-page sheet, the delivery
note, and the sheet as suppliers fax it back (samples/faxsim.py): a box ticked,
crossed, filled or circled, quantities and a date written by hand (a handwriting
font if one is installed), rasterized at 200×100 or 200×200 dpi, skewed, speckled,
some upside down, as PDF or G4 TIFF. The manifest says what was written on each,
and what ``parsers.orderform.read_order_fax`` makes of it when the samples were made.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from parsers.imaging import pages_from_attachment
from parsers.orderform import read_order_fax
from samples import faxsim
from samples.compose import SAMPLES
from samples.make_letters import DEMO_SECRET
from workflows.order_documents.fax_forms import order_fax_form, order_form_geometry
from workflows.order_documents.geometry import quantity_field_name
from workflows.order_documents.references import order_reference
from workflows.order_documents.rendering import render_delivery_note, render_order_sheet
from workflows.order_documents.sheets import OrderSheet, SheetLine, SheetParty

OUT = SAMPLES / "orders"
REPLY = "order+demo1001@torii.example"
FAX = "03-1234-5679"

SAMPLE_ORDER = OrderSheet(
    order_id=1001, number="PO-2026-001001", ordered_at=datetime(2026, 11, 20, 5, 5, tzinfo=UTC),
    orderer_name="山田 太郎",
    buyer=SheetParty(company="レストランさくら 渋谷店", postal_code="150-0001", address="東京都渋谷区神宮前1-2-3",
                     phone="03-1111-2222", fax="03-1111-2223", email="order@sakura.example"),
    supplier=SheetParty(company="有限会社みどり青果", person="佐藤 一郎", postal_code="171-0022",
                        address="東京都豊島区南池袋2-3-4", phone="03-3333-4444", fax="03-3333-4445"),
    delivery=SheetParty(company="レストランさくら 渋谷店", person="田中", postal_code="150-0001",
                        address="東京都渋谷区神宮前1-2-3 さくらビル1F", phone="03-1111-2222"),
    desired_date=date(2026, 11, 25), note="裏口から搬入してください。\n午前中の納品をお願いします。",
    lines=(
        SheetLine(1, "トマト（桃太郎）", Decimal(3), "ケース", 3200, "午前着希望"),
        SheetLine(2, "キャベツ", Decimal(10), "個", 180),
        SheetLine(3, "玉ねぎ 北海道産 Lサイズ", Decimal(20), "kg", 240),
        SheetLine(4, "じゃがいも メークイン", Decimal(5), "箱", None, "単価は納品時に"),
        SheetLine(5, "ほうれん草", Decimal(12), "袋", 150),
    ),
)

RETURNED = [
    # file, marks (answer, style), quantities by row, date, resolution, skew, upside down
    ("01-confirm-tick-normal.pdf", (("confirm", "tick"),), {}, "11/25", "normal", 1.5, False),
    ("02-partial-quantities-fine.pdf", (("partial", "tick"),), {0: "2", 2: "15"}, "11/26", "fine", -1.0, False),
    ("03-partial-upside-down.tiff", (("partial", "cross"),), {1: "6", 4: "8"}, "11月27日", "normal", 2.0, True),
    ("04-decline-circle.pdf", (("decline", "circle"),), {}, None, "fine", 2.5, False),
    ("05-decline-fill-upside-down.pdf", (("decline", "fill"),), {}, None, "normal", -2.0, True),
    ("06-double-ticked.pdf", (("confirm", "tick"), ("decline", "tick")), {}, None, "normal", 1.0, False),
    ("07-blank.pdf", (), {}, None, "normal", -1.5, False),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    reference = order_reference(SAMPLE_ORDER.order_id, DEMO_SECRET)
    sheets = {language: render_order_sheet(replace(SAMPLE_ORDER, language=language), reference=reference,
                                           reply_address=REPLY, fax_number=FAX) for language in ("ja", "en")}
    for language, pdf in sheets.items():
        (OUT / f"order-sheet-1001.{language}.pdf").write_bytes(pdf)
    long_order = replace(SAMPLE_ORDER, order_id=1002, number="PO-2026-001002", lines=tuple(
        SheetLine(n, f"品目 {n:02d}", Decimal(n % 6 + 1), "ケース", 500 + 10 * n) for n in range(1, 41)))
    (OUT / "order-sheet-1002-40-lines.ja.pdf").write_bytes(render_order_sheet(
        long_order, reference=order_reference(1002, DEMO_SECRET), reply_address=REPLY, fax_number=FAX))
    shipped = replace(SAMPLE_ORDER, lines=tuple(replace(line, delivered_quantity=Decimal(2)) if line.position == 1
                                                else line for line in SAMPLE_ORDER.lines))
    (OUT / "delivery-note-1001.ja.pdf").write_bytes(render_delivery_note(shipped, shipped_on=date(2026, 11, 24)))

    geometry = order_form_geometry()
    form = order_fax_form(DEMO_SECRET)
    manifest = []
    for number, (name, marks, quantities, date_text, resolution, skew, upside_down) in enumerate(RETURNED):
        rng = random.Random(number)
        page = faxsim.rasterize(sheets["ja"], 200)
        for answer, style in marks:
            page = faxsim.mark(page, geometry, answer, style, rng)
        for row, text in quantities.items():
            page = faxsim.write_field(page, geometry, quantity_field_name(row), text, rng)
        if date_text:
            page = faxsim.write_field(page, geometry, "delivery_date", date_text, rng)
        page = faxsim.write(page, geometry, geometry.contact, "佐藤", rng) if geometry.contact else page
        fax = faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=0.5,  # type: ignore[arg-type]
                             upside_down=upside_down, rng=rng)
        data = faxsim.to_tiff([fax]) if name.endswith(".tiff") else faxsim.to_pdf([fax])
        (OUT / name).write_bytes(data)
        pages = pages_from_attachment(data, "image/tiff" if name.endswith(".tiff") else "application/pdf", name)
        reading = read_order_fax(pages, form, {1001: SAMPLE_ORDER}.get)
        written = {SAMPLE_ORDER.lines[row].position: text for row, text in quantities.items()}
        manifest.append({
            "file": name, "order": 1001,
            "written": {"answer": marks[0][0] if len(marks) == 1 else None, "quantities": written,
                        "delivery_date": date_text},
            "read": {"order": reading.order_id, "answer": reading.answer, "confidence": reading.confidence,
                     "quantities": {str(k): str(v) for k, v in reading.quantities.items()},
                     "delivery_date": reading.delivery_date.isoformat() if reading.delivery_date else None,
                     "reasons": list(reading.reasons)},
        })
        print(f"{name:34} written {manifest[-1]['written']['answer']!s:8} read {reading.answer!s:8} "
              f"({reading.confidence:.2f}) {dict(reading.quantities)} {reading.delivery_date}")
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(sheets) + 2} documents and {len(manifest)} returned sheets to {OUT}")


if __name__ == "__main__":
    main()
