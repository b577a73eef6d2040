"""The temporary ID read back by OCR from the gateway's real FAX letter, faxed back (samples/faxsim.py).

The last resort when a returned page's QR code and printed reference are both lost:
every page here has them scribbled over, and is rendered by workflows/letters.py,
rasterized and sent through the fax simulator at 200×100 and 200×200 dpi.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Sequence
from types import SimpleNamespace

import pytest
from PIL import Image

from parsers.credential_ocr.reader import TempIdReading, read_temp_id
from parsers.credential_ocr.tesseract import OcrFailed
from parsers.credential_text import ALPHABET, is_well_formed
from parsers.imaging import pages_from_attachment
from samples import faxsim
from workflows.letters import credential_layout, faxback_geometry, reference_for, render_letter

SECRET = b"reference-secret-for-the-tests!!"
LAYOUT = credential_layout()
GEOMETRY = faxback_geometry()

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


def letter(temp_id: str, language: str = "ja", temp_password: str = "HN9WE3AC") -> Image.Image:
    invitation = SimpleNamespace(id=1001, issuer_company="株式会社インフォ商会", issuer_name="鈴木 二郎",
                                 partner_company="有限会社さくら青果", partner_name="田中 一郎",
                                 comment="いつもお世話になっております。", language=language, approval_required=True)
    pdf = render_letter(invitation, temp_id, temp_password, layout="fax", language=language,
                        reference=reference_for(1001, SECRET), reply_address="invite@torii.example",
                        fax_number="03-1234-5679")
    return faxsim.rasterize(pdf, 200)


def returned(page: Image.Image, seed: int, *, resolution: str, skew: float, noise: float,
             upside_down: bool = False, container: str = "pdf") -> Image.Image:
    """The letter ticked, signed, its code and reference defaced, faxed back; as the gateway gets the page."""
    rng = random.Random(seed)
    page = faxsim.mark(page, GEOMETRY, "approve", "tick", rng)
    page = faxsim.write_name(page, GEOMETRY, "田中", rng)
    page = faxsim.deface(faxsim.deface(page, GEOMETRY, "qr", rng), GEOMETRY, "reference_text", rng)
    sent = faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=noise,  # type: ignore[arg-type]
                          upside_down=upside_down, rng=rng)
    data = faxsim.to_pdf([sent]) if container == "pdf" else faxsim.to_tiff([sent])
    (image,) = pages_from_attachment(data, "application/pdf" if container == "pdf" else "image/tiff")
    return image


@needs_tesseract
@pytest.mark.parametrize(("temp_id", "language", "resolution", "skew", "noise", "upside_down", "container"), [
    ("KP4M7RTX", "ja", "normal", 1.5, 0.5, False, "pdf"),
    ("WWMMHN9E", "en", "normal", -3.0, 0.8, True, "tiff"),
    ("23456789", "ja", "fine", 2.5, 0.3, True, "pdf"),
    ("ACEFHJKM", "en", "fine", -1.0, 1.0, False, "tiff"),
    ("NPRTUWXY", "ja", "normal", -5.5, 1.5, False, "pdf"),
    ("X7T4U9CF", "en", "normal", 4.0, 1.2, True, "pdf"),
], ids=["normal", "normal-upside-down", "fine-upside-down", "fine-noisy", "normal-skewed-6", "normal-all-bad"])
def test_the_temporary_id_is_read_off_a_faxed_back_letter(temp_id: str, language: str, resolution: str, skew: float,
                                                          noise: float, upside_down: bool, container: str) -> None:
    page = returned(letter(temp_id, language), 7, resolution=resolution, skew=skew, noise=noise,
                    upside_down=upside_down, container=container)
    reading = read_temp_id(page, LAYOUT)
    # Among a few well-formed candidates (the lookup keeps the issued one), the likeliest first.
    assert temp_id in reading.candidates, reading
    assert len(reading.candidates) <= 8 and all(is_well_formed(c) for c in reading.candidates)
    assert reading.rotation == (180 if upside_down else 0)
    assert reading.seconds < 5


@needs_tesseract
def test_the_password_beside_it_is_never_taken_for_the_id() -> None:
    page = returned(letter("KP4M7RTX", temp_password="HN9WE3AC"), 3, resolution="fine", skew=0.5, noise=0.2)
    assert "HN9WE3AC" not in read_temp_id(page, LAYOUT).candidates


@needs_tesseract
def test_a_page_that_is_not_our_letter_gives_no_candidate_and_says_why() -> None:
    # The simulator's own stand-in letter: a form, some text, no credentials panel.
    page = faxsim.degrade(faxsim.render_form(GEOMETRY, "TORII-INV-1-ABCDEF"), resolution="normal", skew_deg=1.0,
                          noise=0.5, upside_down=False, rng=random.Random(1))
    reading = read_temp_id(page, LAYOUT)
    assert reading.candidates == ()
    assert reading.reasons and all(reason.startswith("temporary ID not read") for reason in reading.reasons)


@pytest.mark.parametrize("image", [
    Image.new("L", (10, 10), 255),
    Image.new("1", (1654, 2339), 1),
    Image.new("RGB", (1654, 2339), (0, 0, 0)),
    Image.new("I;16", (1654, 1170)),
    Image.new("L", (2339, 1654), 255),  # landscape
], ids=["tiny", "blank-1bit", "black-rgb", "16-bit", "landscape"])
def test_any_image_gives_a_reading_never_an_error(image: Image.Image) -> None:
    reading = read_temp_id(image, LAYOUT, ocr=lambda images, **_: ["KP4M7RTX"] * len(images))
    assert isinstance(reading, TempIdReading)
    assert reading.candidates == () and reading.reasons


def stub(*texts: str) -> object:
    """An OCR that answers ``texts`` in turn for the line, and the line's characters for the cells."""
    answers = list(texts)

    def ocr(images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        assert set(whitelist) == set(ALPHABET)
        line = answers.pop(0) if answers else ""
        cells = [line.replace(" ", "")[i:i + 1] for i in range(len(images) - 1)]
        return [line, *cells]
    return ocr


@pytest.fixture(scope="module")
def clean_page() -> Image.Image:
    return letter("KP4M7RTX")


def test_a_reading_is_normalized_as_a_typed_credential(clean_page: Image.Image) -> None:
    reading = read_temp_id(clean_page, LAYOUT, ocr=stub("kp4m 7rtx"))  # type: ignore[arg-type]
    assert reading.candidates == ("KP4M7RTX",)
    # Look-alikes that were left out of the alphabet read as the twin that was kept.
    assert read_temp_id(clean_page, LAYOUT, ocr=stub("KP4M7RTS")).candidates[0] == "KP4M7RT5"  # type: ignore[arg-type]


def test_characters_outside_the_alphabet_are_never_guessed_into_it(clean_page: Image.Image) -> None:
    for text in ("KP4M7RT0", "KP4M7RTO", "KP4M7RT1", "KP4M7RTI", "KP4M7RTL", "KP4M7RT"):
        reading = read_temp_id(clean_page, LAYOUT, ocr=stub(text, text))  # type: ignore[arg-type]
        assert reading.candidates == (), (text, reading)
        assert reading.reasons


def test_when_reads_disagree_the_most_agreed_comes_first(clean_page: Image.Image) -> None:
    calls: list[int] = []

    def ocr(images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        calls.append(len(images))
        if len(images) > 1:  # the line read drops a character; each character alone is right
            return ["KP4M7TX", *"KP4M7RTX"]
        return ["KP4M7RTX"]  # the third read agrees with the characters
    reading = read_temp_id(clean_page, LAYOUT, ocr=ocr)
    assert reading.candidates[0] == "KP4M7RTX"
    assert calls == [9, 1]  # line and 8 characters in one process, then one more read of the line


def test_a_3_is_read_again_the_other_way_as_it_may_be_a_j(clean_page: Image.Image) -> None:
    calls: list[tuple[int, int]] = []

    def ocr(images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        calls.append((len(images), psm))
        return ["KP4M73TX", *"KP4M73TX"] if len(images) > 1 else ["KP4M7JTX"]
    reading = read_temp_id(clean_page, LAYOUT, ocr=ocr)
    assert calls == [(9, 13), (1, 7)]
    assert reading.candidates == ("KP4M73TX", "KP4M7JTX")  # two reads against one; both looked up


def test_where_reads_disagree_mixes_of_them_are_candidates_the_likeliest_first(clean_page: Image.Image) -> None:
    answers = [["X7T4U9CE", *"47T4U9CF"], ["X7T4U9CF"]]  # each read wrong somewhere, a different place
    reading = read_temp_id(clean_page, LAYOUT, ocr=lambda images, **_: answers.pop(0))
    assert reading.candidates[0] == "X7T4U9CF"  # each character as most reads gave it
    assert set(reading.candidates) == {"X7T4U9CF", "X7T4U9CE", "47T4U9CF", "47T4U9CE"}


def test_ocr_that_cannot_run_gives_a_reason(clean_page: Image.Image) -> None:
    def broken(images: Sequence[Image.Image], *, psm: int, whitelist: str) -> list[str]:
        raise OcrFailed("tesseract is not installed")
    reading = read_temp_id(clean_page, LAYOUT, ocr=broken)
    assert reading.candidates == ()
    assert any("tesseract is not installed" in reason for reason in reading.reasons)
