"""Every parser keeps its limits: an input over one is refused with "too large: ...", quickly, at a bounded cost.

The hostile files are real ones, made as the tests run (``samples.hostile``): the 1 GiB
decompression bomb is a 2.6 MB PDF, read by the real PDFium in its real confined child.
"""

from __future__ import annotations

import ctypes
import glob
import io
import resource
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from parsers import limits
from parsers.confined import Confinement, run_confined
from parsers.errors import TooLarge, UnreadablePage
from parsers.imaging import pages_from_attachment
from parsers.mime.parse import parse_mail
from parsers.pagetext.document import page_from_image, read_document
from parsers.pdf_streams import check_inflation
from samples import hostile

REPO = Path(__file__).resolve().parents[2]
SAMPLE_FAX = REPO / "samples" / "faxback" / "01-approve-tick-normal.pdf"
MIB = 1024 * 1024


def refused(data: bytes, content_type: str = "application/pdf") -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(TooLarge) as caught:
        pages_from_attachment(data, content_type, "hostile")
    return caught.value.reason, time.monotonic() - started


# -- PDF: what the streams inflate to, before any PDF library sees them ---------------------------


def test_a_page_whose_content_inflates_to_a_gibibyte_is_refused_in_seconds_without_the_gibibyte() -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reason, seconds = refused(hostile.bomb_pdf(hostile.GiB))

    assert reason == "too large: PDF page 1 content inflates past 64 MiB"
    assert seconds < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: the bomb was not here


def test_a_bomb_deflated_twice_is_as_large_as_once() -> None:
    data = hostile.bomb_pdf(hostile.GiB, twice=True)

    assert len(data) < 10_000
    assert refused(data)[0] == "too large: PDF page 1 content inflates past 64 MiB"


def test_the_inflation_limit_is_the_one_in_force() -> None:
    data = hostile.bomb_pdf(8 * MIB, b" ")
    with limits.reading(limits.Limits(inflated_bytes=4 * MIB)):
        assert refused(data)[0] == "too large: PDF page 1 content inflates past 4 MiB"
    assert len(pages_from_attachment(data, "application/pdf")) == 1  # under the default: an empty page


def test_a_page_split_into_many_content_streams_counts_them_together() -> None:
    chunk = hostile.deflate_repeated(b" " * MIB, 3)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(chunk) + chunk + b"\nendstream"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [4 0 R 5 0 R 6 0 R] >>"
    data = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R]"
            b" /Count 1 >>\nendobj\n3 0 obj\n" + page + b"\nendobj\n"
            + b"".join(b"%d 0 obj\n" % n + stream + b"\nendobj\n" for n in (4, 5, 6)) + b"%%EOF\n")

    with pytest.raises(TooLarge, match="^too large: PDF page 1 content inflates past 8 MiB$"):
        check_inflation(data, per_page=8 * MIB, total=64 * MIB)
    assert check_inflation(data, per_page=16 * MIB, total=64 * MIB).pages == [[4, 5, 6]]


def test_another_stream_and_all_of_them_together_have_their_limits() -> None:
    big = hostile.deflate_repeated(b"\0" * MIB, 20)
    image = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(big) + big + b"\nendstream"
    data = hostile.pdf_document([b"<< /Length 0 >>\nstream\n\nendstream"], extra=[image])

    with pytest.raises(TooLarge, match="^too large: PDF object 5 inflates past 16 MiB$"):
        check_inflation(data, per_page=16 * MIB, total=64 * MIB)
    with pytest.raises(TooLarge, match="^too large: the PDF's streams inflate past 8 MiB in all$"):
        check_inflation(data, per_page=64 * MIB, total=8 * MIB)


@pytest.mark.parametrize("encode", [
    lambda raw: (b"/LZWDecode", _lzw(raw)),
    lambda raw: (b"/RunLengthDecode", b"".join(bytes([len(raw[i:i + 128]) - 1]) + raw[i:i + 128]
                                               for i in range(0, len(raw), 128)) + b"\x80"),
    lambda raw: (b"/ASCIIHexDecode", raw.hex().encode() + b">"),
    lambda raw: (b"[/ASCIIHexDecode /FlateDecode]", zlib.compress(raw).hex().encode() + b">"),
], ids=["lzw", "run-length", "ascii-hex", "hex-then-flate"])
def test_every_inflating_filter_is_measured(encode: object) -> None:
    raw = b"0 0 m 595 842 l S\n" * 2000
    name, data = encode(raw)  # type: ignore[operator]
    stream = b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), name) + data + b"\nendstream"

    sizes = check_inflation(hostile.pdf_document([stream]), per_page=MIB, total=MIB)

    assert sizes.inflated[4] == len(raw)


def _lzw(data: bytes) -> bytes:
    """``data`` LZW-encoded by libtiff (a one-row TIFF strip): TIFF's LZW is PDF's, early change and all."""
    out = io.BytesIO()
    Image.frombytes("L", (len(data), 1), data).save(out, "TIFF", compression="tiff_lzw")
    tiff = Image.open(io.BytesIO(out.getvalue()))
    (offset,), (count,) = tiff.tag_v2.get(273), tiff.tag_v2.get(279)  # StripOffsets, StripByteCounts
    return out.getvalue()[offset:offset + count]


def test_every_pdf_of_the_corpus_and_the_samples_is_within_the_limits() -> None:
    files = glob.glob("/work/shared/corpus/pdf/*/*.pdf") + glob.glob(str(REPO / "samples" / "**" / "*.pdf"),
                                                                    recursive=True)
    assert files
    for path in files:
        check_inflation(Path(path).read_bytes(), per_page=64 * MIB, total=256 * MIB)


# -- PDF: what the confined reader may take -------------------------------------------------------


def test_a_pdf_small_once_inflated_but_slow_to_read_is_stopped_at_the_readers_time_limit() -> None:
    with limits.reading(limits.Limits(pdf_seconds=2)):
        reason, seconds = refused(hostile.slow_pdf(8 * MIB))

    assert reason == "too large: reading the PDF took more than 2 s"
    assert seconds < 6


def test_a_pdf_that_needs_more_memory_than_its_reader_has_is_too_large_and_the_caller_is_untouched() -> None:
    bounds = limits.Limits(inflated_bytes=hostile.GiB * 4, inflated_total_bytes=hostile.GiB * 4,
                           pdf_memory_bytes=256 * MIB, pdf_seconds=60)
    with limits.reading(bounds):
        reason, _ = refused(hostile.bomb_pdf(hostile.GiB, b" "))

    assert reason == "too large: reading the PDF needs more than 256 MiB of memory"
    assert len(pages_from_attachment(SAMPLE_FAX.read_bytes(), "application/pdf")) == 1  # and the next one is read


def test_the_message_time_left_bounds_the_pdf_reader_too() -> None:
    with limits.reading(limits.Limits(pdf_seconds=30, reading_seconds=1.5)):
        reason, seconds = refused(hostile.slow_pdf(8 * MIB))

    assert reason == "too large: reading the message took more than 1.5 s"
    assert seconds < 5


def test_a_reader_that_crashes_is_a_reason_not_a_dead_caller() -> None:
    with pytest.raises(Confinement) as caught:
        run_confined(ctypes.string_at, 0, seconds=10, memory_bytes=MIB * 256)

    assert (caught.value.kind, caught.value.detail) == ("died", "killed by SIGSEGV")
    assert run_confined(pow, 2, 10, seconds=10, memory_bytes=MIB * 256) == 1024


def test_a_readers_own_exception_comes_back_as_it_was_raised() -> None:
    with pytest.raises(UnreadablePage, match="^encrypted PDF: a password is needed"):
        pages_from_attachment(hostile.encrypted_pdf(), "application/pdf")


# -- pages and pixels -----------------------------------------------------------------------------


def test_pages_and_pixels_over_the_limits_are_too_large() -> None:
    assert refused(hostile.many_pages_pdf(60))[0] == "too large: 60 pages (at most 50)"
    assert refused(hostile.image_bomb_pdf())[0] == ("too large: page 1 embeds an image of 100000×100000 pixels "
                                                    "(at most 100 Mpx)")
    with limits.reading(limits.Limits(pages=3)):
        assert refused(hostile.many_pages_pdf(4))[0] == "too large: 4 pages (at most 3)"


def test_a_tiff_claiming_absurd_dimensions_is_refused_from_its_header_before_decoding() -> None:
    reason, seconds = refused(hostile.huge_tiff(1_000_000, 1_000_000), "image/tiff")
    assert reason == "too large: the image claims 1,000,000 Mpx"
    assert seconds < 1
    assert refused(hostile.huge_tiff(8000, 8000), "image/tiff")[0] == ("too large: page 1 is 8000×8000 pixels "
                                                                       "(at most 30 Mpx)")


def test_read_document_keeps_the_same_limits() -> None:
    with pytest.raises(TooLarge, match="^too large: PDF page 1 content inflates past 64 MiB$"):
        read_document(hostile.bomb_pdf(), "application/pdf", "bomb.pdf")
    with limits.reading(limits.Limits(page_pixels=1_000_000)), pytest.raises(TooLarge, match="at most 1 Mpx"):
        page_from_image(Image.new("L", (2000, 1000), 255))


# -- OCR and the message's reading time -----------------------------------------------------------


def _printed_page() -> Image.Image:
    page = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(page)
    for row in range(40):
        draw.text((100, 100 + row * 50), f"line {row} of words for Tesseract to read 1234", fill=0)
    page.info["dpi"] = (200, 200)
    return page


def test_ocr_over_the_pages_time_is_too_large_and_stops_when_the_time_is_spent() -> None:
    started = time.monotonic()
    with limits.reading(limits.Limits(ocr_page_seconds=0.5)), pytest.raises(TooLarge) as caught:
        page_from_image(_printed_page())

    assert caught.value.reason == "too large: OCR of page 1 took more than 0.5 s"
    assert time.monotonic() - started < 5


def test_the_time_left_caps_every_subprocess_and_is_checked_by_the_caller() -> None:
    with limits.reading(limits.Limits(reading_seconds=0.2)):
        assert 0 < limits.capped(30) <= 0.2
        time.sleep(0.25)
        assert limits.capped(30) == 0
        with pytest.raises(TooLarge, match="^too large: reading the message took more than 0.2 s$"):
            limits.check_time()
    assert limits.capped(30) == 30  # outside a message's reading, only the subprocess's own timeout


# -- MIME -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "reason"), [
    (hostile.many_parts_mail(5000), "too large: more than 2000 MIME parts"),
    (hostile.deep_mail(5000), "too large: MIME nesting deeper than 30 levels"),
    (hostile.deep_mail(40), "too large: MIME nesting deeper than 30 levels"),
    (hostile.huge_header_mail(8 * MIB), "too large: the header is 7 MiB (at most 256 KiB)"),
], ids=["5000-parts", "5000-deep", "40-deep", "8-MiB-header"])
def test_a_mail_over_the_mime_limits_says_so_and_keeps_its_headers(raw: bytes, reason: str) -> None:
    started = time.monotonic()
    mail = parse_mail(raw)

    assert mail.too_large == reason
    assert mail.from_addr == "partner@partner.example" and mail.subject
    assert time.monotonic() - started < 3


def test_a_mail_within_the_mime_limits_is_read_whole() -> None:
    for raw in (hostile.many_parts_mail(150), hostile.deep_mail(20), hostile.huge_header_mail(200 * 1024)):
        assert parse_mail(raw).too_large is None
    assert parse_mail(hostile.deep_mail(20)).text == "the bottom"
    with limits.reading(limits.Limits(mime_parts=100)):
        assert parse_mail(hostile.many_parts_mail(150)).too_large == "too large: more than 100 MIME parts"
