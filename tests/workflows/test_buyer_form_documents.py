"""The buyer's order form (注文書): rendered for a buyer and a supplier, read back as a buyer and our reader would."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any, cast

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from workflows.order_documents.fax_forms import buyer_form_geometry, order_form_geometry
from workflows.order_documents.geometry import (
    BUYER_FORM_GEOMETRY,
    LINES_PER_PAGE,
    ORDER_FORM_GEOMETRY,
    quantity_field_name,
)
from workflows.order_documents.references import (
    buyer_form_reference,
    order_reference,
    parse_buyer_form_page_code,
    parse_buyer_form_reference,
    parse_order_reference,
    parse_page_code,
)
from workflows.order_documents.rendering import render_buyer_form
from workflows.order_documents.sheets import BuyerFormSheet
from workflows.references import page_code

SECRET = b"form-secret-for-the-tests!!!"
MM = 72 / 25.4  # PDF points per millimetre
DPI = 200
FAX_TO = "03-1234-5679"
NAMES = ("トマト（桃太郎）", "キャベツ", "玉ねぎ 北海道産", "じゃがいも メークイン", "にんじん", "ほうれん草", "長ねぎ")


def products(count: int) -> tuple[tuple[str, str, int | None, str], ...]:
    return tuple((f"{NAMES[n % len(NAMES)]} {n:02d}", "ケース" if n % 2 else "kg", None if n % 5 == 0 else 100 * n,
                  "午前着" if n % 4 == 0 else "") for n in range(1, count + 1))


def form(count: int = 25, **changes: Any) -> BuyerFormSheet:
    sheet = BuyerFormSheet(form_id=12, buyer_name="レストランさくら 渋谷店", buyer_fax="03-1111-2223",
                           supplier_name="有限会社みどり青果", fax_to=FAX_TO, rows=products(count))
    return replace(sheet, **changes)


def render(sheet: BuyerFormSheet | None = None) -> bytes:
    sheet = sheet or form()
    return render_buyer_form(sheet, reference=buyer_form_reference(sheet.form_id, SECRET))


def pages_of(pdf: bytes) -> list[dict[str, Any]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [{"width": float(p.width) / MM, "height": float(p.height) / MM, "text": p.extract_text() or "",
                 "chars": p.chars, "fonts": {c["fontname"] for c in p.chars}} for p in doc.pages]


def squeezed(text: str) -> str:
    return "".join(text.split())


def gray(image: Image.Image, x_mm: float, y_mm: float) -> int:
    return cast(int, image.getpixel((round(x_mm * DPI / 25.4), round(y_mm * DPI / 25.4))))


def rasterize(pdf: bytes, index: int) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = doc[index].render(scale=DPI / 72, grayscale=True).to_pil()
        return image
    finally:
        doc.close()


@pytest.fixture(scope="module")
def forms() -> dict[str, bytes]:
    """The 25-product form in each language, rendered once."""
    return {language: render(form(language=language)) for language in ("ja", "en")}


# --- references -------------------------------------------------------------------------------


def test_a_form_reference_names_its_form_and_reads_back_through_ocr_and_typing() -> None:
    reference = buyer_form_reference(12, SECRET)
    assert reference.startswith("TORII-FRM-12-")
    for text in (reference, reference.replace("-", " ").lower(), "ＴＯＲＩＩ－ＦＲＭ－１２－" + reference[-6:],
                 page_code(reference, 2)):
        assert parse_buyer_form_reference(text, SECRET) == 12, text
    assert [parse_buyer_form_page_code(page_code(reference, p), SECRET) for p in (1, 2)] == [(12, 1), (12, 2)]


def test_form_order_and_foreign_references_do_not_pass_for_one_another() -> None:
    form_code = page_code(buyer_form_reference(12, SECRET), 1)
    order_code = page_code(order_reference(12, SECRET), 1)
    assert parse_page_code(form_code, SECRET) is None and parse_order_reference(form_code, SECRET) is None
    assert parse_buyer_form_page_code(order_code, SECRET) is None
    assert parse_buyer_form_reference(order_code, SECRET) is None
    assert parse_buyer_form_page_code(page_code(buyer_form_reference(12, b"another gateway"), 1), SECRET) is None
    misread = page_code(buyer_form_reference(13, SECRET), 1).replace("-13-", "-12-")
    assert parse_buyer_form_page_code(misread, SECRET) is None


# --- the form ---------------------------------------------------------------------------------


def test_25_products_take_two_a4_pages_each_listing_its_share_with_its_code(forms: dict[str, bytes]) -> None:
    pdf = forms["ja"]
    pages = pages_of(pdf)
    reference = buyer_form_reference(12, SECRET)
    assert len(pages) == 2 == form().pages
    for number, page in enumerate(pages, start=1):
        assert page["width"] == pytest.approx(210, abs=0.1) and page["height"] == pytest.approx(297, abs=0.1)
        text = squeezed(page["text"])
        first, last = (number - 1) * LINES_PER_PAGE + 1, min(25, number * LINES_PER_PAGE)
        for n in range(1, 26):
            name = squeezed(f"{NAMES[n % len(NAMES)]} {n:02d}")
            assert (name in text) == (first <= n <= last), (number, name)
        assert page_code(reference, number) in text
        assert f"{number}/2" in text
        (code,) = zxingcpp.read_barcodes(rasterize(pdf, number - 1))
        assert parse_buyer_form_page_code(code.text, SECRET) == (12, number)


def test_the_japanese_form_prints_what_the_buyer_needs(forms: dict[str, bytes]) -> None:
    text = squeezed(pages_of(forms["ja"])[0]["text"])
    for expected in ("注文書", "有限会社みどり青果御中", f"FAX:{FAX_TO}宛にご送信ください", "レストランさくら渋谷店",
                     "03-1111-2223", "納品希望日", "No.", "品名", "単位", "単価(円)", "備考", "数量", "ご記入ください",
                     "1,200", "午前着", "全2ページ"):
        assert expected in text, expected
    assert "—" in pages_of(forms["ja"])[0]["text"]  # product 5 has no price


def test_the_english_form_renders(forms: dict[str, bytes]) -> None:
    pages = pages_of(forms["en"])
    text = squeezed(pages[0]["text"])
    for expected in ("ORDERFORM", f"Pleasefaxto:{FAX_TO}", "Orderedby", "Deliverydate", "Product", "Unitprice",
                     "Qty", "Notes", "キャベツ01", "トマト（桃太郎）07",
                     page_code(buyer_form_reference(12, SECRET), 1)):
        assert expected in text, expected
    assert len(pages) == 2


def test_fonts_are_local_and_embedded(forms: dict[str, bytes]) -> None:
    fonts = pages_of(forms["ja"])[0]["fonts"]
    assert any(f.endswith("+IPAexGothic") for f in fonts) and all("+" in f for f in fonts), fonts
    assert len(forms["ja"]) < 120_000


def test_the_qr_code_marks_and_fields_are_where_the_geometry_says(forms: dict[str, bytes]) -> None:
    image = rasterize(forms["ja"], 1)
    g = BUYER_FORM_GEOMETRY
    (code,) = zxingcpp.read_barcodes(image)
    px = 25.4 / DPI
    assert code.position.top_left.x * px == pytest.approx(g.qr.x, abs=0.5)
    assert code.position.bottom_right.y * px == pytest.approx(g.qr.bottom, abs=0.5)
    k = DPI / 25.4
    for mark in g.marks:
        assert gray(image, *mark.center) < 60
    reader = buyer_form_geometry()
    fields = [f.rect for f in reader.fields]
    assert len(fields) == LINES_PER_PAGE + 2  # every row's quantity, the date, the notes
    for rect in fields:  # every field is empty inside its outline, its outline is printed
        inset = g.box_line + 0.4
        inside = image.crop((round((rect.x + inset) * k), round((rect.y + inset) * k),
                             round((rect.right - inset) * k), round((rect.bottom - inset) * k)))
        darkest, _ = cast(tuple[int, int], inside.getextrema())
        assert darkest > 200, rect
        assert gray(image, rect.x + g.box_line / 2, rect.center[1]) < 100, rect
    assert reader.field_for(quantity_field_name(0)).rect.h == pytest.approx(7.0)


def test_the_skeleton_is_the_order_sheets() -> None:
    """A faxed page of either is found the same way: the same marks, QR code and code in the same places."""
    form_, order = buyer_form_geometry(), order_form_geometry()
    assert (form_.marks, form_.mark_size, form_.qr, form_.reference_text) == (
        order.marks, order.mark_size, order.qr, order.reference_text)
    assert BUYER_FORM_GEOMETRY.rows == ORDER_FORM_GEOMETRY.rows == LINES_PER_PAGE
    assert form_.boxes == ()


def test_long_names_and_notes_are_clipped_and_never_reach_the_quantity_fields() -> None:
    long_name = "北海道産の特別栽培じゃがいも（メークイン）大玉サイズ限定品" * 3
    sheet = form(rows=((long_name, "ケース入り大箱" * 3, 1234567, "午前中必着でお願いいたします。" * 4),
                       ("W" * 90, "kg", 100, "N" * 90)))
    (page,) = pages_of(render(sheet))
    g = BUYER_FORM_GEOMETRY
    rows = [c for c in page["chars"] if g.first_row_y <= c["top"] / MM < g.first_row_y + 2 * g.row_height]
    assert rows
    for char in rows:
        x0, x1 = char["x0"] / MM, char["x1"] / MM
        column = next(c for c in g.columns if c.x <= x0 < c.x + c.width)
        assert column.key != "quantity" and x1 <= column.x + column.width + 0.1, (char["text"], column.key)
    assert "…" in page["text"] and long_name not in squeezed(page["text"])


def test_a_form_without_products_is_one_empty_page_and_markup_is_text() -> None:
    assert len(pages_of(render(form(rows=())))) == 1
    markup = '<img src="http://127.0.0.1:9/p.png">'
    text = pages_of(render(form(rows=((markup, "個", 1, "<b>x</b>"),), buyer_name="<script>")))[0]["text"]
    assert "<img" in text and "<script>" in text


def test_a_malformed_reference_is_refused() -> None:
    with pytest.raises(ValueError):
        render_buyer_form(form(), reference="<script>")
