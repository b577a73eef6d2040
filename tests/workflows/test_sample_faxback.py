"""The returned forms in samples/faxback/ read as their manifest says (samples are fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parsers.credential_ocr.reader import read_temp_id
from parsers.faxform.reader import read_faxback
from parsers.imaging import pages_from_attachment
from samples.make_letters import DEMO_SECRET
from workflows.letters import credential_layout, faxback_geometry, parse_reference

FORMS = Path(__file__).resolve().parents[2] / "samples" / "faxback"
MANIFEST = json.loads((FORMS / "manifest.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", MANIFEST, ids=lambda item: item["file"])
def test_sample_returned_form_reads_as_expected(item: dict[str, object]) -> None:
    data = (FORMS / str(item["file"])).read_bytes()
    kind = "application/pdf" if str(item["file"]).endswith(".pdf") else "image/tiff"
    (page,) = pages_from_attachment(data, kind, str(item["file"]))
    reading = read_faxback(page, faxback_geometry(),
                           reference_check=lambda text: parse_reference(text, DEMO_SECRET) is not None)
    if "temp_id" in item:  # code and reference defaced: only the temporary ID names the invitation
        assert reading.reference is None
        assert item["temp_id"] in read_temp_id(page, credential_layout()).candidates
    else:
        assert parse_reference(reading.reference or "", DEMO_SECRET) == item["invitation"]
    answer = reading.answer.value if reading.answer else None
    assert answer == item["expect_answer"], reading.reasons
    if answer is None:
        assert reading.reasons  # never guessed: it says why
