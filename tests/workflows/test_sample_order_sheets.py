"""The returned order sheets in samples/orders/ read as their manifest says, and never as something not written."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from parsers.imaging import pages_from_attachment
from parsers.orderform import read_order_fax, resolve_month_day
from samples.make_letters import DEMO_SECRET
from samples.make_order_sheets import SAMPLE_ORDER
from workflows.order_documents.fax_forms import order_fax_form

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "orders"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


@pytest.mark.parametrize("item", MANIFEST, ids=lambda item: item["file"])
def test_sample_returned_order_sheet_reads_as_its_manifest_says_and_never_wrong(item: dict[str, object]) -> None:
    name = str(item["file"])
    data = (SAMPLES / name).read_bytes()
    pages = pages_from_attachment(data, "image/tiff" if name.endswith(".tiff") else "application/pdf", name)
    reading = read_order_fax(pages, order_fax_form(DEMO_SECRET), {1001: SAMPLE_ORDER}.get, read_contact=False)
    written = item["written"]
    expected = item["read"]
    assert isinstance(written, dict) and isinstance(expected, dict)

    assert reading.order_id == 1001
    assert reading.answer == expected["answer"], reading.reasons
    assert reading.answer in (None, written["answer"])
    quantities = {int(k): Decimal(v) for k, v in dict(written["quantities"]).items()}
    assert all(quantities.get(position) == value for position, value in reading.quantities.items())
    if reading.delivery_date is not None:
        assert reading.delivery_date == resolve_month_day(str(written["delivery_date"]), date(2026, 11, 20))
    if reading.answer is None or reading.confidence < 0.8:
        assert reading.reasons  # never guessed: it says why
