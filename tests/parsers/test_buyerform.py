"""Buyers' order forms filled in by hand and faxed to the gateway (samples/faxsim.py), read by read_buyer_form.

The form is the real one (workflows/order_documents.render_buyer_form, WeasyPrint) for a
supplier with 25 products: two pages. The hand writes in IPAex Gothic here whatever is
installed, so that every machine reads the same pages.
"""

from __future__ import annotations

import random
import shutil
import time
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image

from parsers.buyerform import BuyerFormReading, read_buyer_form
from parsers.faxform.geometry import FAXBACK_FORM, Rect
from parsers.imaging import pages_from_attachment
from samples import faxsim
from workflows.order_documents.fax_forms import buyer_fax_form, buyer_form_geometry
from workflows.order_documents.geometry import quantity_field_name
from workflows.order_documents.references import buyer_form_reference, order_reference
from workflows.order_documents.rendering import render_buyer_form
from workflows.order_documents.sheets import BuyerFormSheet

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

SECRET = b"form-secret-for-the-tests!!!"
GEOMETRY = buyer_form_geometry()
FORM = buyer_fax_form(SECRET)
HAND = faxsim.FONT
RECEIVED = date(2026, 11, 20)
SHEET = BuyerFormSheet(form_id=12, buyer_name="レストランさくら", buyer_fax="03-1111-2223",
                       supplier_name="みどり青果", fax_to="03-1234-5679",
                       rows=tuple((f"品目 {n:02d}", "ケース", 100 * n, "") for n in range(1, 26)))
FORMS = {12: SHEET}


@pytest.fixture(scope="module")
def blank() -> tuple[Image.Image, Image.Image]:
    """The form's two pages as the buyer's fax machine prints them."""
    pdf = render_buyer_form(SHEET, reference=buyer_form_reference(12, SECRET))
    return faxsim.rasterize(pdf, 200, page=0), faxsim.rasterize(pdf, 200, page=1)


def filled(page: Image.Image, rng: random.Random, quantities: dict[int, str], date_text: str | None = None
           ) -> Image.Image:
    """``quantities`` by row of the whole form (1-based); the page's own rows only."""
    for row, text in quantities.items():
        page = faxsim.write_field(page, GEOMETRY, quantity_field_name((row - 1) % 18), text, rng, font=HAND)
    if date_text:
        page = faxsim.write_field(page, GEOMETRY, "delivery_date", date_text, rng, font=HAND)
    return page


def faxed(*pages: Image.Image, rng: random.Random, resolution: str = "fine", skew: float = 1.5,
          upside_down: bool = False, tiff: bool = False) -> list[Image.Image]:
    sent = [faxsim.degrade(p, resolution=resolution, skew_deg=skew, noise=0.5,  # type: ignore[arg-type]
                           upside_down=upside_down, rng=rng) for p in pages]
    if tiff:
        return pages_from_attachment(faxsim.to_tiff(sent), "image/tiff", "fax.tif")
    return pages_from_attachment(faxsim.to_pdf(sent), "application/pdf", "fax.pdf")


def read(pages: list[Image.Image], received_on: date = RECEIVED) -> BuyerFormReading:
    reading = read_buyer_form(pages, FORM, FORMS.get, received_on=received_on)
    assert reading is not None
    return reading


def values(reading: BuyerFormReading) -> dict[int, str | None]:
    return {row: value.value for row, value in reading.quantities.items()}


PAGE_1 = {1: "3", 4: "24", 9: "2.5"}
PAGE_2 = {20: "4", 25: "8"}


# -- a form filled in and faxed ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("resolution", "skew", "upside_down", "tiff"), [
    ("fine", 1.5, False, False),
    ("fine", -1.0, True, True),
])
def test_a_two_page_form_gives_its_rows_quantities_and_date(blank: tuple[Image.Image, Image.Image], resolution: str,
                                                            skew: float, upside_down: bool, tiff: bool) -> None:
    rng = random.Random(f"form-{resolution}-{int(upside_down)}-0")
    pages = faxed(filled(blank[0], rng, PAGE_1, "11/25"), filled(blank[1], rng, PAGE_2), rng=rng,
                  resolution=resolution, skew=skew, upside_down=upside_down, tiff=tiff)
    reading = read(pages)

    assert (reading.form_id, reading.pages, reading.missing_pages) == (12, (1, 2), ()), reading.reasons
    assert values(reading) == PAGE_1 | PAGE_2, reading.reasons  # and no blank row
    assert all(v.confidence >= 0.8 and v.reason is None for v in reading.quantities.values())
    assert reading.delivery_date is not None and reading.delivery_date.value == "2026-11-25", reading.reasons
    assert reading.delivery_date.page == 1 and reading.delivery_date.text == "11/25"
    assert reading.notes is None and reading.reasons == () and not reading.needs_review
    row_9 = reading.quantities[9]
    assert (row_9.name, row_9.page, row_9.text) == ("quantity_09", 1, "2.5")
    assert row_9.box == pytest.approx((166.5, 140.5, 195.5, 147.5))  # row 9 of the page, in mm
    assert reading.quantities[20].page == 2 and reading.quantities[20].name == "quantity_02"
    assert row_9.png.startswith(b"\x89PNG")
    assert len(reading.page_pngs) == 2 and all(p.startswith(b"\x89PNG") for p in reading.page_pngs)


@pytest.mark.slow
def test_in_normal_resolution_what_is_not_read_for_sure_is_unsure_never_wrong(
        blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("form-normal")
    reading = read(faxed(filled(blank[0], rng, PAGE_1, "11/25"), filled(blank[1], rng, PAGE_2), rng=rng,
                         resolution="normal", skew=-1.5))

    written = PAGE_1 | PAGE_2
    assert set(reading.quantities) == set(written), reading.reasons  # blank rows are read as blank
    for row, value in reading.quantities.items():
        if value.value is not None and value.confidence >= 0.8:
            assert Decimal(value.value) == Decimal(written[row])
        else:
            assert value.reason and value.reason.startswith(f"row {row}:") and value.reason in reading.reasons
    assert reading.delivery_date is not None
    assert reading.delivery_date.value in ("2026-11-25", None)


@pytest.mark.slow
def test_one_page_of_two_faxed_names_the_missing_page(blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("page-two")
    reading = read(faxed(filled(blank[1], rng, {19: "5"}), rng=rng, resolution="normal"))

    assert (reading.form_id, reading.pages, reading.missing_pages) == (12, (2,), (1,))
    assert values(reading) == {19: "5"}, reading.reasons
    assert "page 1 of 2 not received" in reading.reasons
    assert reading.delivery_date is None


@pytest.mark.slow
def test_a_scrawl_in_a_quantity_box_is_unsure_with_a_reason(blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("scrawl")
    page = faxsim.scrawl(filled(blank[0], rng, {2: "5"}), GEOMETRY, quantity_field_name(6), rng)
    reading = read(faxed(page, rng=rng))

    scrawled = reading.quantities[7]
    assert scrawled.value is None and scrawled.confidence < 0.8
    assert scrawled.reason and scrawled.reason.startswith("row 7:") and scrawled.reason in reading.reasons
    assert scrawled.png.startswith(b"\x89PNG")  # the operator sees what was written
    assert values(reading) == {2: "5", 7: None}, reading.reasons
    assert reading.needs_review


@pytest.mark.slow
def test_writing_beside_a_box_or_in_a_row_without_a_product_is_unsure(blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("outside")
    row_3 = GEOMETRY.field_for(quantity_field_name(2)).rect
    page = faxsim.write(blank[1], GEOMETRY, Rect(row_3.right + 0.5, row_3.y, 9.0, row_3.h), "8", rng, font=HAND)
    page = filled(page, rng, {30: "2"})  # page 2 has 7 products: row 30 has none
    reading = read(faxed(page, rng=rng))

    beside = reading.quantities[21]
    assert beside.value is None and beside.confidence < 0.8, reading.reasons
    assert beside.reason == "row 21: writing outside the box, not in it"
    stray = reading.quantities[30]
    assert stray.confidence < 0.8 and stray.reason and "no product in this row" in stray.reason, reading.reasons
    assert reading.needs_review


@pytest.mark.slow
def test_a_year_less_date_is_the_next_such_day_and_one_too_far_off_is_doubted(
        blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("dates")
    pages = faxed(filled(blank[0], rng, {1: "2"}, "1/10"), rng=rng)
    assert read(pages, received_on=date(2026, 12, 28)).delivery_date.value == "2027-01-10"  # type: ignore[union-attr]
    far = read(pages, received_on=date(2026, 1, 11)).delivery_date  # 1/10 is gone: next year's, a year off
    assert far is not None and far.value is None and far.text == "1/10"
    assert far.reason and "a misreading?" in far.reason


@pytest.mark.slow
def test_a_form_whose_qr_code_the_fax_spoilt_is_found_by_its_marks_and_printed_code(
        blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("no-qr")
    page = faxsim.deface(filled(blank[0], rng, {5: "7"}), GEOMETRY, "qr", rng)
    reading = read(faxed(page, rng=rng))

    assert (reading.form_id, reading.pages) == (12, (1,))
    assert values(reading) == {5: "7"}, reading.reasons


# -- not a form of ours ------------------------------------------------------------------------------


def test_pages_that_are_no_form_give_none_quickly(blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("others")
    cover = Image.new("L", (1654, 2339), 255)
    cover.info["dpi"] = (200, 200)
    text = faxsim.render_form(FAXBACK_FORM, "TORII-INV-123-AB12CD")  # an invitation letter: another code
    foreign = faxsim.rasterize(render_buyer_form(SHEET, reference=buyer_form_reference(12, b"another gateway")))
    order = faxsim.rasterize(render_buyer_form(SHEET, reference=order_reference(12, SECRET)))
    for pages in ([cover], faxed(cover, text, rng=rng), faxed(foreign, rng=rng), faxed(order, rng=rng)):
        started = time.perf_counter()
        assert read_buyer_form(pages, FORM, FORMS.get, received_on=RECEIVED) is None
        assert time.perf_counter() - started < 1.0 * len(pages)


def test_odd_images_and_no_pages_give_none_never_an_exception() -> None:
    odd = [Image.new("1", (1, 1)), Image.new("L", (2000, 2800), 0)]
    assert read_buyer_form(odd, FORM, FORMS.get, received_on=RECEIVED) is None
    assert read_buyer_form([], FORM, FORMS.get, received_on=RECEIVED) is None


@pytest.mark.slow
def test_a_blank_form_after_a_cover_page_of_an_unknown_form_is_read_and_says_so(
        blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("cover")
    cover = Image.new("L", (1654, 2339), 255)
    cover.info["dpi"] = (200, 200)
    reading = read_buyer_form(faxed(cover, blank[0], rng=rng), FORM, lambda form_id: None, received_on=RECEIVED)

    assert reading is not None and (reading.form_id, reading.pages, reading.missing_pages) == (12, (1,), ())
    assert reading.quantities == {} and reading.delivery_date is None and reading.needs_review
    assert reading.reasons[0].startswith("fax page 1: not a page of the form")
    assert "form 12 is not known: its rows are not checked against its products" in reading.reasons
    assert "no quantity written" in reading.reasons
    assert len(reading.page_pngs) == 2


@pytest.mark.slow
def test_a_page_faxed_twice_with_different_quantities_is_unsure(blank: tuple[Image.Image, Image.Image]) -> None:
    rng = random.Random("twice")
    reading = read(faxed(filled(blank[0], rng, {2: "3", 5: "4"}), filled(blank[0], rng, {2: "3", 5: "8"}), rng=rng))

    assert (reading.pages, reading.missing_pages) == ((1, 1), (2,))
    assert "page 1 came 2 times" in reading.reasons
    assert reading.quantities[2].value == "3", reading.reasons
    conflict = reading.quantities[5]  # 8 on the second copy, read or not: either way, not the first's
    assert conflict.value is None and conflict.confidence == 0.0
    assert conflict.reason and conflict.reason.startswith("row 5: two copies of page 1 read 4 and "), conflict.reason


def test_a_page_whose_code_reads_but_whose_form_is_not_found_is_not_taken_for_blank(
        blank: tuple[Image.Image, Image.Image]) -> None:
    qr = GEOMETRY.qr.expanded(1.0)
    k = 200 / 25.4
    box = (round(qr.x * k), round(qr.y * k), round(qr.right * k), round(qr.bottom * k))
    page = Image.new("L", blank[1].size, 255)  # the QR code alone: no marks, no fields
    page.paste(blank[1].crop(box), box[:2])
    page.info["dpi"] = (200, 200)
    reading = read([page])

    assert (reading.form_id, reading.pages, reading.unread_pages, reading.missing_pages) == (12, (2,), (2,), (1,))
    assert reading.quantities == {} and reading.needs_review
    assert any(r.startswith("fax page 1 is page 2 of the form, but the form was not found on it")
               for r in reading.reasons), reading.reasons
