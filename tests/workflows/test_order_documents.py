"""The order sheet (発注書) and the delivery note (納品書), read back as a supplier and our reader would."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from workflows.order_documents.geometry import LINES_PER_PAGE, ORDER_FORM_GEOMETRY
from workflows.order_documents.references import order_reference, parse_order_reference, parse_page_code
from workflows.order_documents.rendering import render_delivery_note, render_order_sheet
from workflows.order_documents.sheets import OrderSheet, SheetLine, SheetParty
from workflows.references import page_code

SECRET = b"order-secret-for-the-tests!!"
MM = 72 / 25.4  # PDF points per millimetre
DPI = 200
REPLY = "order+k7m2px@torii.example"
FAX = "03-1234-5679"


def line(position: int, name: str = "トマト", quantity: str = "3", unit: str = "ケース", price: int | None = 1200,
         note: str = "", delivered: str | None = None) -> SheetLine:
    return SheetLine(position=position, product_name=name, quantity=Decimal(quantity), unit=unit, unit_price=price,
                     note=note, delivered_quantity=Decimal(delivered) if delivered is not None else None)


def order(lines: tuple[SheetLine, ...] | None = None, **changes: Any) -> OrderSheet:
    sheet = OrderSheet(
        order_id=123, number="PO-2026-000123",
        ordered_at=datetime(2026, 11, 20, 5, 5, tzinfo=UTC),  # 14:05 in Tokyo
        orderer_name="山田 太郎",
        buyer=SheetParty(company="レストランさくら 渋谷店", postal_code="150-0001", address="東京都渋谷区神宮前1-2-3",
                         phone="03-1111-2222", fax="03-1111-2223", email="order@sakura.example"),
        supplier=SheetParty(company="有限会社みどり青果", person="佐藤 一郎", postal_code="171-0022",
                            address="東京都豊島区南池袋2-3-4", phone="03-3333-4444", fax="03-3333-4445"),
        delivery=SheetParty(company="さくら 渋谷店 厨房", person="田中", postal_code="150-0002",
                            address="東京都渋谷区渋谷9-8-7", phone="03-1111-9999"),
        desired_date=date(2026, 11, 25), note="裏口から搬入してください。",
        lines=lines if lines is not None else (
            line(1, "トマト（桃太郎）", "3", "ケース", 1200, "午前着希望"),
            line(2, "キャベツ", "2.5", "箱", 1500),
            line(3, "玉ねぎ 北海道産", "10", "kg", None),
            line(4, "にんじん", "12", "本", 333),
        ),
    )
    return replace(sheet, **changes)


def render(sheet: OrderSheet | None = None) -> bytes:
    sheet = sheet or order()
    return render_order_sheet(sheet, reference=order_reference(sheet.order_id, SECRET), reply_address=REPLY,
                              fax_number=FAX)


def pages_of(pdf: bytes) -> list[dict[str, Any]]:
    out = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            out.append({"width": float(page.width) / MM, "height": float(page.height) / MM,
                        "text": page.extract_text() or "", "words": page.extract_words(), "chars": page.chars,
                        "fonts": {c["fontname"] for c in page.chars}})
    return out


def squeezed(text: str) -> str:
    return "".join(text.split())


def rasterize(pdf: bytes, index: int) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = doc[index].render(scale=DPI / 72, grayscale=True).to_pil()
        return image
    finally:
        doc.close()


@pytest.fixture(scope="module")
def sheets() -> dict[str, bytes]:
    """The four-line order in each language, rendered once (WeasyPrint's first render is slow)."""
    return {language: render(order(language=language)) for language in ("ja", "en")}


# --- references -------------------------------------------------------------------------------


def test_an_order_reference_names_its_order_and_reads_back_through_ocr_and_typing() -> None:
    reference = order_reference(123, SECRET)
    assert reference.startswith("TORII-ORD-123-")
    for text in (reference, f"Re: 発注書 [{reference}]", reference.replace("-", " ").lower(),
                 reference.replace("123", "I2З".replace("З", "3")), "ＴＯＲＩＩ－ＯＲＤ－１２３－" + reference[-6:]):
        assert parse_order_reference(text, SECRET) == 123, text


def test_a_forged_or_foreign_order_reference_is_refused() -> None:
    reference = order_reference(123, SECRET)
    assert parse_order_reference(reference.replace("123", "124"), SECRET) is None
    assert parse_order_reference(order_reference(123, b"another gateway"), SECRET) is None
    assert parse_order_reference("TORII-INV-123-ABCDEF", SECRET) is None


def test_a_page_code_names_order_and_page_and_a_misread_page_number_fails_its_check() -> None:
    reference = order_reference(123, SECRET)
    codes = [page_code(reference, page) for page in (1, 2, 3)]
    assert [parse_page_code(c, SECRET) for c in codes] == [(123, 1), (123, 2), (123, 3)]
    assert parse_order_reference(codes[1], SECRET) == 123
    other = next(p for p in range(3, 100) if page_code(reference, p)[-1] != codes[1][-1])
    misread = f"{codes[1][:-3]}{other:02d}{codes[1][-1]}"  # another page number with page 2's check
    assert parse_page_code(misread, SECRET) is None


# --- the order sheet --------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_order_sheet_is_one_a4_portrait_page_for_a_short_order(sheets: dict[str, bytes], language: str) -> None:
    (page,) = pages_of(sheets[language])
    assert page["width"] == pytest.approx(210, abs=0.1) and page["height"] == pytest.approx(297, abs=0.1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_order_sheet_prints_everything_the_supplier_needs(sheets: dict[str, bytes], language: str) -> None:
    text = squeezed(pages_of(sheets[language])[0]["text"])
    for expected in ("PO-2026-000123", "有限会社みどり青果", "佐藤一郎", "レストランさくら渋谷店", "山田太郎",
                     "さくら渋谷店厨房", "東京都渋谷区渋谷9-8-7", "トマト（桃太郎）", "キャベツ", "玉ねぎ北海道産",
                     "にんじん",
                     "午前着希望", "裏口から搬入してください。", REPLY, FAX, "14:05",
                     page_code(order_reference(123, SECRET), 1)):
        assert expected in text, expected
    if language == "ja":
        for label in ("発注書", "発注日時", "2026年11月20日", "お届け先", "納品希望日", "2026年11月25日", "単価",
                      "金額", "合計（税抜）", "受注します", "欠品あり", "お受けできません", "納品日", "納品可能数",
                      "ご担当者"):
            assert label in text, label
    else:
        for label in ("Purchaseorder", "20November2026", "Deliverto", "25November2026", "Total(taxexcluded)",
                      "Confirm", "Partial", "Decline", "Delivery", "Candeliver"):
            assert label in text, label


def test_line_amounts_and_the_total_are_right_and_an_unknown_price_is_a_dash(sheets: dict[str, bytes]) -> None:
    text = squeezed(pages_of(sheets["ja"])[0]["text"])
    # 3 × 1,200 = 3,600; 2.5 × 1,500 = 3,750; 10 kg without a price; 12 × 333 = 3,996
    for amount in ("3,600", "3,750", "3,996"):
        assert amount in text
    assert "¥11,346" in text
    assert "単価未定1品目を除く" in text
    assert "—" in pages_of(sheets["ja"])[0]["text"]


def test_a_fractional_amount_is_rounded_half_up_to_the_yen() -> None:
    assert line(1, quantity="2.5", price=333).amount == 833  # 832.5
    assert line(1, quantity="0.25", price=10).amount == 3  # 2.5
    assert line(1, price=None).amount is None


@pytest.mark.parametrize("language", ["ja", "en"])
def test_fonts_are_local_and_embedded(sheets: dict[str, bytes], language: str) -> None:
    pdf = sheets[language]
    fonts = pages_of(pdf)[0]["fonts"]
    assert any(f.endswith("+IPAexGothic") for f in fonts), fonts  # subset prefix: embedded
    assert any("DejaVu-Sans-Mono" in f for f in fonts), fonts
    assert all("+" in f for f in fonts), fonts
    assert len(pdf) < 120_000


def test_the_qr_code_and_the_marks_are_where_the_geometry_says(sheets: dict[str, bytes]) -> None:
    image = rasterize(sheets["ja"], 0)
    (code,) = zxingcpp.read_barcodes(image)
    assert parse_page_code(code.text, SECRET) == (123, 1)
    px = 25.4 / DPI
    qr = ORDER_FORM_GEOMETRY.qr
    assert code.position.top_left.x * px == pytest.approx(qr.x, abs=0.5)
    assert code.position.bottom_right.y * px == pytest.approx(qr.bottom, abs=0.5)
    k = DPI / 25.4
    for mark in ORDER_FORM_GEOMETRY.marks:
        cx, cy = mark.center
        assert image.getpixel((round(cx * k), round(cy * k))) < 60
    for index in range(ORDER_FORM_GEOMETRY.rows):  # every quantity field is empty inside its outline
        f = ORDER_FORM_GEOMETRY.quantity_field(index)
        inset = ORDER_FORM_GEOMETRY.box_line + 0.4
        inside = image.crop((round((f.x + inset) * k), round((f.y + inset) * k), round((f.right - inset) * k),
                             round((f.bottom - inset) * k)))
        darkest, _ = inside.getextrema()  # type: ignore[misc]
        assert darkest > 200, index


def test_long_names_and_notes_are_clipped_and_never_reach_the_quantity_fields() -> None:
    long_name = "北海道産の特別栽培じゃがいも（メークイン）大玉サイズ限定品" * 3
    long_note = "午前中必着でお願いいたします。遅れる場合は必ずご連絡ください。" * 2
    sheet = order((line(1, long_name, note=long_note), line(2, "W" * 80, unit="ケース入り大箱", note="N" * 90)),
                  note="長い備考です。" * 40, supplier=SheetParty(company="株式会社" + "とても長い会社名" * 8))
    (page,) = pages_of(render(sheet))
    g = ORDER_FORM_GEOMETRY
    column_end = {c.key: (c.x + c.width) for c in g.columns}
    rows = [c for c in page["chars"] if g.first_row_y <= c["top"] / MM < g.first_row_y + 2 * g.row_height]
    assert rows
    for char in rows:  # every character stays in its own column, and nothing reaches the fields
        x0, x1 = char["x0"] / MM, char["x1"] / MM
        column = next(c for c in g.columns if c.x <= x0 < c.x + c.width)
        assert column.key != "deliverable" and x1 <= column_end[column.key] + 0.1, (char["text"], column.key)
    text = page["text"]
    assert "…" in text and long_name not in squeezed(text)
    assert len(pages_of(render(sheet))) == 1


def test_a_40_line_order_takes_three_pages_each_a_form_naming_its_order_and_page() -> None:
    lines = tuple(line(n, f"品目{n:02d}", str(n % 7 + 1), price=100 * n) for n in range(1, 41))
    pdf = render(order(lines))
    pages = pages_of(pdf)
    assert len(pages) == 3 == -(-40 // LINES_PER_PAGE)
    for number, page in enumerate(pages, start=1):
        (code,) = zxingcpp.read_barcodes(rasterize(pdf, number - 1))
        assert parse_page_code(code.text, SECRET) == (123, number)
        assert f"{number}/3" in squeezed(page["text"])
        first, last = (number - 1) * LINES_PER_PAGE + 1, min(40, number * LINES_PER_PAGE)
        assert f"品目{first:02d}" in page["text"] and f"品目{last:02d}" in page["text"]
        assert f"品目{last + 1:02d}" not in page["text"]
        assert ("合計（税抜）" in page["text"]) == (number == 3)  # the total on the last page only
        assert ("次ページへ続きます" in page["text"]) == (number < 3)
    total = sum(100 * n * (n % 7 + 1) for n in range(1, 41))
    assert f"¥{total:,}" in squeezed(pages[2]["text"])


def test_markup_in_names_and_notes_is_printed_as_text_and_never_fetched(web_server: tuple[str, list[str]]) -> None:
    url, requests = web_server
    markup = f'<img src="{url}/p.png">'
    sheet = order((line(1, markup, note=f"<b>{url}</b>"),), note=f'<link rel="stylesheet" href="{url}/x.css">')
    for pdf in (render(sheet), render_delivery_note(sheet, shipped_on=date(2026, 11, 24))):
        assert "<img" in pages_of(pdf)[0]["text"]
    assert requests == []


def test_a_naive_order_time_or_a_malformed_reference_is_refused() -> None:
    with pytest.raises(ValueError):
        render(order(ordered_at=datetime(2026, 11, 20, 14, 5)))
    with pytest.raises(ValueError):
        render_order_sheet(order(), reference="<script>", reply_address=None, fax_number=None)


def test_an_order_placed_late_at_night_utc_is_dated_the_next_day_in_tokyo() -> None:
    sheet = order(ordered_at=datetime(2026, 11, 20, 16, 30, tzinfo=UTC))
    assert sheet.ordered_on == date(2026, 11, 21)
    assert "2026年11月21日 01:30" in pages_of(render(sheet))[0]["text"]
    assert order(ordered_at=datetime(2026, 11, 20, 16, 30, tzinfo=timezone(timedelta(hours=9)))).ordered_on == date(
        2026, 11, 20)


# --- the delivery note ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_delivery_note_goes_from_supplier_to_buyer_with_the_quantities_to_deliver(language: str) -> None:
    sheet = order((line(1, "トマト", "3", price=1200, delivered="2"), line(2, "キャベツ", "2.5", "箱", 1500),
                   line(3, "玉ねぎ", "10", "kg", None, delivered="0")), language=language)
    pages = pages_of(render_delivery_note(sheet, shipped_on=date(2026, 11, 24)))
    text = squeezed(pages[0]["text"])
    assert "納品書" in text if language == "ja" else "Deliverynote" in text
    assert "2026年11月24日" in text if language == "ja" else "24November2026" in text
    for expected in ("PO-2026-000123", "有限会社みどり青果", "レストランさくら渋谷店", "さくら渋谷店厨房", "トマト",
                     "2,400", "3,750", "¥6,150"):
        assert expected in text, expected
    assert "3,600" not in text  # the tomatoes: 2 delivered of 3 ordered
    assert all(p["width"] == pytest.approx(210, abs=0.1) for p in pages)


def test_a_long_delivery_note_flows_over_pages_with_the_table_head_repeated() -> None:
    lines = tuple(line(n, f"品目{n:02d}") for n in range(1, 61))
    pages = pages_of(render_delivery_note(order(lines), shipped_on=date(2026, 11, 24)))
    assert len(pages) >= 2
    assert all("品名" in p["text"] for p in pages)
    assert "品目60" in pages[-1]["text"]
