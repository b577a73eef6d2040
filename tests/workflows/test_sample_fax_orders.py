"""The fax order generator (samples/fax_orders.py) says on its sheets what its truth says, and
samples/fax_orders/ is what samples/make_fax_orders.py makes."""

from __future__ import annotations

import io
import json
import random
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from PIL import Image

from parsers.units import unit_of
from samples import fax_orders as fo
from samples import make_fax_orders

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "fax_orders"
TRUTH: dict[str, dict[str, Any]] = json.loads((SAMPLES / "truth.json").read_text(encoding="utf-8"))
TEXT_PDFS = sorted(name for name in TRUTH if "-scan" not in name)
SCANS = sorted(name for name in TRUTH if "-scan" in name)
FRIDAY = date(2026, 11, 20)


def fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def page_count(name: str, data: bytes) -> int:
    if name.endswith(".tif"):
        return int(getattr(Image.open(io.BytesIO(data)), "n_frames", 1))
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def fax_images(name: str, data: bytes) -> list[dict[str, Any]]:
    """Each page's one image: its bits per pixel, compression and x/y resolution."""
    if name.endswith(".tif"):
        tiff = Image.open(io.BytesIO(data))
        out = []
        for frame in range(getattr(tiff, "n_frames", 1)):
            tiff.seek(frame)
            xdpi, ydpi = tiff.info["dpi"]
            out.append({"mode": tiff.mode, "compression": tiff.info["compression"],
                        "dpi": (round(xdpi), round(ydpi))})
        return out
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert not "".join(page.extract_text() or "" for page in pdf.pages).strip()  # an image, no text layer
        for page in pdf.pages:
            (image,) = page.images
            width, height = image["srcsize"]
            filters = image["stream"].get_filters()
            out.append({"mode": "1" if image["bits"] == 1 else str(image["bits"]),
                        "compression": "group4" if filters and filters[0][0].name == "CCITTFaxDecode" else filters,
                        "dpi": (round(width / (float(page.width) / 72)), round(height / (float(page.height) / 72)))})
    return out


# --- the committed samples -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fax_orders")
    make_fax_orders.build(out)
    return out


def test_committed_samples_are_what_make_fax_orders_writes(regenerated: Path) -> None:
    assert json.loads((regenerated / "truth.json").read_text(encoding="utf-8")) == TRUTH
    assert sorted(p.name for p in regenerated.iterdir()) == sorted([*TRUTH, "truth.json"])
    # Bytes are the same on one machine, but fonts and libraries elsewhere may set or encode them differently:
    # compare what the files say instead.
    for name in TRUTH:
        committed, fresh = (SAMPLES / name).read_bytes(), (regenerated / name).read_bytes()
        assert page_count(name, fresh) == page_count(name, committed), name
        if name in TEXT_PDFS:
            assert [fold(t) for t in pdf_pages(fresh)] == [fold(t) for t in pdf_pages(committed)], name
        else:
            assert fax_images(name, fresh) == fax_images(name, committed), name
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 3_000_000


def test_committed_samples_cover_every_layout_as_text_and_as_fax() -> None:
    layouts = {TRUTH[name]["layout"] for name in TEXT_PDFS}
    assert layouts == set(fo.TEXT_LAYOUTS)
    assert {TRUTH[name]["layout"] for name in SCANS} == set(fo.LAYOUTS)
    assert any(name.endswith(".tif") and TRUTH[name]["layout"] == "two_page" for name in SCANS)
    assert any(TRUTH[name]["delivery_date"] is None for name in TRUTH)


def _check_text(truth: fo.FaxOrderTruth, pages: list[str]) -> None:
    rows = [fold(row) for page in pages for row in page.splitlines()]
    whole = fold("".join(pages))
    for line in truth.lines:
        quantity = fold(str(line.quantity.normalize()) if line.quantity % 1 else str(int(line.quantity)))
        # the item, its quantity and its unit on one printed row
        assert any(fold(line.written) in row and quantity in row.replace(fold(line.written), "", 1)
                   and fold(line.written_unit) in row for row in rows), (line, rows)
    if truth.date_written:
        assert fold(truth.date_written) in whole
    assert fold(truth.note) in whole
    assert fold(fo.buyer(truth.buyer).fax) in whole


@pytest.mark.parametrize("name", TEXT_PDFS)
def test_committed_text_pdf_says_what_its_truth_says(name: str) -> None:
    truth = fo.truth_from_json(TRUTH[name])
    pages = pdf_pages((SAMPLES / name).read_bytes())
    assert len(pages) == (2 if truth.layout == "two_page" else 1)
    _check_text(truth, pages)


@pytest.mark.parametrize("layout", fo.TEXT_LAYOUTS)
def test_fresh_text_pdf_says_what_its_truth_says(layout: str) -> None:
    rng = random.Random(f"test/{layout}")
    truth = fo.make_order(rng, layout)
    _check_text(truth, pdf_pages(fo.render_pdf(truth, rng)))


def test_amounts_on_sheets_are_quantity_times_price() -> None:
    priced = 0
    for name in TEXT_PDFS:
        truth = fo.truth_from_json(TRUTH[name])
        text = "\n".join(pdf_pages((SAMPLES / name).read_bytes()))
        if "単価" not in text and "Unit price" not in text:
            continue
        priced += 1
        rows = [fold(row) for row in text.splitlines()]
        for line in truth.lines:
            price, amount = fo.product(line.product).price, fo.line_amount(line)
            assert Decimal(amount) == line.quantity * price
            assert any(fold(line.written) in row and row.replace("¥", "").endswith(f"{price:,}{amount:,}")
                       for row in rows), line
        assert f"{fo.order_total(truth):,}" in text
    assert priced >= 2


def test_amounts_are_whole_yen_even_for_half_units() -> None:
    for seed in range(200):
        truth = fo.make_order(random.Random(seed), "ruled")
        for line in truth.lines:
            assert Decimal(fo.line_amount(line)) == line.quantity * fo.product(line.product).price
    halves = [p for p in fo.PRODUCTS if p.unit in ("kg", "L")]
    assert halves and all(p.price % 2 == 0 for p in halves)


# --- dates ---------------------------------------------------------------------------------------------


def test_date_arithmetic_from_a_friday() -> None:
    assert FRIDAY.weekday() == 4
    assert fo.next_week_date(1, FRIDAY) == date(2026, 11, 24)  # 来週火曜
    assert fo.next_week_date(0, FRIDAY) == date(2026, 11, 23)
    assert fo.next_week_date(4, FRIDAY) == date(2026, 11, 27)  # 来週金曜: a week on, not today
    assert fo.next_week_date(1, date(2026, 11, 22)) == date(2026, 11, 24)  # a Sunday ends its week
    assert fo.next_week_date(1, date(2026, 11, 23)) == date(2026, 12, 1)
    assert fo.month_day_date(11, 25, FRIDAY) == date(2026, 11, 25)
    assert fo.month_day_date(11, 20, FRIDAY) == FRIDAY
    assert fo.month_day_date(11, 19, FRIDAY) == date(2027, 11, 19)  # already past: next year
    assert fo.month_day_date(1, 8, date(2026, 12, 28)) == date(2027, 1, 8)
    assert fo.month_day_date(2, 29, FRIDAY) == date(2028, 2, 29)
    assert (fo.reiwa_year(2019), fo.reiwa_year(2026), fo.reiwa_year(2027)) == ("元", "8", "9")


def test_relative_dates_count_from_the_day_received() -> None:
    assert fo.write_date("tomorrow", FRIDAY, random.Random(0)) == ("明日", date(2026, 11, 21))
    assert fo.write_date("day_after", FRIDAY, random.Random(0))[1] == date(2026, 11, 22)
    text, day = fo.write_date("next_week", FRIDAY, random.Random(0))
    assert text.startswith("来週") and date(2026, 11, 23) <= day <= date(2026, 11, 28)


_WEEKDAY = "月火水木金土日"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def resolve(text: str, received: date) -> date:
    """What a written delivery date means, read independently of the generator."""
    t = unicodedata.normalize("NFKC", text)
    weekday = None
    if m := re.fullmatch(r"(.*?)\(([月火水木金土日])\)", t):
        t, weekday = m.group(1), m.group(2)
    if t == "明日":
        day = received + timedelta(days=1)
    elif t in ("明後日", "あさって"):
        day = received + timedelta(days=2)
    elif m := re.fullmatch(r"来週(?:の)?(?:([月火水木金土日])曜日?)?", t):
        wd = m.group(1) or weekday
        assert wd is not None
        weekday = None
        day = received + timedelta(days=7 - received.weekday() + _WEEKDAY.index(wd))
    elif m := re.fullmatch(r"令和(元|\d+)年(\d+)月(\d+)日", t):
        day = date(2018 + (1 if m.group(1) == "元" else int(m.group(1))), int(m.group(2)), int(m.group(3)))
    elif m := re.fullmatch(r"(\d{4})年(\d+)月(\d+)日", t) or re.fullmatch(r"(\d{4})/(\d{2})/(\d{2})", t):
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif m := re.fullmatch(r"(\d+)/(\d+)", t):
        day = date(received.year, int(m.group(1)), int(m.group(2)))
        if day < received:
            day = date(received.year + 1, day.month, day.day)
    elif m := re.fullmatch(r"([A-Za-z]+) (\d+), (\d{4})", t):
        day = date(int(m.group(3)), _MONTHS.index(m.group(1)[:3].lower()) + 1, int(m.group(2)))
    else:
        raise AssertionError(f"unexpected date {text!r}")
    if weekday is not None:
        assert _WEEKDAY[day.weekday()] == weekday, text
    return day


@pytest.mark.parametrize("style", fo.DATE_STYLES)
def test_written_dates_mean_the_truths_delivery_date(style: str) -> None:
    for seed in range(40):
        truth = fo.make_order(random.Random(f"{style}/{seed}"), date_style=style)
        assert truth.delivery_date is not None and truth.date_written
        received = truth.received_at.date()
        assert resolve(truth.date_written, received) == truth.delivery_date, truth.date_written
        assert received <= truth.delivery_date <= received + timedelta(days=16)
        if truth.received_at.hour >= 10:
            assert truth.delivery_date > received  # a late fax never asks for today


def test_an_order_without_a_date_says_none() -> None:
    truth = fo.make_order(random.Random(1), "plain", with_date=False)
    assert truth.delivery_date is None and truth.date_written == ""


def test_received_at_is_tokyo_time_and_must_be_aware() -> None:
    truth = fo.make_order(random.Random(1), received_at=datetime.fromisoformat("2026-11-20T00:30:00+00:00"))
    assert truth.received_at.utcoffset() == timedelta(hours=9) and truth.received_at.hour == 9
    with pytest.raises(ValueError):
        fo.make_order(random.Random(1), received_at=datetime(2026, 11, 20, 9))


# --- catalog, buyers, variants ----------------------------------------------------------------------


def test_every_line_is_a_catalog_product_written_a_known_way() -> None:
    assert 30 <= len(fo.PRODUCTS) <= 45 and len({p.name for p in fo.PRODUCTS}) == len(fo.PRODUCTS)
    for seed in range(150):
        truth = fo.make_order(random.Random(seed))
        assert truth.buyer_fax == fo.buyer(truth.buyer).fax_e164
        assert len({line.product for line in truth.lines}) == len(truth.lines)
        for line in truth.lines:
            item = fo.product(line.product)
            assert line.unit == item.unit
            assert line.written in fo.written_variants(line.product, truth.layout)
            assert line.written_unit in fo.unit_spellings(line.unit, truth.layout) + fo.unit_spellings(line.unit)
            if truth.layout == "handwritten":  # nobody writes half-width kana or double spaces by hand
                assert not any("\uff61" <= ch <= "\uff9f" for ch in line.written + line.written_unit)
                assert "  " not in line.written


def test_unit_spellings_are_the_same_unit_to_the_gateway() -> None:
    for item in fo.PRODUCTS:
        own = unit_of(item.unit)
        assert own is not None, item.unit
        for spelling in fo.unit_spellings(item.unit):
            found = unit_of(spelling)
            assert found is not None and found.code == own.code, (item.unit, spelling)


def test_variants_include_half_width_and_buyers_own_words() -> None:
    variants = fo.written_variants("トマト (桃太郎)")
    assert variants[0] == "トマト (桃太郎)"
    assert {"ﾄﾏﾄ", "トマト", "トマト  (桃太郎)", "とまと"} <= set(variants)
    assert "たまねぎ 10kg" in fo.written_variants("玉ねぎ 10kg")
    typed = [v for v in fo.written_variants("キャベツ", "ruled") if any("\uff61" <= ch <= "\uff9f" for ch in v)]
    assert typed and all(unicodedata.normalize("NFKC", v) in fo.written_variants("キャベツ", "handwritten")
                         for v in typed)
    assert "Cabbage" in fo.written_variants("キャベツ", "english")
    assert "Cabbage" not in fo.written_variants("キャベツ", "ruled")


def test_buyers_fax_numbers_in_e164() -> None:
    assert [b.fax_e164 for b in fo.BUYERS] == ["+81355550101", "+81355550202", "+81455550303", "+81422550404"]
    assert fo.SUPPLIER == ("有限会社 八百新青果", "+81312345678")


# --- scans -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCANS)
def test_committed_scans_are_1_bit_g4_faxes_at_200_dpi(name: str) -> None:
    images = fax_images(name, (SAMPLES / name).read_bytes())
    assert len(images) == (2 if TRUTH[name]["layout"] == "two_page" else 1)
    for image in images:
        assert image["mode"] == "1" and image["compression"] == "group4"
        assert image["dpi"] in ((200, 200), (200, 100))


def test_fax_sends_each_page_at_the_resolution_asked() -> None:
    truth = fo.make_order(random.Random(5), "handwritten", line_count=3)
    tiff = fo.fax(truth, random.Random(5), kind="tiff", resolution="normal", skew_deg=-2.0, noise=0.6,
                  upside_down=True)
    assert fax_images("x.tif", tiff) == [{"mode": "1", "compression": "group4", "dpi": (200, 100)}]
    pdf = fo.render_pdf(truth, random.Random(5))  # the handwritten sheet: an image, no text layer
    assert page_count("x.pdf", pdf) == 1 and not "".join(pdf_pages(pdf)).strip()
    (page,) = fo.render_pages(truth, random.Random(5))
    assert page.mode == "L" and page.size == (1654, 2339) and page.info["dpi"] == (200, 200)


# --- the benchmark -------------------------------------------------------------------------------------


def test_plan_mixes_layouts_and_sources_as_specified() -> None:
    items = fo.plan(400, seed=1)
    assert [i.name for i in items] == [i.name for i in fo.plan(400, seed=1)]
    assert [i.truth for i in items[:50]] == [i.truth for i in fo.plan(50, seed=1)]  # each sample its own seed
    assert [i.truth for i in items[:20]] != [i.truth for i in fo.plan(20, seed=2)]
    sources = Counter(i.transmission.source for i in items)
    assert 0.19 <= sources["text"] / 400 <= 0.31
    assert {i.truth.layout for i in items} == set(fo.LAYOUTS)
    assert all(i.truth.layout in fo.TEXT_LAYOUTS for i in items if i.transmission.source == "text")
    scans = [i.transmission for i in items if i.transmission.source == "scan"]
    assert {t.resolution for t in scans} == {"fine", "normal"}
    assert 0.17 <= sum(t.kind == "tiff" for t in scans) / len(scans) <= 0.33
    assert 0.05 <= sum(t.upside_down for t in scans) / len(scans) <= 0.16
    assert all(abs(t.skew_deg) <= 2.5 and 0 <= t.noise <= 0.6 for t in scans)
    assert max(abs(t.skew_deg) for t in scans) > 2.0 and max(t.noise for t in scans) > 0.5
    assert 0.02 <= sum(i.truth.delivery_date is None for i in items) / 400 <= 0.09
    for i in items:
        lines = len(i.truth.lines)
        assert 25 <= lines <= 35 if i.truth.layout == "two_page" else 1 <= lines <= 12
    assert len({i.truth.buyer for i in items}) == len(fo.BUYERS)
    assert len({i.truth.date_written[:2] for i in items}) > 10  # many ways of writing a date


def test_dataset_is_deterministic_and_sends_as_planned() -> None:
    seed = next(s for s in range(100) if {i.transmission.source for i in fo.plan(2, s)} == {"text", "scan"})
    first, again = list(fo.dataset(2, seed)), list(fo.dataset(2, seed))
    assert first == again
    for sample, planned in zip(first, fo.plan(2, seed), strict=True):
        assert (sample.name, sample.truth, sample.source) == (planned.name, planned.truth, planned.transmission.source)
        is_tiff = planned.transmission.kind == "tiff"
        assert sample.content_type == ("image/tiff" if is_tiff else "application/pdf")
        assert sample.filename == sample.name + (".tif" if is_tiff else ".pdf")
        if sample.source == "text":
            _check_text(sample.truth, pdf_pages(sample.data))
        else:
            images = fax_images(sample.filename, sample.data)
            assert len(images) == (2 if sample.truth.layout == "two_page" else 1)


def test_truth_json_is_json_safe_and_round_trips() -> None:
    for seed in range(20):
        truth = fo.make_order(random.Random(seed), with_date=seed % 5 != 0)
        data = json.loads(json.dumps(fo.truth_json(truth), ensure_ascii=False))
        assert fo.truth_from_json(data) == truth
        assert data["received_at"].endswith("+09:00")
        assert all(isinstance(line["quantity"], str) for line in data["lines"])
