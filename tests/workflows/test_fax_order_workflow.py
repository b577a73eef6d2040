"""Fax orders in process: a delivery to the order fax address, read, matched, placed or put to review.

These use text-layer PDFs (fast, exact) to test what the workflow decides; the OCR
path is tested end to end in tests/e2e/test_fax_orders.py.
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select
from weasyprint import HTML

from gateway import intake
from parsers.dates import next_month_day
from parsers.fax_report import FaxFailure
from parsers.faxorder.readings import Field, FreeFormReading, ItemLine
from parsers.products import CatalogEntry
from samples import fax_orders as samples
from samples import faxsim
from workflows import clock, inbound
from workflows import fax_order as fax_orders
from workflows.catalog.register import put_product
from workflows.config import Settings, load_settings
from workflows.db import Database
from workflows.errors import TransitionRefused
from workflows.fax_order.duplicates import SAME_PAGE_BITS, hash_distance
from workflows.fax_order.matching import free_form_lines, line_doubts, match_line
from workflows.faxes import finish_attempt
from workflows.models import (
    Buyer,
    DeliveryAddress,
    FaxJob,
    FaxOrder,
    FaxStatus,
    InboundMessage,
    Order,
    OrderLine,
    OutboundMessage,
    Product,
    ProductAlias,
    Supplier,
)
from workflows.order_documents.fax_forms import buyer_form_geometry
from workflows.order_documents.geometry import quantity_field_name
from workflows.registry import after_fax

pytestmark = pytest.mark.dates

BUYER_FAX = "03-5555-0101"
# Delivery dates a few days after today (Tokyo), so that the sheets stay orders the gateway would take.
SOON = clock.today() + timedelta(days=3)
LATER = SOON + timedelta(days=2)
WEEKDAYS = "月火水木金土日"


def written(day: date, weekday: int | None = None) -> str:
    """A delivery date as the sheets write it, 2026年11月25日(水); with another ``weekday`` when given."""
    return f"{day.year}年{day.month}月{day.day}日({WEEKDAYS[day.weekday() if weekday is None else weekday]})"


WRONG_WEEKDAY = (SOON.weekday() + 2) % 7
PRODUCTS = (("トマト (桃太郎)", "ケース", 3200), ("キャベツ", "玉", 180), ("玉ねぎ 10kg", "袋", 2400),
            ("大葉", "束", 120), ("鶏卵 Mサイズ", "パック", 280))


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return replace(load_settings(), database_url=db.url, mail_domain="torii.test", home=tmp_path,
                   fax_order_address="fax-orders@torii.test")


@pytest.fixture
def catalog(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        buyer = Buyer(name="居酒屋 まるよし", email="order@maruyoshi.example", fax="+81355550101")
        session.add(buyer)
        session.flush()
        session.add(DeliveryAddress(buyer_id=buyer.id, name="本店", address="東京都台東区1-2-3"))
        supplier = Supplier(buyer_id=buyer.id, name="有限会社 八百新青果", channel="fax", fax_number="+81312345678")
        session.add(supplier)
        session.flush()
        ids = {"buyer": buyer.id, "supplier": supplier.id}
        for name, unit, price in PRODUCTS:
            product, _ = put_product(session, supplier.id, {"name": name, "unit": unit, "unit_price": price})
            ids[name] = product.id
        return ids


def sheet(rows: list[tuple[str, str, str]], *, date_line: str = f"納品希望日：{written(SOON)}",
          fax: str = BUYER_FAX, shop: str = "居酒屋 まるよし") -> bytes:
    """A buyer's own order sheet as its office software prints it: a ruled table, a text layer."""
    cells = "".join(f"<tr><td>{i}</td><td>{item}</td><td>{qty}</td><td>{unit}</td></tr>"
                    for i, (item, qty, unit) in enumerate(rows, 1))
    html = f"""<html><head><style>body {{ font-family: "IPAexGothic"; font-size: 12pt; }}
      td, th {{ border: 1px solid #000; padding: 4px 10px; }} table {{ border-collapse: collapse; }}</style></head>
      <body><h1>FAX注文書</h1><p>有限会社 八百新青果 御中</p>
      <p>店名：{shop}　　　FAX {fax}</p><p>{date_line}</p>
      <table><tr><th>No</th><th>品名</th><th>数量</th><th>単位</th></tr>{cells}</table>
      <p>備考：午前中にお願いします</p></body></html>"""
    return HTML(string=html).write_pdf()


def deliver(db: Database, settings: Settings, attachment: bytes, *, subject: str = f"FAX受信 送信元:{BUYER_FAX}",
            filename: str = "fax.pdf", ctype: tuple[str, str] = ("application", "pdf")) -> InboundMessage:
    message = EmailMessage()
    message["From"] = "fax@service.example"
    message["To"] = "fax-orders@torii.test"
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"  # fax services mark their deliveries automatic
    message.set_content("1 page received")
    message.add_attachment(attachment, maintype=ctype[0], subtype=ctype[1], filename=filename)
    stored = intake.store(db, message.as_bytes(), channel="smtp", mail_from="fax@service.example",
                          rcpt_tos=["fax-orders@torii.test"])
    inbound.process(db, settings, stored.id)
    with db.sessions() as session:
        row = session.get(InboundMessage, stored.id)
        assert row is not None
        return row


def fax_order(db: Database, fax_order_id: int | None) -> FaxOrder:
    with db.sessions() as session:
        found = session.get(FaxOrder, fax_order_id)
        assert found is not None
        return found


def order_lines(db: Database, order_id: int | None) -> list[tuple[str, str, str]]:
    with db.sessions() as session:
        return [(line.product_name, str(line.quantity), line.unit) for line in session.scalars(
            select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position))]


def test_a_sure_fax_order_is_placed_and_confirmed_by_fax_to_the_number_it_came_from(
        db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    row = deliver(db, settings, sheet([("ﾄﾏﾄ", "3", "ケース"), ("キャベツ", "１０", "玉"), ("たまねぎ", "2", "袋")]))

    assert (row.status, row.kind, row.object_type) == ("processed", "fax_order", "fax_order")
    found = fax_order(db, row.object_id)
    assert (found.state, found.buyer_id, found.supplier_id) == ("accepted", catalog["buyer"], catalog["supplier"])
    assert found.sender_fax == "+81355550101"
    assert order_lines(db, found.order_id) == [("トマト (桃太郎)", "3", "ケース"), ("キャベツ", "10", "玉"),
                                               ("玉ねぎ 10kg", "2", "袋")]
    with db.sessions() as session:
        order = session.get(Order, found.order_id)
        assert order is not None and order.desired_date == SOON and order.note == "午前中にお願いします"
        jobs = list(session.scalars(select(FaxJob).order_by(FaxJob.id)))
        confirmation_pdf = jobs[1].pdf
    # The sheet goes on to the supplier (by fax, its channel); the confirmation back to the buyer's fax.
    assert [(j.object_type, j.kind, j.number) for j in jobs] == [
        ("order", "order_sheet", "+81312345678"), ("fax_order", "fax_order_confirmation", "+81355550101")]
    text = pdfium.PdfDocument(confirmation_pdf)[0].get_textpage().get_text_range()
    assert "FAXご注文受付" in text and "トマト (桃太郎)" in text and f"{SOON:%Y年%m月%d日}" in text
    # Every field kept its place on the page and its confidence.
    line = found.reading["lines"][0]
    assert line["item"]["text"] == "ﾄﾏﾄ" and line["product"]["name"] == "トマト (桃太郎)"
    assert line["quantity"]["page"] == 1 and line["quantity"]["box"][0] > line["item"]["box"][2]

    with db.transaction() as session:
        job = session.get(FaxJob, jobs[1].id, with_for_update=True)
        assert job is not None
        job.status = FaxStatus.SENDING
        finish_attempt(session, job, ok=True, failure=None, detail="sent")
        after_fax(session, settings, job)
    assert fax_order(db, found.id).state == "confirmation_sent"


def test_an_unknown_product_goes_to_review_and_the_correction_is_remembered(
        db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    row = deliver(db, settings, sheet([("ﾀﾏｺﾞ", "2", "パック"), ("大葉", "5", "束")]))

    found = fax_order(db, row.object_id)
    assert row.status == "review" and found.state == "needs_review"
    assert "'ﾀﾏｺﾞ' is not a product" in (found.reason or "")
    assert found.order_id is None

    with db.transaction() as session:
        locked = session.get(FaxOrder, found.id, with_for_update=True)
        assert locked is not None
        fax_orders.accept(session, settings, locked, {"lines": [
            {"position": 1, "product_id": catalog["鶏卵 Mサイズ"], "quantity": "2"},
            {"position": 2, "product_id": catalog["大葉"], "quantity": "5"}]})
    accepted = fax_order(db, found.id)
    assert accepted.state == "accepted"
    assert order_lines(db, accepted.order_id) == [("鶏卵 Mサイズ", "2", "パック"), ("大葉", "5", "束")]
    with db.sessions() as session:
        assert [(a.alias, a.product_id) for a in session.scalars(select(ProductAlias))] == [
            ("ﾀﾏｺﾞ", catalog["鶏卵 Mサイズ"])]
        assert session.get(InboundMessage, row.id).status == "resolved"  # type: ignore[union-attr]

    # The same buyer's next fax with its own word for eggs needs nobody.
    again = deliver(db, settings, sheet([("ﾀﾏｺﾞ", "4", "パック")], date_line=f"納品希望日：{written(LATER)}"))
    assert again.status == "processed"
    assert order_lines(db, fax_order(db, again.object_id).order_id) == [("鶏卵 Mサイズ", "4", "パック")]

    with db.transaction() as session, pytest.raises(TransitionRefused, match="already accepted"):
        fax_orders.accept(session, settings, session.get(FaxOrder, found.id), {})  # type: ignore[arg-type]


@pytest.mark.parametrize(("rows", "date_line", "reason"), [
    ([("キャベツ", "十数", "玉")], f"納品希望日：{written(SOON)}", "line 1: quantity unsure"),
    ([("キャベツ", "10", "玉")], "よろしくお願いします", "no delivery date on the sheet"),
    ([("キャベツ", "10", "本")], f"納品希望日：{written(SOON)}", "written in 本, キャベツ is sold by 玉"),
    # above the confidence bar (0.8) but no sure match: the matcher's own verdict stands
    ([("キャベツ芯", "10", "玉")], f"納品希望日：{written(SOON)}", "'キャベツ芯' only resembles 'キャベツ' (0.89)"),
    ([("キャベツ", "10", "玉")], f"納品希望日：{written(SOON, WRONG_WEEKDAY)}",
     f"{SOON} is a {SOON:%A}, not a {date(2024, 1, 1 + WRONG_WEEKDAY):%A}"),  # 2024-01-01: a Monday
])
def test_what_the_reader_is_unsure_of_goes_to_review_with_the_reason(
        db: Database, settings: Settings, catalog: dict[str, int], rows: list[tuple[str, str, str]],
        date_line: str, reason: str) -> None:
    row = deliver(db, settings, sheet(rows, date_line=date_line))

    found = fax_order(db, row.object_id)
    assert (row.status, found.state) == ("review", "needs_review")
    assert reason in (found.reason or "") and reason in (row.reason or "")
    assert found.reading["pages"][0]["document_id"]  # the page image is kept for the reviewer


def test_a_unit_that_converts_is_converted_to_the_products_unit(db: Database, settings: Settings,
                                                                catalog: dict[str, int]) -> None:
    with db.transaction() as session:
        put_product(session, catalog["supplier"], {"name": "生姜", "unit": "kg", "unit_price": 900})
    row = deliver(db, settings, sheet([("生姜", "500", "g")]))
    assert row.status == "processed"
    assert order_lines(db, fax_order(db, row.object_id).order_id) == [("生姜", "0.5", "kg")]


def test_the_same_fax_twice_is_one_order(db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    pdf = sheet([("キャベツ", "10", "玉")])
    first = deliver(db, settings, pdf)
    # Sent again: a new delivery (its own Message-ID and time), the same pages.
    second = deliver(db, settings, pdf, subject=f"FAX受信 送信元:{BUYER_FAX} (再送)")

    assert first.status == "processed"
    assert (second.status, second.object_id) == ("ignored", first.object_id)
    assert second.reason == f"duplicate of fax order {first.object_id} (the same pages sent again)"
    with db.sessions() as session:
        assert session.scalar(select(Order.id).where(Order.id > 0).order_by(Order.id.desc())) == \
            fax_order(db, first.object_id).order_id
        assert len(list(session.scalars(select(FaxOrder)))) == 1


def test_the_buyers_next_order_on_the_same_sheet_is_a_new_order_though_it_looks_alike(
        db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    first = deliver(db, settings, sheet([("キャベツ", "10", "玉"), ("大葉", "3", "束")]))
    # the same template, the same number of rows: its page looks nearly the same; the order does not
    second = deliver(db, settings, sheet([("玉ねぎ 10kg", "2", "袋"), ("キャベツ", "4", "玉")]))
    # and the same lines for another day are another order too
    third = deliver(db, settings, sheet([("キャベツ", "10", "玉"), ("大葉", "3", "束")],
                                        date_line=f"納品希望日：{written(LATER)}"))

    assert [row.status for row in (first, second, third)] == ["processed"] * 3
    assert len({first.object_id, second.object_id, third.object_id}) == 3
    with db.sessions() as session:
        placed = session.scalars(select(FaxOrder).order_by(FaxOrder.id)).all()
        assert [len(order.reading["lines"]) for order in placed] == [2, 2, 2]
        assert placed[0].reading["page_hashes"] != [] and all(
            hash_distance(a, b) <= SAME_PAGE_BITS
            for a, b in zip(placed[0].reading["page_hashes"], placed[1].reading["page_hashes"], strict=True))


@pytest.mark.slow
def test_a_sheet_faxed_again_is_one_order_though_ocr_reads_the_second_copy_a_little_differently(
        db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    truth = samples.make_order(random.Random("resent"), "ruled", received_at=clock.now(), line_count=6)
    # the same sheet through the feeder twice: turned and speckled differently
    copies = [samples.fax(truth, random.Random("resent/sheet"), resolution="fine", skew_deg=skew, noise=noise,
                          header=True) for skew, noise in ((1.0, 0.15), (-0.7, 0.35))]

    first, second = (deliver(db, settings, data) for data in copies)

    assert (second.status, second.object_id) == ("ignored", first.object_id)
    with db.sessions() as session:
        assert len(session.scalars(select(FaxOrder)).all()) == 1


def test_a_fax_from_an_unknown_number_is_kept_for_review(db: Database, settings: Settings,
                                                        catalog: dict[str, int]) -> None:
    row = deliver(db, settings, sheet([("キャベツ", "10", "玉")], fax="06-1111-2222"),
                  subject="FAX受信 送信元:06-1111-2222")
    found = fax_order(db, row.object_id)
    assert found.state == "needs_review"
    # The sheet names the buyer, but neither the line it came from nor the number on it is the buyer's.
    assert found.buyer_id == catalog["buyer"]
    assert "recognised by the name on the sheet only" in (found.reason or "")

    stranger = deliver(db, settings, sheet([("キャベツ", "3", "玉")], fax="06-1111-2223", shop="そば処 はなや"),
                       subject="FAX受信 送信元:06-1111-2223")
    unknown = fax_order(db, stranger.object_id)
    assert (unknown.state, unknown.buyer_id, unknown.order_id) == ("needs_review", None, None)
    assert "unknown buyer: the fax came from +81611112223" in (unknown.reason or "")


def test_a_sheet_from_the_buyers_number_sent_from_another_line_is_reviewed(
        db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    row = deliver(db, settings, sheet([("キャベツ", "10", "玉")]), subject="FAX受信 送信元:06-1111-2222")
    found = fax_order(db, row.object_id)
    assert found.state == "needs_review"
    assert "fax number written on the sheet (+81355550101) is 居酒屋 まるよし's, but the fax came from +81611112222" \
        in (found.reason or "")


def _blank_pdf(pages: int) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(595, 842).close()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def bomb_pdf(width: int = 100_000, height: int = 100_000) -> bytes:
    """One A4 page drawing a 1-bit image that claims width × height pixels, in a few kilobytes of zeros."""
    data = zlib.compress(b"\x00" * (width // 8) * 1000)
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 5 0 R >> >>"
               b" /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1"
               b" /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (width, height, len(data), data)]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


ENCRYPTED = Path(__file__).parents[2].parent / "shared" / "corpus" / "pdf" / "bad" / "pypdf__r5-user-password.pdf"


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: ENCRYPTED.read_bytes(), "unparseable: encrypted PDF"),
    (lambda: b"%PDF-1.4\n%garbage\n", "unparseable: corrupt PDF"),
    (lambda: _blank_pdf(0), "unparseable: no pages"),
], ids=["encrypted", "corrupt", "zero-page"])
def test_a_bad_pdf_is_kept_with_its_reason_and_the_worker_goes_on(
        db: Database, settings: Settings, catalog: dict[str, int], make: object, reason: str) -> None:
    if make is not bomb_pdf and not ENCRYPTED.exists():
        pytest.skip("the shared corpus is not here")
    row = deliver(db, settings, make())  # type: ignore[operator]

    found = fax_order(db, row.object_id)
    assert (row.status, found.state) == ("review", "needs_review")
    assert reason in (found.reason or "") and reason in (row.reason or "")
    with db.sessions() as session:
        assert session.get(InboundMessage, row.id).sha256  # type: ignore[union-attr]  # the raw fax is kept
    # The same worker takes the next fax as if nothing had happened.
    assert deliver(db, settings, sheet([("大葉", "5", "束")])).status == "processed"


@pytest.mark.parametrize(("make", "reason"), [
    (lambda: _blank_pdf(200), "too large: 200 pages (at most 50) (fax.pdf)"),
    (bomb_pdf, "too large: page 1 embeds an image of 100000×100000 pixels (at most 100 Mpx) (fax.pdf)"),
], ids=["200-page", "bomb"])
def test_a_pdf_over_a_limit_goes_to_review_as_too_large_and_makes_no_fax_order(
        db: Database, settings: Settings, catalog: dict[str, int], make: object, reason: str) -> None:
    row = deliver(db, settings, make())  # type: ignore[operator]

    assert (row.status, row.reason, row.object_id) == ("review", reason, None)
    with db.sessions() as session:
        assert session.get(InboundMessage, row.id).sha256  # type: ignore[union-attr]  # the raw fax is kept
        assert session.scalar(select(func.count()).select_from(FaxOrder)) == 0
    assert deliver(db, settings, sheet([("大葉", "5", "束")])).status == "processed"


def test_a_discarded_fax_order_places_nothing(db: Database, settings: Settings, catalog: dict[str, int]) -> None:
    row = deliver(db, settings, _blank_pdf(1))
    with db.transaction() as session:
        fax_orders.discard(session, settings, session.get(FaxOrder, row.object_id), "a test page")  # type: ignore
    found = fax_order(db, row.object_id)
    assert (found.state, found.order_id) == ("discarded", None)
    with db.sessions() as session:
        assert session.get(InboundMessage, row.id).status == "resolved"  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_gateways_own_form_is_read_by_position_and_placed(db: Database, settings: Settings,
                                                              catalog: dict[str, int],
                                                              frozen_clock: clock.FrozenClock) -> None:
    settings = replace(settings, fax_number="03-1234-9999")
    # The buyer faxes on the next 22 November, asking delivery on the 25th (written as people do, without a year).
    faxed_on = next_month_day(11, 22, clock.today())
    assert faxed_on is not None
    frozen_clock.set(datetime.combine(faxed_on, time(9, 0), clock.TOKYO))
    with db.transaction() as session:
        form, pdf = fax_orders.issue_form(session, settings, catalog["supplier"], {})
        form_id = form.id
    assert "TORII-FRM-" in pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    rng = random.Random(5)
    page = faxsim.rasterize(pdf, 200, page=0)
    geometry = buyer_form_geometry()
    # Rows follow the supplier's products as issued: トマト, キャベツ, 玉ねぎ, 大葉, 鶏卵.
    for row, text in ((2, "12"), (4, "3")):
        page = faxsim.write_field(page, geometry, quantity_field_name(row - 1), text, rng, font=faxsim.FONT)
    page = faxsim.write_field(page, geometry, "delivery_date", "11/25", rng, font=faxsim.FONT)
    sent = faxsim.degrade(page, resolution="fine", skew_deg=1.0, noise=0.3, upside_down=False, rng=rng)

    row = deliver(db, settings, faxsim.to_tiff([sent]), filename="fax.tif", ctype=("image", "tiff"),
                  subject="FAX from 0355550101")

    found = fax_order(db, row.object_id)
    assert (found.layout, found.form_id) == ("form", form_id)
    assert [(line["row"], line["product"]["name"], line["quantity"]["value"]) for line in found.reading["lines"]] \
        == [(2, "キャベツ", "12"), (4, "大葉", "3")]
    assert found.state == "accepted", found.reason
    assert order_lines(db, found.order_id) == [("キャベツ", "12", "玉"), ("大葉", "3", "束")]
    with db.sessions() as session:
        placed = session.get(Order, found.order_id)
        assert placed is not None and placed.desired_date == faxed_on + timedelta(days=3)


def test_a_confirmation_fax_that_fails_is_mailed_instead(db: Database, settings: Settings,
                                                         catalog: dict[str, int]) -> None:
    row = deliver(db, settings, sheet([("キャベツ", "10", "玉")]))
    with db.transaction() as session:
        job = session.scalars(select(FaxJob).where(FaxJob.object_type == "fax_order")).one()
        job.status = FaxStatus.SENDING
        finish_attempt(session, job, ok=False, failure=FaxFailure.BAD_NUMBER, detail="no such number")
        after_fax(session, settings, job)
    with db.sessions() as session:
        mailed = session.scalars(select(OutboundMessage).where(OutboundMessage.object_type == "fax_order")).one()
        assert (mailed.kind, mailed.to_addr) == ("fax_order_confirmation", "order@maruyoshi.example")
        assert "FAXご注文受付" in mailed.subject
    assert fax_order(db, row.object_id).state == "accepted"


def test_an_item_ocr_misread_is_matched_by_another_reading_of_its_ink_only_when_they_agree() -> None:
    entries = [CatalogEntry(1, "絹ごし豆腐"), CatalogEntry(2, "木綿豆腐"), CatalogEntry(3, "生姜")]

    def line(text: str, *alternatives: str) -> ItemLine:
        return ItemLine(Field(text, text, 0.3, 1, (20, 40, 40, 44), alternatives=alternatives),
                        Field("3", "3", 0.95, 1, (100, 40, 104, 44)))

    match, read = match_line(line("生半", "生姜", "生"), entries, {})
    assert (match.name, match.reason, read.item.value) == ("生姜", None, "生姜")
    # readings naming two products surely: none is taken
    match, read = match_line(line("豆殴", "絹ごし豆腐", "木綿豆腐"), entries, {})
    assert match.product_id is None or match.reason is not None
    assert read.item.value == "豆殴"
    # a first reading that is sure is kept, whatever the others say
    match, _ = match_line(line("木綿豆腐", "絹ごし豆腐"), entries, {})
    assert match.name == "木綿豆腐"


def test_a_unit_read_unsure_is_sure_when_it_is_the_unit_the_product_named_is_sold_by() -> None:
    catalog = [Product(id=1, name="上白糖 1kg", unit="袋", unit_price=230),
               Product(id=2, name="キャベツ", unit="玉", unit_price=180)]

    def line(item: str, unit: str, item_confidence: float = 0.95) -> ItemLine:
        return ItemLine(Field(item, item, item_confidence, 1, (20, 40, 40, 44)),
                        Field("2", "2", 0.95, 1, (100, 40, 104, 44)),
                        Field(unit, unit, 0.56, 1, (120, 40, 124, 44)))

    free = FreeFormReading(lines=(line("上白糖 1kg", "袋"), line("キャベツ", "袋"), line("上白槽", "袋", 0.4)),
                           delivery_date=None, buyer_name=None, buyer_fax=None, supplier_name=None, note=None,
                           layout="table")
    lines, _ = free_form_lines(free, catalog, {})
    doubts = [line_doubts(stored, 0.8) for stored in lines]

    assert doubts[0] == []
    # 袋 for a product sold by 玉, or for a product the master does not surely name: nothing checks it
    assert any(doubt.startswith("unit unsure") for doubt in doubts[1])
    assert any(doubt.startswith("unit unsure") for doubt in doubts[2])
