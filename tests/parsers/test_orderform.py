"""Order sheets filled in by a supplier and faxed back (samples/faxsim.py), read by read_order_fax.

The hand writes in IPAex Gothic here whatever is installed, so that every machine
reads the same pages; samples and the benchmark use a handwriting font when there is one.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from PIL import Image

from parsers.faxform.geometry import FAXBACK_FORM
from parsers.imaging import pages_from_attachment
from parsers.orderform import OrderFaxReading, read_order_fax, resolve_month_day
from samples import faxsim
from workflows.order_documents.fax_forms import order_fax_form, order_form_geometry
from workflows.order_documents.geometry import quantity_field_name
from workflows.order_documents.references import order_reference
from workflows.order_documents.rendering import render_order_sheet
from workflows.order_documents.sheets import OrderSheet, SheetLine, SheetParty

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

SECRET = b"order-secret-for-the-tests!!"
GEOMETRY = order_form_geometry()
FORM = order_fax_form(SECRET)
HAND = faxsim.FONT


def sheet(lines: int = 5, order_id: int = 123) -> OrderSheet:
    names = ("トマト", "キャベツ", "玉ねぎ", "じゃがいも", "にんじん", "長ねぎ")
    return OrderSheet(
        order_id=order_id, number=f"PO-2026-{order_id:06d}",
        ordered_at=datetime(2026, 11, 20, 5, 5, tzinfo=UTC), orderer_name="山田 太郎",
        buyer=SheetParty(company="レストランさくら"), supplier=SheetParty(company="みどり青果"),
        delivery=SheetParty(company="レストランさくら", address="東京都渋谷区神宮前1-2-3"),
        desired_date=date(2026, 11, 25), note="",
        lines=tuple(SheetLine(position=n, product_name=names[n % len(names)], quantity=Decimal(5 + n % 4),
                              unit="ケース", unit_price=1000) for n in range(1, lines + 1)))


ORDERS = {123: sheet(), 124: sheet(40, order_id=124)}


def rendered(order: OrderSheet, secret: bytes = SECRET) -> bytes:
    return render_order_sheet(order, reference=order_reference(order.order_id, secret), reply_address="o@torii.test",
                              fax_number="03-1234-5679")


@pytest.fixture(scope="module")
def blank() -> Image.Image:
    """Page 1 of order 123's sheet as the supplier's fax machine prints it."""
    return faxsim.rasterize(rendered(ORDERS[123]), 200)


def filled(page: Image.Image, rng: random.Random, marks: tuple[tuple[str, str], ...] = (),
           quantities: dict[int, str] | None = None, date_text: str | None = None) -> Image.Image:
    for answer, style in marks:
        page = faxsim.mark(page, GEOMETRY, answer, style, rng)
    for row, text in (quantities or {}).items():
        page = faxsim.write_field(page, GEOMETRY, quantity_field_name(row), text, rng, font=HAND)
    if date_text:
        page = faxsim.write_field(page, GEOMETRY, "delivery_date", date_text, rng, font=HAND)
    return page


def faxed(*pages: Image.Image, rng: random.Random, resolution: str = "fine", skew: float = 1.5,
          upside_down: bool = False) -> list[Image.Image]:
    sent = [faxsim.degrade(p, resolution=resolution, skew_deg=skew, noise=0.5,  # type: ignore[arg-type]
                           upside_down=upside_down, rng=rng) for p in pages]
    return pages_from_attachment(faxsim.to_pdf(sent), "application/pdf", "fax.pdf")


def read(pages: list[Image.Image]) -> OrderFaxReading:
    return read_order_fax(pages, FORM, ORDERS.get, read_contact=False)


# -- each box ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "style", "resolution", "upside_down"), [
    ("confirm", "tick", "normal", False),
    ("confirm", "circle", "fine", True),
    ("decline", "cross", "normal", True),
    ("decline", "fill", "fine", False),
])
def test_a_ticked_box_of_a_faxed_back_sheet_is_its_answer(blank: Image.Image, answer: str, style: str,
                                                         resolution: str, upside_down: bool) -> None:
    rng = random.Random(f"{answer}-{style}")
    reading = read(faxed(filled(blank, rng, ((answer, style),)), rng=rng, resolution=resolution,
                         skew=-2.0 if upside_down else 2.5, upside_down=upside_down))

    assert (reading.order_id, reading.answer) == (123, answer), reading.reasons
    assert reading.confidence >= 0.9
    assert reading.quantities == {} and reading.delivery_date is None
    assert reading.pages == (1,) and reading.page_count == 1
    assert len(reading.page_pngs) == 1 and reading.page_pngs[0].startswith(b"\x89PNG")


def test_partial_with_written_quantities_and_a_date_reads_them_back(blank: Image.Image) -> None:
    rng = random.Random("partial-fine")
    page = filled(blank, rng, (("partial", "tick"),), {0: "3", 2: "4", 3: "2.5"}, "11/30")
    reading = read(faxed(page, rng=rng, resolution="fine", skew=1.0, upside_down=True))

    assert (reading.order_id, reading.answer) == (123, "partial"), reading.reasons
    assert reading.quantities == {1: Decimal(3), 3: Decimal(4), 4: Decimal("2.5")}, reading.reasons
    assert all(c >= 0.9 for c in reading.quantity_confidence.values())
    assert (reading.delivery_date, reading.delivery_date_text) == (date(2026, 11, 30), "11/30")
    assert reading.confidence >= 0.8
    assert set(reading.field_pngs) == {"quantity:1", "quantity:3", "quantity:4", "delivery_date"}


def test_in_normal_resolution_what_is_not_read_for_sure_goes_to_review_never_wrong(blank: Image.Image) -> None:
    rng = random.Random("partial-normal")
    page = filled(blank, rng, (("partial", "cross"),), {0: "2", 2: "4", 3: "1.5"}, "11/27")
    reading = read(faxed(page, rng=rng, resolution="normal", skew=-1.5))

    assert reading.answer == "partial"
    written = {1: Decimal(2), 3: Decimal(4), 4: Decimal("1.5")}
    assert reading.quantities and all(written[p] == q for p, q in reading.quantities.items()), reading.reasons
    unread = set(written) - set(reading.quantities)
    assert all(any(r.startswith(f"line {p}: quantity written but not read") for r in reading.reasons) for p in unread)
    assert reading.delivery_date in (date(2026, 11, 27), None)
    if unread or reading.delivery_date is None:
        assert reading.confidence < 0.8, reading.reasons


def test_a_year_less_date_before_the_order_date_is_next_year(blank: Image.Image) -> None:
    assert resolve_month_day("1/10", date(2026, 11, 20)) == date(2027, 1, 10)
    assert resolve_month_day("11月20日", date(2026, 11, 20)) == date(2026, 11, 20)
    assert resolve_month_day("2026/12/01", date(2026, 11, 20)) == date(2026, 12, 1)
    assert resolve_month_day("2/29", date(2026, 11, 20)) == date(2028, 2, 29)
    assert resolve_month_day("13/40", date(2026, 11, 20)) is None


# -- never a guess ----------------------------------------------------------------------------------


def test_two_boxes_ticked_go_to_review_without_an_answer(blank: Image.Image) -> None:
    rng = random.Random("double")
    reading = read(faxed(filled(blank, rng, (("confirm", "tick"), ("decline", "tick"))), rng=rng))

    assert (reading.order_id, reading.answer) == (123, None)
    assert reading.confidence < 0.5
    assert any("two boxes marked" in r for r in reading.reasons), reading.reasons


def test_a_blank_sheet_has_no_answer_and_says_so(blank: Image.Image) -> None:
    rng = random.Random("blank")
    reading = read(faxed(blank, rng=rng, resolution="normal", upside_down=True))

    assert (reading.order_id, reading.answer) == (123, None)
    assert "no box marked" in reading.reasons


def test_confirm_with_quantities_other_than_ordered_is_no_answer(blank: Image.Image) -> None:
    rng = random.Random("confirm-quantities")
    reading = read(faxed(filled(blank, rng, (("confirm", "tick"),), {1: "2"}), rng=rng))

    assert reading.answer is None
    assert reading.confidence < 0.8
    assert any(r.startswith("confirm marked, but quantities differ") for r in reading.reasons), reading.reasons


def test_partial_with_a_quantity_nobody_can_read_goes_below_the_review_bar(blank: Image.Image) -> None:
    rng = random.Random("scrawl")
    reading = read(faxed(filled(blank, rng, (("partial", "cross"),), {0: "ぐちゃ"}), rng=rng))

    assert reading.answer == "partial"
    assert reading.confidence < 0.8
    assert 1 not in reading.quantities
    assert any(r.startswith("line 1: quantity written but not read") for r in reading.reasons), reading.reasons
    assert "quantity:1" in reading.field_pngs  # the operator sees what was written


def test_partial_without_any_quantity_goes_below_the_review_bar(blank: Image.Image) -> None:
    rng = random.Random("partial-empty")
    reading = read(faxed(filled(blank, rng, (("partial", "tick"),)), rng=rng))

    assert reading.answer == "partial" and reading.confidence < 0.8
    assert "partial, but no quantity written" in reading.reasons


# -- which order ------------------------------------------------------------------------------------


def test_a_sheet_of_another_gateway_names_no_order() -> None:
    rng = random.Random("foreign")
    page = filled(faxsim.rasterize(rendered(ORDERS[123], secret=b"another gateway's secret"), 200), rng,
                  (("confirm", "tick"),))
    reading = read(faxed(page, rng=rng))

    assert (reading.order_id, reading.answer) == (None, None)
    assert any("no order sheet found" in r for r in reading.reasons), reading.reasons


def test_an_invitation_letters_qr_code_is_not_an_order() -> None:
    rng = random.Random("letter")
    page = faxsim.render_form(FAXBACK_FORM, "TORII-INV-123-AB12CD")
    reading = read(faxed(page, rng=rng))

    assert reading.order_id is None
    assert reading.reasons


def test_page_two_of_a_40_line_order_faxed_back_alone_gives_its_own_lines() -> None:
    rng = random.Random("page-two")
    page = faxsim.rasterize(rendered(ORDERS[124]), 200, page=1)
    reading = read(faxed(filled(page, rng, (("partial", "tick"),), {0: "3", 5: "1"}), rng=rng, resolution="normal"))

    assert (reading.order_id, reading.answer, reading.pages, reading.page_count) == (124, "partial", (2,), 3)
    assert reading.quantities == {19: Decimal(3), 24: Decimal(1)}, reading.reasons
    assert reading.confidence < 0.8  # pages 1 and 3 were not sent: their lines are not known
    assert any("page 1, 3 of 3 not received" in r for r in reading.reasons), reading.reasons


def test_a_cover_page_is_skipped_and_the_sheet_read() -> None:
    rng = random.Random("cover")
    cover = Image.new("L", (1654, 2339), 255)
    cover.info["dpi"] = (200, 200)
    form = filled(faxsim.rasterize(rendered(ORDERS[123]), 200), rng, (("confirm", "cross"),))
    reading = read(faxed(cover, form, rng=rng))

    assert (reading.order_id, reading.answer, reading.pages) == (123, "confirm", (1,))
    assert any(r.startswith("fax page 1: no order sheet found") for r in reading.reasons)
    assert len(reading.page_pngs) == 2


def test_an_unknown_order_and_odd_images_give_a_reading_never_an_exception(blank: Image.Image) -> None:
    reading = read_order_fax([blank], FORM, lambda order_id: None, read_contact=False)
    assert (reading.order_id, reading.answer) == (123, None)
    assert "order 123 is not known" in reading.reasons
    odd = read_order_fax([Image.new("1", (1, 1)), Image.new("L", (2000, 2800), 0)], FORM, ORDERS.get)
    assert (odd.order_id, odd.answer) == (None, None) and odd.reasons
    assert read_order_fax([], FORM, ORDERS.get).reasons
