"""Fax-back forms filled in by hand and faxed back (samples/faxsim.py), read by read_faxback.

And the attachments they arrive in, through pages_from_attachment: fax PDFs and
TIFFs, and the real bad PDFs of the shared corpus.
"""

from __future__ import annotations

import io
import random
import shutil
import struct
import zlib
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.faxform.geometry import FAXBACK_FORM
from parsers.faxform.ocr import TesseractOcr
from parsers.faxform.reader import read_faxback
from parsers.faxform.readings import FaxbackReading, ReferenceSource
from parsers.imaging import MAX_PAGES, TooLarge, UnreadablePage, pages_from_attachment
from parsers.intent import Intent
from samples import faxsim

REFERENCE = "TORII-INV-123-AB12"
CORPUS_BAD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf" / "bad"
STYLES = ("tick", "cross", "fill", "circle")
ANSWERS = ("approve", "reject", "hold")

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


def only_our_reference(text: str) -> bool:
    return text == REFERENCE


@pytest.fixture(scope="module")
def letter() -> Image.Image:
    return faxsim.render_form(FAXBACK_FORM, REFERENCE)


def faxed(page: Image.Image, rng: random.Random, *, resolution: str = "fine", skew: float = 1.5,
          upside_down: bool = False, noise: float = 0.5) -> Image.Image:
    return faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=noise,  # type: ignore[arg-type]
                          upside_down=upside_down, rng=rng)


def filled(letter: Image.Image, rng: random.Random, *marks: tuple[str, str],
           name: str | None = "山田 太郎") -> Image.Image:
    page = letter
    for answer, style in marks:
        page = faxsim.mark(page, FAXBACK_FORM, answer, style, rng)
    if name:
        page = faxsim.write_name(page, FAXBACK_FORM, name, rng)
    return page


def read(image: Image.Image, **kwargs: object) -> FaxbackReading:
    kwargs.setdefault("read_contact", False)
    return read_faxback(image, FAXBACK_FORM, **kwargs)  # type: ignore[arg-type]


# -- each mark on each box --------------------------------------------------------------------------

CASES = [(style, answer, resolution) for style in STYLES for answer in ANSWERS for resolution in ("fine", "normal")]


@pytest.mark.parametrize(("style", "answer", "resolution"), CASES)
def test_a_marked_box_is_read_whatever_the_mark_resolution_skew_and_orientation(
        letter: Image.Image, style: str, answer: str, resolution: str) -> None:
    index = CASES.index((style, answer, resolution))
    rng = random.Random(f"{style}-{answer}-{resolution}")
    skew = 3.0 if (index // 2) % 2 else -3.0  # each resolution gets both signs
    upside_down = index % 3 == 0
    fax = faxed(filled(letter, rng, (answer, style)), rng, resolution=resolution, skew=skew,
                upside_down=upside_down, noise=0.7)

    reading = read(fax)

    assert reading.answer is Intent(answer), reading.reasons
    assert reading.confidence >= 0.9
    assert (reading.reference, reading.reference_source) == (REFERENCE, ReferenceSource.QR)
    assert reading.rotation == (180 if upside_down else 0)
    assert abs(reading.skew_deg - skew) < 0.5
    assert ("page was upside down" in reading.reasons) == upside_down


def test_the_simulated_fax_is_one_bit_with_half_the_lines_in_normal_resolution(letter: Image.Image) -> None:
    rng = random.Random(1)
    fine = faxed(letter, rng, resolution="fine")
    normal = faxed(letter, rng, resolution="normal")

    assert (fine.mode, fine.info["dpi"]) == ("1", (200, 200))
    assert (normal.mode, normal.info["dpi"]) == ("1", (200, 100))
    assert normal.size == (fine.width, fine.height // 2)


# -- never a guess --------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [(("approve", "tick"), ("reject", "tick")),
                                                (("reject", "cross"), ("hold", "circle")),
                                                (("approve", "circle"), ("hold", "fill"))])
def test_two_marked_boxes_go_to_review_with_both_scores(letter: Image.Image, first: tuple[str, str],
                                                          second: tuple[str, str]) -> None:
    rng = random.Random(f"{first}{second}")
    reading = read(faxed(filled(letter, rng, first, second), rng, resolution="normal"))

    assert reading.answer is None
    assert reading.confidence < 0.5
    reason = next(r for r in reading.reasons if r.startswith("two boxes marked: "))
    assert first[0] in reason and second[0] in reason
    assert reading.reference == REFERENCE  # the operator still knows which invitation it is


def test_three_marked_boxes_go_to_review(letter: Image.Image) -> None:
    rng = random.Random(3)
    page = filled(letter, rng, ("approve", "tick"), ("reject", "cross"), ("hold", "tick"))
    reading = read(faxed(page, rng))

    assert reading.answer is None
    assert any(r.startswith("three boxes marked") for r in reading.reasons)


@pytest.mark.parametrize("resolution", ["fine", "normal"])
def test_a_blank_form_goes_to_review_saying_no_box_is_marked(letter: Image.Image, resolution: str) -> None:
    rng = random.Random(resolution)
    reading = read(faxed(filled(letter, rng), rng, resolution=resolution, upside_down=True, noise=1.0))

    assert reading.answer is None
    assert "no box marked" in reading.reasons
    assert reading.box_scores == {"approve": 0.0, "reject": 0.0, "hold": 0.0}


def spotted(page: Image.Image, answer: str) -> Image.Image:
    """The page with a 1.6 mm toner spot in the ``answer`` box."""
    box = FAXBACK_FORM.box_for(Intent(answer)).box
    scale = page.width / FAXBACK_FORM.page_size[0]
    x, y = (box.x + 2.5) * scale, (box.y + 2.5) * scale
    r = 0.8 * scale
    page = page.copy()
    ImageDraw.Draw(page).ellipse((x - r, y - r, x + r, y + r), fill=0)
    return page


def test_a_toner_spot_in_another_box_is_ignored_and_said_so(letter: Image.Image) -> None:
    rng = random.Random(18)
    reading = read(faxed(spotted(filled(letter, rng, ("approve", "tick")), "hold"), rng, noise=0.2))

    assert reading.answer is Intent.APPROVE
    assert any(r.startswith("specks ignored: hold") for r in reading.reasons)


def test_a_toner_spot_alone_is_no_answer(letter: Image.Image) -> None:
    rng = random.Random(19)
    reading = read(faxed(spotted(filled(letter, rng), "reject"), rng, noise=0.2))

    assert reading.answer is None
    assert "no box marked" in reading.reasons


def test_a_page_without_the_form_says_the_form_was_not_found() -> None:
    page = Image.new("L", (1654, 2339), 255)
    ImageDraw.Draw(page).text((200, 300), "請求書 No. 12345", font=ImageFont.truetype(faxsim.FONT, 60), fill=0)

    reading = read(page)

    assert (reading.answer, reading.reference) == (None, None)
    assert "form not found: no QR code and no registration marks" in reading.reasons


@pytest.mark.parametrize("image", [
    Image.new("1", (1, 1)),
    Image.new("L", (2000, 2800), 0),
    Image.new("RGB", (1654, 2339), (255, 255, 255)),
    Image.new("P", (800, 1100)),
    Image.new("I;16", (900, 1200)),
], ids=["one-pixel", "all-black", "rgb-white", "palette", "16-bit"])
def test_odd_images_give_a_reading_with_a_reason_never_an_exception(image: Image.Image) -> None:
    reading = read(image)

    assert reading.answer is None
    assert reading.reasons


# -- the reference without its QR code ------------------------------------------------------------


@needs_tesseract
def test_a_defaced_qr_code_leaves_the_reference_to_ocr_and_the_callers_check(letter: Image.Image) -> None:
    rng = random.Random(5)
    page = faxsim.deface(filled(letter, rng, ("reject", "cross")), FAXBACK_FORM, "qr", rng)
    reading = read(faxed(page, rng, resolution="normal", skew=-2.5, upside_down=True),
                   reference_check=only_our_reference)

    assert (reading.reference, reading.reference_source) == (REFERENCE, ReferenceSource.OCR)
    assert reading.answer is Intent.REJECT
    assert reading.rotation == 180  # from the registration marks alone
    assert "QR code unreadable" in reading.reasons
    assert any(r.startswith("QR code unreadable; reference read by OCR") for r in reading.reasons)


@needs_tesseract
def test_without_the_qr_code_three_registration_marks_are_enough(letter: Image.Image) -> None:
    rng = random.Random(17)
    page = faxsim.deface(filled(letter, rng, ("hold", "circle")), FAXBACK_FORM, "qr", rng)
    lost = FAXBACK_FORM.mark_rect(2).expanded(0.5)
    scale = page.width / FAXBACK_FORM.page_size[0]
    ImageDraw.Draw(page).rectangle([v * scale for v in (lost.x, lost.y, lost.right, lost.bottom)], fill=255)
    reading = read(faxed(page, rng, resolution="normal", skew=2.0, upside_down=True),
                   reference_check=only_our_reference)

    assert (reading.answer, reading.rotation, reading.reference) == (Intent.HOLD, 180, REFERENCE)


@needs_tesseract
def test_without_a_check_a_reference_read_by_ocr_is_kept_but_below_the_review_bar(letter: Image.Image) -> None:
    rng = random.Random(6)
    page = faxsim.deface(filled(letter, rng, ("approve", "tick")), FAXBACK_FORM, "qr", rng)
    reading = read(faxed(page, rng))

    assert reading.reference_source is ReferenceSource.OCR
    assert reading.answer is Intent.APPROVE
    assert reading.confidence < 0.8
    assert any("not checked" in r for r in reading.reasons)


@needs_tesseract
def test_a_reference_neither_in_the_qr_code_nor_readable_is_none_with_a_reason(letter: Image.Image) -> None:
    rng = random.Random(7)
    page = filled(letter, rng, ("hold", "fill"))
    page = faxsim.deface(faxsim.deface(page, FAXBACK_FORM, "qr", rng), FAXBACK_FORM, "reference_text", rng)
    reading = read(faxed(page, rng), reference_check=only_our_reference)

    assert reading.reference is None
    assert reading.answer is Intent.HOLD  # the answer is still read; correlating is the caller's business
    assert any(r.startswith("QR code unreadable;") for r in reading.reasons)


@needs_tesseract
def test_a_qr_code_the_check_refuses_is_not_taken_for_the_reference(letter: Image.Image) -> None:
    rng = random.Random(8)
    reading = read(faxed(filled(letter, rng, ("approve", "tick")), rng), reference_check=lambda text: False)

    assert reading.reference is None
    assert reading.answer is Intent.APPROVE
    assert any("not a valid reference" in r for r in reading.reasons)


class ReadsAs:
    """An OCR stand-in that reads every image as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, image: Image.Image, *, languages: str, psm: int, whitelist: str | None = None) -> str:
        return self.text


def test_an_ocr_misreading_of_the_reference_is_corrected_when_only_one_correction_passes_the_check(
        letter: Image.Image) -> None:
    rng = random.Random(15)
    page = faxsim.deface(filled(letter, rng, ("approve", "cross"), name=None), FAXBACK_FORM, "qr", rng)
    reading = read(faxed(page, rng), reference_check=only_our_reference, ocr=ReadsAs("TORIFINV-123-A812\n"))

    assert (reading.reference, reading.reference_source) == (REFERENCE, ReferenceSource.OCR)
    assert any("corrected" in r for r in reading.reasons)


def test_without_tesseract_the_reading_says_the_contact_field_was_not_read(letter: Image.Image) -> None:
    rng = random.Random(16)
    reading = read(faxed(filled(letter, rng, ("hold", "tick")), rng), read_contact=True,
                   ocr=TesseractOcr(command="no-such-tesseract"))

    assert reading.answer is Intent.HOLD
    assert reading.contact_text is None and reading.contact_image
    assert "contact field not read: no-such-tesseract is not installed" in reading.reasons


# -- the contact field ----------------------------------------------------------------------------


@needs_tesseract
def test_the_contact_field_is_cropped_and_read_by_ocr(letter: Image.Image) -> None:
    rng = random.Random(9)
    reading = read(faxed(filled(letter, rng, ("approve", "tick"), name="田中 一郎"), rng), read_contact=True)

    assert reading.contact_text is not None and "田中" in reading.contact_text
    assert reading.contact_image is not None
    crop = Image.open(io.BytesIO(reading.contact_image))
    assert crop.format == "PNG"
    assert crop.width / crop.height == pytest.approx(FAXBACK_FORM.contact.w / FAXBACK_FORM.contact.h, rel=0.15)


def test_an_empty_contact_field_is_said_to_be_empty(letter: Image.Image) -> None:
    rng = random.Random(10)
    reading = read(faxed(filled(letter, rng, ("hold", "cross"), name=None), rng), read_contact=True)

    assert reading.contact_text is None
    assert "contact field is empty" in reading.reasons


# -- attachments ----------------------------------------------------------------------------------


def test_a_two_page_fax_pdf_gives_both_pages_and_the_form_is_read_from_the_second(letter: Image.Image) -> None:
    rng = random.Random(11)
    cover = faxed(Image.new("L", letter.size, 255), rng, resolution="normal")
    form = faxed(filled(letter, rng, ("reject", "circle")), rng, resolution="normal", skew=-2.0)

    pages = pages_from_attachment(faxsim.to_pdf([cover, form]), "application/octet-stream", "FAX0001.pdf")

    assert len(pages) == 2
    assert all(p.mode == "L" and p.info["dpi"] == (200, 200) for p in pages)
    assert pages[1].size == pytest.approx((1654, 2339), abs=4)  # A4 at 200 dpi: square pixels again
    assert read(pages[1]).answer is Intent.REJECT


def test_a_multi_page_g4_tiff_in_normal_resolution_comes_back_with_square_pixels(letter: Image.Image) -> None:
    rng = random.Random(12)
    sent = [faxed(filled(letter, rng, (answer, "tick")), rng, resolution="normal") for answer in ("approve", "hold")]
    data = faxsim.to_tiff(sent)
    assert Image.open(io.BytesIO(data)).info["compression"] == "group4"

    pages = pages_from_attachment(data, "image/tiff", "fax.tif")

    assert [p.size for p in pages] == [(sent[0].width, sent[0].height * 2)] * 2
    assert [read(p).answer for p in pages] == [Intent.APPROVE, Intent.HOLD]


def test_png_and_jpeg_scans_are_single_pages() -> None:
    image = Image.new("L", (850, 1100), 255)
    for fmt in ("PNG", "JPEG"):
        buf = io.BytesIO()
        image.save(buf, fmt, dpi=(100, 100))
        pages = pages_from_attachment(buf.getvalue(), f"image/{fmt.lower()}", None)
        assert [(p.size, p.mode) for p in pages] == [((850, 1100), "L")]


def test_a_transparent_png_comes_out_on_white_paper() -> None:
    image = Image.new("RGBA", (850, 1100), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 100, 200, 200), fill=(0, 0, 0, 255))
    buf = io.BytesIO()
    image.save(buf, "PNG")

    (page,) = pages_from_attachment(buf.getvalue(), "image/png", "scan.png")

    assert page.getpixel((10, 10)) == 255 and page.getpixel((150, 150)) == 0


def test_a_photo_is_turned_as_its_exif_orientation_says() -> None:
    image = Image.new("L", (1100, 850), 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)

    (page,) = pages_from_attachment(buf.getvalue(), "image/jpeg", "photo.jpg")

    assert page.size == (850, 1100)


def _bad_pdfs() -> list[Path]:
    return sorted(CORPUS_BAD.glob("*.pdf")) if CORPUS_BAD.is_dir() else []


@pytest.mark.skipif(not _bad_pdfs(), reason="the shared corpus is not here")
@pytest.mark.parametrize("path", _bad_pdfs(), ids=lambda p: p.name)
def test_a_bad_pdf_from_the_corpus_gives_pages_or_a_reason_never_another_exception(path: Path) -> None:
    try:
        pages = pages_from_attachment(path.read_bytes(), "application/pdf", path.name)
    except UnreadablePage as exc:
        assert exc.reason.split(":")[0] in ("encrypted PDF", "corrupt PDF", "no pages", "empty attachment")
    else:
        assert pages and all(p.mode == "L" for p in pages)


@pytest.mark.skipif(not _bad_pdfs(), reason="the shared corpus is not here")
@pytest.mark.parametrize("name", ["pypdf__encrypted-file.pdf", "pypdf__r5-user-password.pdf",
                                  "qpdf__encrypted-40-bit-R3.pdf", "pikepdf__graph-encrypted.pdf"])
def test_a_pdf_that_needs_a_password_is_refused_as_encrypted(name: str) -> None:
    with pytest.raises(UnreadablePage, match="^encrypted PDF"):
        pages_from_attachment((CORPUS_BAD / name).read_bytes(), "application/pdf", name)


@pytest.mark.skipif(not _bad_pdfs(), reason="the shared corpus is not here")
def test_a_pdf_encrypted_without_a_user_password_is_read_unless_refused() -> None:
    data = (CORPUS_BAD / "pypdf__r6-owner-password.pdf").read_bytes()

    assert len(pages_from_attachment(data, "application/pdf")) == 1
    with pytest.raises(UnreadablePage, match="^encrypted PDF"):
        pages_from_attachment(data, "application/pdf", refuse_encrypted=True)


def _pdf(pages: int, size: tuple[float, float] = (595, 842)) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(*size).close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def test_a_pdf_with_no_pages_is_refused_saying_so() -> None:
    with pytest.raises(UnreadablePage, match="^no pages"):
        pages_from_attachment(_pdf(0), "application/pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.4\n%garbage\n", b"%PDF-" + bytes(range(256)) * 4, b"not a pdf at all"])
def test_garbage_labelled_pdf_is_a_corrupt_pdf(data: bytes) -> None:
    with pytest.raises(UnreadablePage, match="^corrupt PDF"):
        pages_from_attachment(data, "application/pdf", "fax.pdf")


def test_a_truncated_fax_pdf_is_a_corrupt_pdf(letter: Image.Image) -> None:
    data = faxsim.to_pdf([faxed(letter, random.Random(13))])
    with pytest.raises(UnreadablePage, match="^corrupt PDF"):
        pages_from_attachment(data[: len(data) // 3], "application/pdf")


def test_more_pages_than_the_limit_are_refused() -> None:
    with pytest.raises(TooLarge, match=f"^too large: {MAX_PAGES + 1} pages"):
        pages_from_attachment(_pdf(MAX_PAGES + 1, (100, 100)), "application/pdf")


def test_a_huge_pdf_page_is_refused_before_rendering() -> None:
    with pytest.raises(TooLarge, match="^too large: page 1 is 5080×5080 mm"):
        pages_from_attachment(_pdf(1, (14400, 14400)), "application/pdf")


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width``×``height`` pixels (its data is one empty row)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00"))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("size", [(100_000, 100_000), (6_000, 6_000)], ids=["bomb", "over-the-page-limit"])
def test_an_image_claiming_huge_dimensions_is_refused_as_too_large(size: tuple[int, int]) -> None:
    with pytest.raises(TooLarge, match="^too large: "):
        pages_from_attachment(_png_claiming(*size), "image/png", "scan.png")


def test_a_truncated_tiff_is_a_corrupt_image(letter: Image.Image) -> None:
    data = faxsim.to_tiff([faxed(letter, random.Random(14))])
    with pytest.raises(UnreadablePage, match="^corrupt image"):
        pages_from_attachment(data[: len(data) // 2], "image/tiff")


@pytest.mark.parametrize(("data", "ctype", "reason"), [
    (b"", "application/pdf", "empty attachment"),
    (b"Hello, this is text.", "text/plain", "unsupported attachment"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png", "corrupt image"),
])
def test_other_bad_attachments_are_refused_with_a_reason(data: bytes, ctype: str, reason: str) -> None:
    with pytest.raises(UnreadablePage, match=f"^{reason}"):
        pages_from_attachment(data, ctype, None)
