"""read_document: a buyer's own order sheet, as a text-layer PDF and as the same sheet faxed.

The sheet is rendered here by WeasyPrint from HTML that puts each text at a known place
(mm from the page's top-left corner): a title, the buyer's block, a stamp, a desired
delivery date, a ruled table (品名 | 数量 | 単位 | 単価 | 金額) with full-width and
half-width katakana and numbers like 3,200, an unruled list with wide gaps, notes. The
scans are that sheet rasterized and faxed by samples/faxsim.py (fine and normal
resolution, skewed, upside down, speckled) and read by OCR (marked slow).
"""

from __future__ import annotations

import io
import random
import re
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw, ImageFont

from parsers.imaging import MAX_PAGES, UnreadablePage
from parsers.pagetext import agreement, rereading, tesseract
from parsers.pagetext.document import page_from_image, read_document
from parsers.pagetext.page import PageText, Rule, Word
from samples import faxsim
from samples.hostile import encrypted_pdf
from workflows.letters import pdf_from_html

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")


# -- the order sheet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    """A text the sheet puts at (x, top) in mm, set in IPAex Gothic at ``size`` mm, one line high."""

    x: float
    top: float
    size: float
    text: str


PLACED = (
    Placed(75, 12, 9, "FAX注文書"),
    Placed(15, 30, 5, "有限会社みどり青果　御中"),
    Placed(15, 38, 3.5, "いつもお世話になっております。下記の通り注文いたします。"),
    Placed(125, 28, 3.5, "店名：レストランさくら 渋谷店"),
    Placed(125, 33, 3.5, "TEL 03-1111-2222"),
    Placed(125, 38, 3.5, "FAX 03-1111-2223"),
    Placed(125, 43, 3.5, "担当：山田"),
    Placed(15, 50, 5, "納品希望日：11/25(水)"),
    Placed(15, 122, 4.5, "追加（別便で可）"),
    Placed(20, 130, 4, "ほうれん草　　　　4束　　　　@120"),
    Placed(20, 137, 4, "ﾄﾏﾄ　　　3ｹｰｽ"),
    Placed(20, 144, 4, "にんじん          2kg"),
    Placed(20, 151, 4, "長ねぎ"),
    Placed(70, 151, 4, "6本"),
    Placed(100, 151, 4, "特売品"),
    Placed(15, 165, 4, "備考：午前中の納品をお願いします。"),
    Placed(15, 172, 4, "合計金額 22,850円（税抜）"),
)
PAGE_2 = (
    Placed(75, 12, 9, "FAX注文書"),
    Placed(15, 30, 4.5, "（2/2）続き"),
    Placed(20, 45, 4, "しいたけ"), Placed(80, 45, 4, "4"), Placed(95, 45, 4, "ﾊﾟｯｸ"),
    Placed(20, 55, 4, "大根"), Placed(80, 55, 4, "8"), Placed(95, 55, 4, "本"),
    Placed(15, 75, 4, "以上、よろしくお願いします。"),
)
TABLE_X, TABLE_TOP = 15.0, 62.0
COLUMNS = (70.0, 20.0, 20.0, 30.0, 35.0)  # 品名 数量 単位 単価 金額, mm
BORDER = 0.3
HEAD = ("品名", "数量", "単位", "単価", "金額")
ROWS = (("トマト（桃太郎）", "3", "ケース", "3,200", "9,600"),
        ("ﾐﾆﾄﾏﾄ", "5", "ﾊﾟｯｸ", "450", "2,250"),
        ("キャベツ", "10", "玉", "180", "1,800"),
        ("玉ねぎ 北海道産", "2", "箱", "2,800", "5,600"),
        ("じゃがいも", "12", "kg", "300", "3,600"))
NUMERIC = (1, 3, 4)  # right-aligned columns

CSS = f"""
@page {{ size: 210mm 297mm; margin: 0; }}
body {{ margin: 0; font-family: "IPAexGothic"; }}
.p {{ position: relative; width: 210mm; height: 297mm; page-break-after: always; }}
.p:last-child {{ page-break-after: auto; }}
.a {{ position: absolute; white-space: pre; line-height: 1; }}
table {{ position: absolute; border-collapse: collapse; table-layout: fixed; }}
td {{ border: {BORDER}mm solid #000; height: 8mm; padding: 0 1.5mm; line-height: 8mm; font-size: 4mm;
      white-space: nowrap; overflow: hidden; }}
td.n {{ text-align: right; }}
th {{ border: {BORDER}mm solid #000; height: 7mm; font-weight: normal; font-size: 4mm; line-height: 7mm;
      background: #ddd; }}
.stamp {{ position: absolute; left: 180mm; top: 38mm; width: 12mm; height: 12mm; line-height: 12mm;
          font-size: 4.5mm; border: 0.6mm solid #c00; border-radius: 50%; color: #c00; text-align: center; }}
"""


def _placed_html(items: tuple[Placed, ...]) -> str:
    return "".join(f'<div class="a" style="left:{p.x}mm;top:{p.top}mm;font-size:{p.size}mm">{p.text}</div>'
                   for p in items)


def _table_html() -> str:
    cols = "".join(f"<col style='width:{w}mm'>" for w in COLUMNS)
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in HEAD) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td class='{'n' if i in NUMERIC else ''}'>{cell}</td>"
                                     for i, cell in enumerate(row)) + "</tr>" for row in ROWS)
    return f'<table style="left:{TABLE_X}mm;top:{TABLE_TOP}mm;width:{sum(COLUMNS)}mm">{cols}{head}{body}</table>'


@cache
def order_pdf(pages: int = 1) -> bytes:
    first = _placed_html(PLACED) + '<div class="stamp">山田</div>' + _table_html()
    bodies = [first] + ([_placed_html(PAGE_2)] if pages > 1 else [])
    html = (f"<html><head><style>{CSS}</style></head><body>"
            + "".join(f'<div class="p">{body}</div>' for body in bodies) + "</body></html>")
    return pdf_from_html(html)


def key(text: str) -> str:
    """What the parser compares: NFKC, without whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def find(page: PageText, text: str) -> Word:
    matches = [w for w in page.words if w.text == text]
    assert matches, f"{text!r} not among {[w.text for w in page.words]}"
    return matches[0]


@pytest.fixture(scope="module")
def sheet() -> PageText:
    (page,) = read_document(order_pdf(), "application/pdf", "order.pdf")
    return page


# -- text layer -----------------------------------------------------------------------------------


def test_a_page_with_a_text_layer_is_read_from_its_characters(sheet: PageText) -> None:
    assert (sheet.number, sheet.source, sheet.rotation, sheet.skew) == (1, "text", 0, 0.0)
    assert (sheet.width_mm, sheet.height_mm) == pytest.approx((210.0, 297.0), abs=0.1)
    assert all(w.conf == 1.0 for w in sheet.words)
    assert sheet.ms > 0


def test_each_text_comes_where_the_sheet_puts_it_in_millimetres(sheet: PageText) -> None:
    for placed in [PLACED[i] for i in (0, 2, 4, 7, 8, 12, 13, 14, 16)]:
        word = find(sheet, placed.text)
        assert word.x0 == pytest.approx(placed.x, abs=1.0), placed
        assert word.top == pytest.approx(placed.top, abs=1.0), placed
        assert word.bottom - word.top == pytest.approx(placed.size, abs=1.0), placed


def test_a_wide_gap_starts_a_new_word_and_a_narrow_space_does_not(sheet: PageText) -> None:
    texts = [w.text for w in sheet.words]

    # an ideographic space is a character wide: two words
    assert find(sheet, "有限会社みどり青果").x0 == pytest.approx(15, abs=1)
    assert find(sheet, "御中").x0 == pytest.approx(15 + 10 * 5, abs=1)
    # the unruled list: its columns are words of their own; half-width katakana as written
    for row in (["ほうれん草", "4束", "@120"], ["ﾄﾏﾄ", "3ｹｰｽ"], ["にんじん", "2kg"], ["長ねぎ", "6本", "特売品"]):
        words = [find(sheet, t) for t in row]
        assert len({w.line for w in words}) == 1 and [w.x0 for w in words] == sorted(w.x0 for w in words), row
    # a Latin space stays one space; a space between Japanese words goes (the parser ignores it anyway)
    assert "TEL 03-1111-2222" in texts and "FAX 03-1111-2223" in texts
    assert "玉ねぎ北海道産" in texts and "店名：レストランさくら渋谷店" in texts
    assert "納品希望日：11/25(水)" in texts and "合計金額 22,850円（税抜）" in texts


def test_each_cell_of_a_table_row_is_a_word_of_the_rows_line(sheet: PageText) -> None:
    head = [find(sheet, h) for h in HEAD]
    assert len({w.line for w in head}) == 1
    lines = {head[0].line}
    for row in ROWS:
        cells = [find(sheet, cell.replace(" ", "")) for cell in row]
        assert len({w.line for w in cells}) == 1, row
        assert [w.x0 for w in cells] == sorted(w.x0 for w in cells)
        lines.add(cells[0].line)
    assert len(lines) == len(ROWS) + 1


def _expected_rules() -> tuple[list[float], list[float]]:
    xs = [TABLE_X]
    for width in COLUMNS:
        xs.append(xs[-1] + width)
    ys = [TABLE_TOP, TABLE_TOP + 7 + BORDER]  # the header row is 7 mm high, the others 8
    for _ in ROWS:
        ys.append(ys[-1] + 8 + BORDER)
    return xs, ys


def test_the_ruling_of_the_table_comes_out_as_rules(sheet: PageText) -> None:
    xs, ys = _expected_rules()
    horizontal = [r for r in sheet.rules if r.horizontal]
    vertical = [r for r in sheet.rules if not r.horizontal]

    assert len(horizontal) == len(ROWS) + 2 and len(vertical) == len(COLUMNS) + 1
    for rule, y in zip(horizontal, ys, strict=True):
        assert rule.top == pytest.approx(y, abs=0.8) and rule.bottom - rule.top < 0.6
        assert (rule.x0, rule.x1) == pytest.approx((TABLE_X, xs[-1]), abs=0.5)
    for rule, x in zip(sorted(vertical, key=lambda r: r.x0), xs, strict=True):
        assert rule.x0 == pytest.approx(x, abs=0.5) and rule.x1 - rule.x0 < 0.6
        assert (rule.top, rule.bottom) == pytest.approx((TABLE_TOP, horizontal[-1].bottom), abs=0.5)


def test_each_cell_lies_between_its_rules(sheet: PageText) -> None:
    horizontal = [r for r in sheet.rules if r.horizontal]
    vertical = sorted((r for r in sheet.rules if not r.horizontal), key=lambda r: r.x0)
    for r, row in enumerate(ROWS):
        for c, cell in enumerate(row):
            word = find(sheet, cell.replace(" ", ""))
            assert vertical[c].x1 <= word.x0 and word.x1 <= vertical[c + 1].x0, cell
            assert horizontal[r + 1].bottom <= word.top and word.bottom <= horizontal[r + 2].top, cell


def test_words_are_sorted_by_line_then_left_edge_and_lines_run_down_the_page(sheet: PageText) -> None:
    assert list(sheet.words) == sorted(sheet.words, key=lambda w: (w.line, w.x0))
    tops: dict[int, float] = {}
    for word in sheet.words:
        tops.setdefault(word.line, word.top)
    assert sorted(tops) == list(range(len(tops)))
    middles = [sum((w.top + w.bottom) / 2 for w in sheet.words if w.line == n)
               / sum(1 for w in sheet.words if w.line == n) for n in sorted(tops)]
    assert middles == sorted(middles)


def _pixels(page: PageText, x0: float, top: float, x1: float, bottom: float) -> npt.NDArray[np.uint8]:
    s = page.dpi / 25.4
    return np.asarray(page.image, dtype=np.uint8)[round(top * s):round(bottom * s), round(x0 * s):round(x1 * s)]


def _has_ink(page: PageText, word: Word) -> bool:
    return int(_pixels(page, word.x0, word.top, word.x1, word.bottom).min()) < 100


def _blank(page: PageText, x0: float, top: float, x1: float, bottom: float) -> bool:
    """Paper there: no more than a few specks of dust."""
    pixels = _pixels(page, x0, top, x1, bottom)
    return int((pixels < 128).sum()) < 0.005 * pixels.size


def test_the_picture_is_the_page_the_millimetres_refer_to(sheet: PageText) -> None:
    assert sheet.image.mode == "L" and sheet.dpi == 200
    assert sheet.image.size == (round(sheet.width_mm * sheet.dpi / 25.4), round(sheet.height_mm * sheet.dpi / 25.4))
    assert all(_has_ink(sheet, w) for w in sheet.words)
    assert _blank(sheet, 5, 200, 200, 290)  # below the notes: paper


def test_a_two_page_pdf_gives_both_pages_numbered() -> None:
    pages = read_document(order_pdf(2), "application/octet-stream", "order.pdf")

    assert [p.number for p in pages] == [1, 2] and {p.source for p in pages} == {"text"}
    second = pages[1]
    assert [w.text for w in second.words if w.line == find(second, "しいたけ").line] == ["しいたけ", "4", "ﾊﾟｯｸ"]
    assert find(second, "大根").top == pytest.approx(55, abs=1)
    assert second.rules == ()


# -- what is refused ------------------------------------------------------------------------------


def blank_pdf(pages: int) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(595, 842).close()
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def test_the_hand_made_encrypted_pdf_is_a_real_one() -> None:
    doc = pdfium.PdfDocument(encrypted_pdf(), password="secret")
    assert len(doc) == 1
    doc.close()


@pytest.mark.parametrize(("data", "content_type", "reason"), [
    (encrypted_pdf(), "application/pdf", "encrypted PDF"),
    (b"%PDF-1.4\n%garbage\n" + bytes(range(256)) * 4, "application/pdf", "corrupt PDF"),
    (b"\x00\x01 not a pdf, labelled as one", "application/pdf", "corrupt PDF"),
    (blank_pdf(0), "application/pdf", "no pages"),
    (blank_pdf(MAX_PAGES + 1), "application/pdf", f"too large: {MAX_PAGES + 1} pages"),
    (b"II*\x00" + b"\xff" * 64, "image/tiff", "corrupt image"),
    (b"", "application/pdf", "empty attachment"),
    (b"just some words", "text/plain", "unsupported attachment"),
], ids=["encrypted", "corrupt-pdf", "not-a-pdf", "zero-pages", "too-many-pages", "corrupt-tiff", "empty",
        "unsupported"])
def test_an_unreadable_attachment_raises_unreadable_page_with_the_reason(data: bytes, content_type: str,
                                                                       reason: str) -> None:
    with pytest.raises(UnreadablePage) as caught:
        read_document(data, content_type, "order")
    assert caught.value.reason.startswith(reason), caught.value.reason


def test_a_truncated_pdf_raises_unreadable_page() -> None:
    data = order_pdf()
    with pytest.raises(UnreadablePage, match="^corrupt PDF"):
        read_document(data[: len(data) // 3], "application/pdf")


def _inked_page() -> Image.Image:
    image = Image.new("L", (1654, 2339), 255)
    ImageDraw.Draw(image).text((200, 200), "注文書 3ケース", font=ImageFont.truetype(faxsim.FONT, 40), fill=0)
    image.info["dpi"] = (200, 200)
    return image


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-tesseract"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize(("make_command", "reason"), [
    (lambda tmp: str(tmp / "no-such-tesseract"), "OCR failed: .*not installed"),
    (lambda tmp: _script(tmp, "echo 'Error opening data file jpn.traineddata' >&2; exit 1"),
     "OCR failed: .* exited with 1: Error opening data file"),
    (lambda tmp: _script(tmp, "sleep 5"), "OCR failed: timeout"),
], ids=["missing", "failing", "timeout"])
def test_ocr_that_fails_raises_unreadable_page_saying_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        make_command: Callable[[Path], str], reason: str) -> None:
    monkeypatch.setattr(tesseract, "OCR_TIMEOUT", 0.5)
    buf = io.BytesIO()
    _inked_page().save(buf, "PNG", dpi=(200, 200))

    with pytest.raises(UnreadablePage, match=reason):
        read_document(buf.getvalue(), "image/png", "scan.png", ocr_command=make_command(tmp_path))
    with pytest.raises(UnreadablePage, match=reason):
        page_from_image(_inked_page(), ocr_command=make_command(tmp_path))


CORPUS_BAD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf" / "bad"


@pytest.mark.skipif(not CORPUS_BAD.is_dir(), reason="the shared corpus is not here")
@pytest.mark.parametrize(("name", "reason"), [("pypdf__r5-user-password.pdf", "encrypted PDF"),
                                              ("qpdf__encrypted-40-bit-R3.pdf", "encrypted PDF"),
                                              ("qpdf__bad-direct-root.pdf", "corrupt PDF")])
def test_bad_pdfs_from_the_corpus_raise_unreadable_page(name: str, reason: str) -> None:
    with pytest.raises(UnreadablePage, match=f"^{reason}"):
        read_document((CORPUS_BAD / name).read_bytes(), "application/pdf", name)


@needs_tesseract
@pytest.mark.skipif(not CORPUS_BAD.is_dir(), reason="the shared corpus is not here")
@pytest.mark.parametrize("name", ["qpdf__broken-lzw.pdf", "pikepdf__cyclic-toc.pdf"])
def test_a_pdf_pdfplumber_cannot_read_but_pdfium_renders_is_read_from_its_picture(name: str) -> None:
    pages = read_document((CORPUS_BAD / name).read_bytes(), "application/pdf", name)

    assert [p.source for p in pages] == ["ocr"]


# -- the same sheet, faxed ------------------------------------------------------------------------


def fax(page: Image.Image, seed: int, **kwargs: object) -> Image.Image:
    options: dict[str, object] = {"resolution": "fine", "skew_deg": 0.0, "noise": 0.3, "upside_down": False,
                                  "shift_mm": 0.5}
    options.update(kwargs)
    return faxsim.degrade(page, rng=random.Random(seed), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def scans() -> dict[str, PageText]:
    """Four pages read by OCR: a scanned PDF, a skewed noisy fax in normal resolution, a 2-page TIFF."""
    first = faxsim.rasterize(order_pdf(2), 200, page=0)
    second = faxsim.rasterize(order_pdf(2), 200, page=1)
    (fine,) = read_document(faxsim.to_pdf([fax(first, 1)]), "application/pdf", "scan.pdf")
    skewed = page_from_image(fax(first, 2, resolution="normal", skew_deg=2.0, noise=0.6))
    upside_down, back = read_document(faxsim.to_tiff([fax(first, 3, skew_deg=-1.0, upside_down=True),
                                                      fax(second, 4, skew_deg=0.5)]),
                                      "image/tiff", "fax.tif")
    return {"fine": fine, "skewed": skewed, "upside_down": upside_down, "page_2": back}


HEADINGS = ("FAX注文書", "品名", "数量", "単位", "単価", "金額")
KEY_WORDS = ("有限会社みどり青果", "トマト（桃太郎）", "キャベツ", "玉ねぎ北海道産", "じゃがいも", "ケース", "kg",
             "追加（別便で可）", "ほうれん草", "にんじん", "特売品", "2kg", "6本",
             "いつもお世話になっております。下記の通り注文いたします。")


def _word_at(page: PageText, expected: Word, wanted: str, *, digits: bool = False,
             tolerance: float = 3.0) -> Word | None:
    """The word of ``page`` reading ``wanted`` (NFKC, no whitespace; ``digits``: its digits alone) near
    where ``expected`` is on the text-layer page."""
    def norm(text: str) -> str:
        return re.sub(r"[^0-9]", "", key(text)) if digits else key(text)

    return next((w for w in page.words if norm(w.text) == norm(wanted) and abs(w.x0 - expected.x0) <= tolerance
                 and abs(w.top - expected.top) <= tolerance), None)


@pytest.mark.slow
@needs_tesseract
@pytest.mark.parametrize(("name", "misread"), [("fine", 1), ("upside_down", 1), ("skewed", 4)])
def test_a_faxed_page_gives_the_key_words_at_their_places(scans: dict[str, PageText], sheet: PageText, name: str,
                                                         misread: int) -> None:
    """The headings, the quantities and the amounts' digits, all; the other words but one (a dakuten lost:
    にんしん), or a few on a fax in normal resolution (half the lines), skewed and speckled (キャペベツ,
    玉ねぎ北海道導 on this one)."""
    page = scans[name]
    missing = [text for text in HEADINGS if _word_at(page, find(sheet, text), text) is None]
    assert not missing, f"{name}: {missing} not read in place:\n{page.text}"
    missing = [text for text in KEY_WORDS if _word_at(page, find(sheet, text), text) is None]
    assert len(missing) <= misread, f"{name}: {missing} not read in place:\n{page.text}"
    for row in ROWS:
        words = [find(sheet, cell.replace(" ", "")) for cell in row]
        assert _word_at(page, words[1], row[1]) is not None, f"{name}: quantity {row[1]} of {row[0]}"
        for amount, word in zip(row[3:], words[3:], strict=True):  # to the digits: the parser fixes separators
            assert _word_at(page, word, amount, digits=True) is not None, f"{name}: {amount} of {row[0]}"


@pytest.mark.slow
@needs_tesseract
def test_half_width_katakana_on_a_fax_reads_as_the_same_katakana_after_nfkc(scans: dict[str, PageText],
                                                                            sheet: PageText) -> None:
    for name in ("fine", "skewed", "upside_down"):
        assert _word_at(scans[name], find(sheet, "ﾐﾆﾄﾏﾄ"), "ﾐﾆﾄﾏﾄ") is not None, scans[name].text


@pytest.mark.slow
@needs_tesseract
def test_a_faxed_page_is_turned_upright_and_straightened(scans: dict[str, PageText]) -> None:
    assert [scans[n].rotation for n in ("fine", "skewed", "upside_down", "page_2")] == [0, 0, 180, 0]
    assert scans["fine"].skew == pytest.approx(0.0, abs=0.15)
    assert scans["skewed"].skew == pytest.approx(2.0, abs=0.15)
    assert scans["upside_down"].skew == pytest.approx(-1.0, abs=0.15)
    assert scans["page_2"].skew == pytest.approx(0.5, abs=0.15)
    for page in scans.values():
        assert page.source == "ocr" and page.dpi == 200 and page.image.mode == "L"
        assert (page.width_mm, page.height_mm) == pytest.approx((210, 297), abs=0.5)
        assert page.image.size == (round(page.width_mm * page.dpi / 25.4), round(page.height_mm * page.dpi / 25.4))


def _same_rule(rule: Rule, other: Rule, tolerance: float = 2.5) -> bool:
    return all(abs(a - b) < tolerance for a, b in ((rule.x0, other.x0), (rule.x1, other.x1),
                                                   (rule.top, other.top), (rule.bottom, other.bottom)))


@pytest.mark.slow
@needs_tesseract
@pytest.mark.parametrize("name", ["fine", "skewed", "upside_down"])
def test_the_table_ruling_of_a_faxed_page_comes_out_as_straight_rules(scans: dict[str, PageText],
                                                                      sheet: PageText, name: str) -> None:
    page = scans[name]
    found = [next((r for r in page.rules if _same_rule(r, drawn)), None) for drawn in sheet.rules]

    assert all(found), f"{name}: drawn {sheet.rules}, found {page.rules}"
    assert all(min(r.x1 - r.x0, r.bottom - r.top) < 1.2 for r in found if r)  # straight: about as thin as drawn


@pytest.mark.slow
@needs_tesseract
@pytest.mark.parametrize("name", ["fine", "skewed", "upside_down"])
def test_a_table_row_on_a_faxed_page_is_one_line_of_a_word_per_cell(scans: dict[str, PageText], sheet: PageText,
                                                                   name: str) -> None:
    page = scans[name]
    columns = sorted((r for r in page.rules if not r.horizontal), key=lambda r: r.x0)
    for product in ("トマト（桃太郎）", "じゃがいも"):
        first = _word_at(page, find(sheet, product), product)
        assert first is not None
        row = [w for w in page.words if w.line == first.line]
        cells = [next(i for i in range(len(columns) - 1) if columns[i].x1 <= w.x0 and w.x1 <= columns[i + 1].x0)
                 for w in row]
        assert cells == list(range(len(COLUMNS))), f"{name}: {[w.text for w in row]}"
    spinach = _word_at(page, find(sheet, "ほうれん草"), "ほうれん草")
    assert spinach is not None and len([w for w in page.words if w.line == spinach.line]) == 3  # 4束 @120


@pytest.mark.slow
@needs_tesseract
def test_a_two_page_tiff_gives_both_pages(scans: dict[str, PageText]) -> None:
    assert (scans["upside_down"].number, scans["page_2"].number) == (1, 2)
    back = scans["page_2"]
    assert {"FAX注文書", "しいたけ", "大根"} <= {key(w.text) for w in back.words}
    shiitake = next(w for w in back.words if key(w.text) == "しいたけ")
    assert (shiitake.x0, shiitake.top) == pytest.approx((20, 45), abs=3)


@pytest.mark.slow
@needs_tesseract
def test_the_picture_of_a_faxed_page_is_upright_where_the_words_say(scans: dict[str, PageText]) -> None:
    for page in scans.values():
        assert all(0.0 <= w.conf <= 1.0 for w in page.words)
        assert list(page.words) == sorted(page.words, key=lambda w: (w.line, w.x0))
        assert all(_has_ink(page, w) for w in page.words)
        title = next(w for w in page.words if "注文書" in key(w.text))
        assert title.top < 30  # the title is at the top of the upright picture
        assert _blank(page, 20, 200, 190, 280)  # below the notes: paper


@pytest.mark.slow
@needs_tesseract
def test_a_page_faxed_sideways_is_turned_a_quarter(sheet: PageText) -> None:
    faxed = fax(faxsim.rasterize(order_pdf(), 200), 5).convert("L").rotate(90, expand=True)  # its top to the left
    faxed.info["dpi"] = (200, 200)

    page = page_from_image(faxed)

    assert page.rotation == 270 and (page.width_mm, page.height_mm) == pytest.approx((210, 297), abs=0.5)
    for text in HEADINGS:
        assert _word_at(page, find(sheet, text), text) is not None, page.text


@needs_tesseract
def test_a_hairline_rule_a_fax_sent_as_dashes_is_a_rule_not_a_word() -> None:
    """A light gray row line comes out of a fax as dashes a pixel high; read as words, it was ーーーー."""
    image = Image.new("L", (1654, 800), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(faxsim.FONT, 32)
    for row, (name, quantity) in enumerate((("キャベツ", "3"), ("にんじん", "12"), ("玉ねぎ", "5"))):
        top = 150 + row * 120
        draw.text((160, top), name, font=font, fill=0)
        draw.text((900, top), quantity, font=font, fill=0)
        y = top + 75
        for x in range(150, 1500, 44):  # 5 mm of line, half a millimetre of gap
            draw.line((x, y, x + 39, y), fill=0)
    image.info["dpi"] = (200, 200)

    page = page_from_image(image)

    across = [r for r in page.rules if r.horizontal and r.x1 - r.x0 > 150]
    assert len(across) == 3, page.rules
    assert not [w.text for w in page.words if w.text.count("ー") >= 3], page.text
    assert len(page.words) == 6 and {"キャベツ", "玉ねぎ", "12"} <= {w.text for w in page.words}, page.text


def test_a_word_of_several_ocr_tokens_keeps_each_tokens_confidence_where_it_ends() -> None:
    read = tesseract.TesseractLine((("Deliver", 0, 50, 0.96), ("on.", 60, 80, 0.55), ("2026/11/27", 84, 150, 0.95)))
    text = read.text(20.0)
    word = Word(text, 20, 20, 80, 24, read.conf, 0, token_confs=tesseract.token_ends(text, read))

    assert (text, word.token_confs) == ("Deliver on.2026/11/27", ((7, 0.96), (11, 0.55), (21, 0.95)))
    assert (word.conf, word.conf_of(text.index("2026")), word.conf_of(0, 7)) == (0.55, 0.95, 0.96)
    # a token tidying changed cannot be placed: the word is as sure as its least sure token, throughout
    assert tesseract.token_ends("Deliver on2026/11/27", read) == ()


def test_a_voicing_mark_read_apart_from_its_half_width_kana_is_joined_to_it_and_ranked_by_script() -> None:
    assert [tesseract.voiced(text) for text in ("フ~ ナシメシ~", "ハ°ック", "ニンシ~ ン", "10時~12時")] == [
        "ブ ナシメジ", "パック", "ニンジ ン", "10時~12時"]
    # a reading with a Latin letter or a stroke between kana ranks below one without, however sure
    mixed = tesseract.TesseractLine((("ミニトYト", 0, 75, 0.93),))
    clean = tesseract.TesseractLine((("ミニトマト", 0, 75, 0.61),))
    assert max((mixed, clean), key=rereading.plausible) is clean


def test_two_readers_alike_make_a_word_sure_and_unlike_make_it_as_doubtful_as_they_differ() -> None:
    weigh = agreement.weigh
    # alike but for a yen sign, a separator or a small kana: Tesseract's text, as sure as the surer reader
    assert weigh(("¥1,740", 0.62, (), ((1, 0.5), (6, 0.62))), [("￥1.740", 0.9)]) == (
        "¥1,740", 0.9, (), ((1, 0.9), (6, 0.9)))
    assert weigh(("米 (コシヒカリ) 5kg", 0.46, (), ()), [("米(コシヒカリ)5kg", 0.87)])[:2] == \
        ("米 (コシヒカリ) 5kg", 0.87)
    # the second reader's handakuten read as a mark of its own is put on its kana too (ハ°ック)
    assert weigh(("5パック", 0.7, (), ()), [("5ハ°ック", 0.95)]) == ("5パック", 0.95, (), ())
    # a kanji the second reader writes in its simplified Chinese form is the kanji Tesseract read there
    assert weigh(("単位", 0.7, (), ()), [("单位", 0.99)])[:2] == ("単位", 0.99)
    # unlike: the surer reading, less the other's confidence as far as the other differs; the other kept
    text, conf, alternatives, _ = weigh(("る", 0.94, (), ()), [("8", 1.0)])
    assert (text, round(conf, 2), alternatives) == ("8", 0.06, ("る",))
    text, conf, alternatives, _ = weigh(("73", 0.54, (), ()), [("13", 1.0)])
    assert (text, round(conf, 2), alternatives) == ("13", 0.73, ("73",))
    text, conf, _, _ = weigh(("2.5-", 0.6, (), ()), [("2.5", 0.95)])
    assert (text, round(conf, 2)) == ("2.5", 0.81)
    # where in the word the two agree they are as sure as the surer, where they differ as above
    text, conf, _, token_confs = weigh(("2東", 0.93, (), ()), [("2束", 0.99)])
    assert (text, round(conf, 2), token_confs) == ("2束", 0.53, ((1, 0.99), (2, 0.53)))
    assert weigh(("1 る", 0.93, (), ()), [("18", 1.0)])[3] == ((1, 1.0), (2, 0.535))
    # a character beside one the other reading has more is not agreed on: 1 may be the start of 18
    assert weigh(("1", 0.9, (), ()), [("18", 0.8)])[3] == ()
    assert weigh(("40 コ", 0.8, (), ((2, 0.9), (4, 0.8))), [("40", 0.5)])[3] == ((2, 0.9), (3, 0.8), (4, 0.667))
    # a reading with Latin inside kana, or simplified kanji of its own, never wins however sure
    text, conf, alternatives, _ = weigh(("レモン", 0.61, (), ()), [("レtン", 0.9), ("纳品", 0.99)])
    assert (text, alternatives) == ("レモン", ("レtン", "纳品"))
    assert conf < 0.61
    # the second reader read nothing: Tesseract's reading stands; Tesseract read nothing: the second's
    assert weigh(("大根", 0.7, (), ()), [("", 0.1)]) == ("大根", 0.7, (), ())
    assert weigh(("", 0.0, (), ()), [("人参", 0.93)])[:2] == ("人参", 0.93)


@needs_tesseract
def test_a_character_alone_whose_top_and_bottom_do_not_touch_is_one_word_and_close_lines_stay_two() -> None:
    """箱 (⺮ over 相) and 袋 (代 over 衣) alone in a unit cell were two words a line apart, read 相 and チー;
    two names, or two quantities, in rows closer than a character's height must stay two words all the same."""
    image = Image.new("L", (1654, 600), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(faxsim.FONT, 34)
    draw.text((160, 100), "箱", font=font, fill=0)
    draw.text((160, 250), "袋", font=font, fill=0)
    draw.text((600, 100), "ピーマン", font=font, fill=0)
    draw.text((600, 140), "絹ごし豆腐", font=font, fill=0)  # 6 px below the line above
    hand = ImageFont.truetype(faxsim.handwriting_font(), 50)  # a quantity column written large, rows tight:
    draw.text((1090, 100), "10kg", font=hand, fill=0)  # together as wide as tall, but two characters high
    draw.text((1090, 150), "16kg", font=hand, fill=0)
    image.info["dpi"] = (200, 200)

    page = page_from_image(image)

    words = sorted(w.text for w in page.words)
    assert words == sorted(["箱", "袋", "ピーマン", "絹ごし豆腐", "10kg", "16kg"]), page.text
