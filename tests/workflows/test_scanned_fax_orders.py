"""Faxed sheets of every layout the samples have, read by OCR and matched to the supplier's master as the
workflow does: what the reading calls sure is right, and most of it is sure.

Faxes at fine resolution, skewed 1°, lightly speckled; the buyers write the master's names (the English
buyer its English names, which its remembered aliases know). Whole orders come out right on most such
sheets but not yet all: the OCR of half-width katakana and handwritten digits still sends lines to review.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from parsers.faxorder import read_free_form
from parsers.pagetext import read_document
from parsers.products import SURE, CatalogEntry, alias_key
from parsers.units import unit_of
from samples import fax_orders as fo
from workflows.fax_order import match_line

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")]

RECEIVED = datetime(2026, 11, 22, 10, 0, tzinfo=fo.TOKYO)
CATALOG = [CatalogEntry(i, p.name, p.unit, p.price) for i, p in enumerate(fo.PRODUCTS, 1)]
ALIASES = {alias_key(english): i for i, p in enumerate(fo.PRODUCTS, 1)
           for english in fo.written_variants(p.name, "english") if english.isascii()}


# the share of lines at least read right and sure: handwriting (its digits above all) is read worst
@pytest.mark.parametrize(("layout", "kind", "floor"), [("ruled", "pdf", 0.5), ("plain", "pdf", 0.5),
                                                       ("english", "pdf", 0.5), ("handwritten", "tiff", 0.25),
                                                       ("two_page", "tiff", 0.5)])
def test_a_faxed_sheet_reads_as_its_order_where_it_is_sure(layout: str, kind: str, floor: float) -> None:
    rng = random.Random(f"scanned/{layout}")
    truth = fo.make_order(rng, layout, received_at=RECEIVED)
    truth = replace(truth, lines=tuple(
        line if layout == "english" and line.written.isascii() else replace(line, written=line.product)
        for line in truth.lines))
    data = fo.fax(truth, rng, kind=kind, resolution="fine", skew_deg=1.0, noise=0.15, header=True)

    reading = read_free_form(read_document(data, f"{'image/tiff' if kind == 'tiff' else 'application/pdf'}"),
                             RECEIVED.date())

    wanted = Counter((line.product, line.quantity, unit_of(line.written_unit).code)  # type: ignore[union-attr]
                     for line in truth.lines)
    sure_lines = []
    for read in reading.lines:
        match, read = match_line(read, CATALOG, ALIASES)
        unit = unit_of(read.unit.value or "") if read.unit and read.unit.value else \
            unit_of(CATALOG[match.product_id - 1].unit) if match.product_id else None
        if (match.confidence >= SURE and not match.reason and read.quantity.confidence >= 0.8
                and read.quantity.value is not None and (read.unit is None or read.unit.confidence >= 0.8)):
            sure_lines.append((match.name, Decimal(read.quantity.value), unit.code if unit else None))
    # a line read sure is a line of the order (an unreadable extra line, a rule's remains, is never sure)
    assert not Counter(sure_lines) - wanted, (sure_lines, wanted)
    assert len(sure_lines) >= floor * len(truth.lines), f"{len(sure_lines)} of {len(truth.lines)} lines sure"
    date_read = reading.delivery_date
    assert date_read is not None and truth.delivery_date is not None
    assert date_read.value == truth.delivery_date.isoformat() or date_read.confidence < 0.8
