"""Digits one a box (parsers.faxform.comb) and tick boxes, on the application form as rendered and faxed."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from parsers.faxform.comb import read_comb
from parsers.faxform.ocr import TesseractOcr
from parsers.faxform.reader import read_form
from parsers.imaging import pages_from_attachment
from samples.compose import SAMPLES
from samples.make_application_fax import APPLICATION, filled_fax
from samples.make_letters import DEMO_SECRET
from workflows.registration.application_form import FORM, is_form_reference, jan_field_name, render_application_form


def jan_boxes(fax: bytes) -> tuple[list[np.ndarray], bool]:
    [page] = pages_from_attachment(fax, "application/pdf")
    reading = read_form(page, FORM, reference_check=lambda t: is_form_reference(t, DEMO_SECRET), read_contact=False)
    masks = [np.asarray(Image.open(io.BytesIO(reading.fields[jan_field_name(i + 1)].image)).convert("L")) < 128
             for i in range(10)]
    return masks, reading.fields["consent"].written


def test_a_row_of_boxes_is_read_as_one_line_and_each_box_gets_its_digit() -> None:
    masks, ticked = jan_boxes((SAMPLES / "registration" / "application.fax.ja.pdf").read_bytes())
    reading = read_comb(TesseractOcr(), masks)
    assert reading.digits is not None and reading.reason is None
    assert "".join(d or "" for d in reading.digits) == APPLICATION["jan_maker_code"]
    assert reading.digits[7:] == (None, None, None) and ticked


def test_two_characters_in_one_box_or_none_at_all_are_said_so() -> None:
    masks, ticked = jan_boxes(filled_fax(render_application_form(DEMO_SECRET),
                                         {"jan_maker_code": "4512345", "consent": ""}, seed=3))
    assert not ticked
    crowded = [np.hstack([masks[0], masks[1]]), *masks[2:]]
    reading = read_comb(TesseractOcr(), crowded)
    assert reading.digits is None and reading.reason == "box 1: 2 characters in one box"
    empty = read_comb(TesseractOcr(), masks[7:])
    assert empty.digits == (None, None, None)
