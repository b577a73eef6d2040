"""read_free_form: a buyer's own order sheet, read from the words on its pages.

The pages come from ``parsers.pagetext`` (a text layer, or OCR): words with their
place in mm and a confidence. Buyers' sheets differ in everything but their parts,
which are looked for by their labels and their shape: the item table under its
header (``table``), else item lines ending in a quantity with its unit
(``list_lines``); then, outside the lines those take, the delivery date
(``delivery``), and the buyer, the buyer's fax number, the addressee and the notes
(``parties``). Pure: it never raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from parsers.faxorder.delivery import delivery_date
from parsers.faxorder.lines import page_lines
from parsers.faxorder.list_lines import read_list_lines
from parsers.faxorder.parties import addressee, buyer_fax, buyer_name, note
from parsers.faxorder.readings import FreeFormReading
from parsers.faxorder.table import read_table
from parsers.pagetext.page import PageText


def read_free_form(pages: Sequence[PageText], received_on: date) -> FreeFormReading:
    """What a buyer's own order sheet says; relative and year-less dates count from ``received_on``."""
    lines = [line for page in pages for line in page_lines(page)]
    table = read_table(lines)
    if table is not None:
        rows, used = table
        layout = "table"
    else:
        rows, used = read_list_lines(lines)
        layout = "list"
    reasons = [] if rows else ["no item table or item lines found"]
    return FreeFormReading(
        lines=tuple(rows),
        delivery_date=delivery_date(lines, received_on, used),
        buyer_name=buyer_name(lines, used),
        buyer_fax=buyer_fax(lines),
        supplier_name=addressee(lines),
        note=note(lines, used),
        layout=layout,
        reasons=tuple(reasons),
    )
