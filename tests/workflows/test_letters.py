"""Paper invitations: the FAX letter and the postcard, read back as a partner's fax machine and our reader would."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from workflows.letters import (
    FORM_GEOMETRY,
    POSTCARD_GEOMETRY,
    Box,
    parse_reference,
    pdf_from_html,
    reference_for,
    render_letter,
)

SECRET = b"reference-secret-for-the-tests!!"
ID, PASSWORD = "KP4M7RTX", "HN9WE3AC"
MM = 72 / 25.4  # PDF points per millimetre
DPI = 200


def invitation(**changes: Any) -> SimpleNamespace:
    fields: dict[str, Any] = {
        "id": 1001,
        "issuer_company": "株式会社インフォ商会",
        "issuer_name": "鈴木 二郎",
        "partner_company": "株式会社インフォ物産",
        "partner_name": "山田 太郎",
        "comment": "いつもお世話になっております。\n請求書の電子化のため、ご招待いたします。",
        "language": "ja",
        "approval_required": True,
    }
    fields.update(changes)
    return SimpleNamespace(**fields)


def render(layout: str, language: str, **changes: Any) -> bytes:
    inv = invitation(**changes)
    return render_letter(inv, ID, PASSWORD, layout=layout, language=language,  # type: ignore[arg-type]
                         reference=reference_for(inv.id, SECRET), reply_address="invite@torii.example",
                         fax_number="03-1234-5679")


@dataclass
class Page:
    width_mm: float
    height_mm: float
    text: str
    words: list[dict[str, Any]]
    rects: list[tuple[float, float, float, float]]  # filled rectangles, mm
    fonts: set[str]


def read(pdf: bytes) -> list[Page]:
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            pages.append(Page(
                width_mm=float(page.width) / MM,
                height_mm=float(page.height) / MM,
                text=page.extract_text() or "",
                words=page.extract_words(),
                rects=[tuple(round(float(r[k]) / MM, 2) for k in ("x0", "top", "x1", "bottom"))  # type: ignore[misc]
                       for r in page.rects if r.get("fill")],
                fonts={c["fontname"] for c in page.chars},
            ))
    return pages


def rasterize(pdf: bytes, index: int) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        image: Image.Image = doc[index].render(scale=DPI / 72, grayscale=True).to_pil()
        return image
    finally:
        doc.close()


def line_of(page: Page, first: str, second: str) -> dict[str, Any]:
    """The word ``first`` with ``second`` right after it on the same line: the 4+4 grouping."""
    for word, after in zip(page.words, page.words[1:], strict=False):
        if word["text"] == first and after["text"] == second and abs(word["top"] - after["top"]) < 1:
            return word
    raise AssertionError(f"{first} {second} not found grouped in: {page.text!r}")


@pytest.fixture(scope="module")
def letters() -> dict[tuple[str, str], bytes]:
    """Each layout in each language, rendered once for the module (WeasyPrint's first render is slow)."""
    return {(layout, language): render(layout, language) for layout in ("fax", "postcard") for language in ("ja", "en")}


# --- reference ------------------------------------------------------------------------------


def test_a_reference_names_its_invitation_and_reads_back() -> None:
    reference = reference_for(1001, SECRET)
    assert reference.startswith("TORII-INV-1001-") and len(reference.rsplit("-", 1)[1]) == 6
    assert parse_reference(reference, SECRET) == 1001
    assert parse_reference(f"Re: お取引のご招待 [{reference}]", SECRET) == 1001


@pytest.mark.parametrize(
    "mangle",
    [
        str.lower,
        lambda r: r.replace("-", " "),
        lambda r: r.replace("-", "ー"),
        lambda r: r.rsplit("-", 1)[0] + r.rsplit("-", 1)[1],  # the last dash lost
        lambda r: r.replace("1001", "1OO1").replace("TORII", "T0RII"),  # OCR reads O for 0
        lambda r: r.translate(str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-",
                                            "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ－")),
    ],
)
def test_a_reference_reads_back_through_ocr_and_typing(mangle: Any) -> None:
    assert parse_reference(mangle(reference_for(1001, SECRET)), SECRET) == 1001


def test_a_forged_or_mistyped_reference_is_detected() -> None:
    reference = reference_for(1001, SECRET)
    check = reference.rsplit("-", 1)[1]
    assert parse_reference(f"TORII-INV-1002-{check}", SECRET) is None  # another invitation's ID, same check
    assert parse_reference(f"TORII-INV-101-{check}", SECRET) is None
    other = "C" if check[0] != "C" else "E"
    assert parse_reference(f"TORII-INV-1001-{other}{check[1:]}", SECRET) is None
    assert parse_reference(reference, b"another server's secret........") is None
    assert parse_reference("TORII-INV-1001", SECRET) is None
    assert parse_reference("", SECRET) is None


def test_references_of_different_invitations_differ_in_their_check() -> None:
    checks = {reference_for(n, SECRET).rsplit("-", 1)[1] for n in range(1, 2001)}
    assert len(checks) > 1990


# --- the FAX letter -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_fax_letter_is_one_a4_portrait_page(letters: dict[tuple[str, str], bytes], language: str) -> None:
    pages = read(letters["fax", language])
    assert len(pages) == 1
    assert pages[0].width_mm == pytest.approx(210, abs=0.1)
    assert pages[0].height_mm == pytest.approx(297, abs=0.1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_fax_letter_prints_the_credentials_grouped_at_the_bottom_of_the_page(
        letters: dict[tuple[str, str], bytes], language: str) -> None:
    page = read(letters["fax", language])[0]
    panel = FORM_GEOMETRY.credentials
    for first, second in ((ID[:4], ID[4:]), (PASSWORD[:4], PASSWORD[4:])):
        word = line_of(page, first, second)
        assert word["top"] / MM > 0.85 * page.height_mm
        assert panel.x < word["x0"] / MM and panel.y < word["top"] / MM and word["bottom"] / MM < panel.bottom
        assert word["bottom"] - word["top"] > 8 * MM * 0.8  # large: about 10 mm type
    assert ID not in page.text.replace(" ", "")[: page.text.replace(" ", "").find("KP4M")]  # printed once


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_temporary_id_is_printed_for_ocr_where_the_geometry_says(
        letters: dict[tuple[str, str], bytes], language: str) -> None:
    """Large, bold, monospaced, letter-spaced, alone on its line: parsers.credential_ocr reads it back from a fax."""
    g = FORM_GEOMETRY
    with pdfplumber.open(io.BytesIO(letters["fax", language])) as doc:
        chars = [c for c in doc.pages[0].chars if c["text"].strip()]
    box = g.temp_id
    glyphs = [c for c in chars if box.x - 0.5 <= c["x0"] / MM < box.right and box.y <= c["top"] / MM < box.bottom]
    assert "".join(c["text"] for c in glyphs) == ID
    assert all(c["fontname"].endswith("DejaVu-Sans-Mono-Bold") for c in glyphs)
    assert all(c["size"] / MM == pytest.approx(g.credentials_font, abs=0.05) for c in glyphs)
    assert g.credentials_cap >= 7.0  # capitals 7 mm tall: 28 scan lines even at 100 dpi
    assert glyphs[0]["x0"] / MM == pytest.approx(box.x, abs=0.1)
    steps = [(b["x0"] - a["x0"]) / MM for a, b in zip(glyphs, glyphs[1:], strict=False)]
    pitch = g.credentials_pitch
    assert steps == pytest.approx([pitch] * 3 + [2 * pitch] + [pitch] * 3, abs=0.05)  # 4 + blank + 4
    assert pitch - 0.602 * g.credentials_font >= 1.0  # 1 mm between letters: "WW" stays two glyphs when faxed
    # Nothing else within 2 mm above and below its capitals, or 10 mm to its right.
    middle = box.y + box.height / 2
    zone = Box(box.x, middle - g.credentials_cap / 2 - 2, glyphs[-1]["x1"] / MM + 10 - box.x, g.credentials_cap + 4)
    others = [c for c in chars if c not in glyphs
              and not _apart(zone, Box(c["x0"] / MM, c["top"] / MM, (c["x1"] - c["x0"]) / MM,
                                       (c["bottom"] - c["top"]) / MM), 0.0, 0.0)]
    assert not others, [c["text"] for c in others]
    assert g.credentials.x < box.x and box.right < g.temp_password.x and box.bottom < g.credentials.bottom


def test_the_fax_letter_names_both_companies_and_people_and_carries_the_comment(
        letters: dict[tuple[str, str], bytes]) -> None:
    text = read(letters["fax", "ja"])[0].text.replace(" ", "")
    for expected in ("株式会社インフォ物産", "山田太郎様", "株式会社インフォ商会", "鈴木二郎", "請求書の電子化のため",
                     "invite@torii.example", "03-1234-5679", "済", "非", "未", "自社の担当者"):
        assert expected in text


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_qr_code_decodes_to_the_reference_where_the_geometry_says(
        letters: dict[tuple[str, str], bytes], language: str) -> None:
    image = rasterize(letters["fax", language], 0)
    codes = zxingcpp.read_barcodes(image)
    assert [code.text for code in codes] == [reference_for(1001, SECRET)]
    assert parse_reference(codes[0].text, SECRET) == 1001
    px = 25.4 / DPI
    corners = codes[0].position
    qr = FORM_GEOMETRY.qr
    assert corners.top_left.x * px == pytest.approx(qr.x, abs=0.5)
    assert corners.top_left.y * px == pytest.approx(qr.y, abs=0.5)
    assert corners.bottom_right.x * px == pytest.approx(qr.right, abs=0.5)
    assert corners.bottom_right.y * px == pytest.approx(qr.bottom, abs=0.5)


def test_the_reference_is_printed_in_clear_in_its_box(letters: dict[tuple[str, str], bytes]) -> None:
    page = read(letters["fax", "ja"])[0]
    reference = reference_for(1001, SECRET)
    (word,) = [w for w in page.words if w["text"] == reference]
    box = FORM_GEOMETRY.reference
    assert box.x <= word["x0"] / MM and word["x1"] / MM <= box.right
    assert box.y <= word["top"] / MM and word["bottom"] / MM <= box.bottom
    assert word["bottom"] - word["top"] == pytest.approx(FORM_GEOMETRY.reference_font * MM, rel=0.25)


def _drawn(page: Page, box: Box) -> bool:
    return any(all(abs(a - b) < 0.05 for a, b in zip(rect, (box.x, box.y, box.right, box.bottom), strict=True))
               for rect in page.rects)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_form_geometry_is_what_the_pdf_draws(letters: dict[tuple[str, str], bytes], language: str) -> None:
    page = read(letters["fax", language])[0]
    g = FORM_GEOMETRY
    for mark in g.marks:
        assert _drawn(page, mark), mark
        assert mark.width == mark.height == 5.0
    for box in (g.approve, g.reject, g.hold, g.contact, g.credentials):
        assert _drawn(page, box), box
    assert g.approve.width == g.approve.height == g.reject.width == g.hold.width
    # clockwise from the top-left, at the corners of the form's frame
    assert [m.center for m in g.marks] == [(17.5, 136.5), (192.5, 136.5), (192.5, 243.5), (17.5, 243.5)]
    assert g.marks_rect == Box(17.5, 136.5, 175.0, 107.0)
    assert (g.marks[0].x, g.marks[0].y, g.marks[2].right, g.marks[2].bottom) == (
        g.frame.x, g.frame.y, g.frame.right, g.frame.bottom)


def _apart(a: Box, b: Box, dx: float, dy: float) -> bool:
    return a.right + dx <= b.x or b.right + dx <= a.x or a.bottom + dy <= b.y or b.bottom + dy <= a.y


def test_what_the_reader_reads_stays_clear_of_other_print() -> None:
    g = FORM_GEOMETRY
    quiet = Box(g.qr.x - g.qr_quiet_zone, g.qr.y - g.qr_quiet_zone,
                g.qr.width + 2 * g.qr_quiet_zone, g.qr.height + 2 * g.qr_quiet_zone)
    answers = [(g.choices[k], g.choice_labels[k]) for k in ("approve", "reject", "hold")]
    units = [Box(box.x, box.y, label.right - box.x, max(box.bottom, label.bottom) - box.y) for box, label in answers]
    others = [g.heading, g.contact, g.contact_label, quiet, g.reference, g.credentials, *g.marks]
    for unit in units:
        for other in others + [u for u in units if u is not unit]:
            assert _apart(unit, other, 12.0, 6.0), (unit, other)
    for thing in (g.contact, g.contact_label, g.reference, g.heading, *g.marks, *g.choices.values()):
        assert _apart(thing, quiet, 0.0, 0.0)
    for mark in g.marks:  # nothing touches a registration mark
        for thing in (g.heading, g.contact, g.contact_label, g.reference, quiet, g.credentials, *g.choices.values()):
            assert _apart(mark, thing, 2.0, 2.0)


def test_the_answer_boxes_are_empty_for_the_partners_mark(letters: dict[tuple[str, str], bytes]) -> None:
    image = rasterize(letters["fax", "ja"], 0)
    inset = FORM_GEOMETRY.box_line + 0.5
    for box in FORM_GEOMETRY.choices.values():
        k = DPI / 25.4
        inside = image.crop((round((box.x + inset) * k), round((box.y + inset) * k),
                             round((box.right - inset) * k), round((box.bottom - inset) * k)))
        darkest, _ = inside.getextrema()
        assert isinstance(darkest, int) and darkest > 200  # nothing dark printed inside


@pytest.mark.parametrize("language", ["ja", "en"])
def test_fonts_are_local_and_embedded(letters: dict[tuple[str, str], bytes], language: str) -> None:
    for layout in ("fax", "postcard"):
        pdf = letters[layout, language]
        fonts = set().union(*(page.fonts for page in read(pdf)))
        assert any(f.endswith("+IPAexGothic") for f in fonts), fonts  # subset prefix: embedded
        assert any(f.endswith("+DejaVu-Sans-Mono-Bold") for f in fonts), fonts
        assert all("+" in f for f in fonts), fonts
        assert b"/FontFile2" in pdf or b"/FontFile3" in pdf or b"/ObjStm" in pdf


def test_letters_are_small(letters: dict[tuple[str, str], bytes]) -> None:
    for key, pdf in letters.items():
        assert len(pdf) < 60_000, key


# --- the postcard ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_postcard_is_two_pages_of_100_by_148_mm(letters: dict[tuple[str, str], bytes], language: str) -> None:
    pages = read(letters["postcard", language])
    assert len(pages) == 2
    for page in pages:
        assert page.width_mm == pytest.approx(100, abs=0.1)
        assert page.height_mm == pytest.approx(148, abs=0.1)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_postcard_prints_the_credentials_at_the_bottom_of_the_back_only(
        letters: dict[tuple[str, str], bytes], language: str) -> None:
    front, back = read(letters["postcard", language])
    assert "株式会社インフォ物産" in front.text and "山田 太郎" in front.text
    assert "KP4M" not in front.text and "HN9W" not in front.text
    panel = POSTCARD_GEOMETRY.credentials
    for first, second in ((ID[:4], ID[4:]), (PASSWORD[:4], PASSWORD[4:])):
        word = line_of(back, first, second)
        assert word["top"] / MM > 0.7 * back.height_mm
        assert panel.y < word["top"] / MM and word["bottom"] / MM < panel.bottom


def test_the_postcard_carries_no_reply_form(letters: dict[tuple[str, str], bytes]) -> None:
    pdf = letters["postcard", "ja"]
    assert zxingcpp.read_barcodes(rasterize(pdf, 1)) == []
    assert "invite@torii.example" in read(pdf)[1].text


# --- safety ---------------------------------------------------------------------------------


def test_markup_in_the_comment_is_printed_as_text_and_never_fetched(web_server: tuple[str, list[str]]) -> None:
    url, requests = web_server
    comment = f'<b>bold</b><img src="{url}/p.png">'  # short enough for the postcard's comment box
    for layout in ("fax", "postcard"):
        pdf = render(layout, "en", comment=comment)
        text = "".join(page.text for page in read(pdf)).replace("\n", "")
        assert '<img src="' in text and "<b>bold</b>" in text
    assert requests == []


def test_the_renderer_fetches_nothing_but_data_urls(web_server: tuple[str, list[str]]) -> None:
    url, requests = web_server
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU"
             "5ErkJggg==")
    html = (f'<link rel="stylesheet" href="{url}/x.css"><style>@import url("{url}/y.css");'
            f'@font-face {{ font-family: X; src: url("{url}/font.ttf"); }} body {{ font-family: X; }}</style>'
            f'<img src="{url}/a.png"><img src="file:///etc/hostname"><img src="{pixel}">')
    pdf = pdf_from_html(html)
    assert requests == []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages[0].images) == 1  # the data: URL, and only it


def test_a_long_comment_is_cut_to_its_box_and_the_page_count_stays() -> None:
    long = "\n".join(f"{n}行目：長いコメントです。" * 3 for n in range(1, 40))
    fax = read(render("fax", "ja", comment=long))
    postcard = read(render("postcard", "ja", comment=long))
    assert len(fax) == 1 and len(postcard) == 2
    assert "…" in fax[0].text and "39行目" not in fax[0].text
    line_of(fax[0], ID[:4], ID[4:])
    line_of(postcard[1], ID[:4], ID[4:])


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("comment", ["\n".join(["い" * 60] * 8), "word " * 200])
def test_the_longest_letter_still_ends_above_the_form(language: str, comment: str) -> None:
    longest = {
        "id": 1234567,
        "issuer_company": "株式会社インフォメーション・テクノロジー・ソリューションズ・ジャパン",
        "issuer_name": "鈴木 二郎太郎左衛門",
        "partner_company": "株式会社インフォ物産ホールディングス・インターナショナル",
        "comment": comment,
    }
    inv = invitation(**longest)
    reference = reference_for(inv.id, SECRET)
    reply = "reply+abcdefghijklmnopqrstuvwx@torii.example.com"
    fax = read(render_letter(inv, ID, PASSWORD, layout="fax", language=language, reference=reference,
                             reply_address=reply, fax_number="03-1234-5679"))[0]
    body = [w for w in fax.words if w["top"] / MM < FORM_GEOMETRY.frame.y]
    assert max(w["bottom"] for w in body) / MM < FORM_GEOMETRY.frame.y - 2
    assert "非承認通知" in fax.text.replace(" ", "") or "notice" in fax.text
    (printed,) = [w for w in fax.words if w["text"] == reference]  # the reference still fits its box
    assert FORM_GEOMETRY.reference.x <= printed["x0"] / MM and printed["x1"] / MM <= FORM_GEOMETRY.reference.right
    postcard = read(render_letter(inv, ID, PASSWORD, layout="postcard", language=language, reference=reference,
                                  reply_address=reply))
    assert len(postcard) == 2
    back = [w for w in postcard[1].words if w["top"] / MM < POSTCARD_GEOMETRY.credentials.y]
    assert max(w["bottom"] for w in back) / MM < POSTCARD_GEOMETRY.credentials.y - 1


def test_a_letter_for_an_issuer_without_approval_has_no_reply_form() -> None:
    page = read(render("fax", "ja", approval_required=False))[0]
    assert "ご回答は不要です" in page.text
    assert not _drawn(page, FORM_GEOMETRY.marks[0])
    line_of(page, ID[:4], ID[4:])


@pytest.mark.parametrize(
    ("temp_id", "temp_password", "layout", "reference"),
    [
        ("KP4M7RT0", PASSWORD, "fax", "TORII-INV-1-AAAAAA"),  # 0 is not in the alphabet
        (ID, "HN9WE3A", "fax", "TORII-INV-1-AAAAAA"),
        (ID, PASSWORD, "letter", "TORII-INV-1-AAAAAA"),
        (ID, PASSWORD, "fax", "<script>"),
    ],
)
def test_bad_arguments_are_refused(temp_id: str, temp_password: str, layout: str, reference: str) -> None:
    with pytest.raises(ValueError):
        render_letter(invitation(), temp_id, temp_password, layout=layout, reference=reference)  # type: ignore[arg-type]


def test_credentials_are_printed_as_normalized() -> None:
    pdf = render_letter(invitation(), "kp4m-7rtx", "ｈｎ９ｗ　ｅ３ａｃ", layout="postcard",
                        reference="TORII-INV-1-AAAAAA")
    back = read(pdf)[1]
    line_of(back, "KP4M", "7RTX")
    line_of(back, "HN9W", "E3AC")


# --- the reader of faxed-back pages ---------------------------------------------------------


def test_the_faxback_reader_reads_an_answer_ticked_on_a_faxed_letter(letters: dict[tuple[str, str], bytes]) -> None:
    """The letter and parsers.faxform agree: a ticked, faxed, skewed page reads back."""
    faxform = pytest.importorskip("parsers.faxform.reader")
    faxsim = pytest.importorskip("samples.faxsim")
    from workflows.letters import faxback_geometry

    geometry = faxback_geometry()
    page = faxsim.rasterize(letters["fax", "ja"], 200)

    def check(text: str) -> bool:
        return parse_reference(text, SECRET) is not None

    blank = faxform.read_faxback(page, geometry, reference_check=check, read_contact=False)
    assert blank.reference == reference_for(1001, SECRET) and blank.answer is None
    rng = random.Random(3)
    cases = (("approve", "tick", False), ("reject", "cross", True), ("hold", "circle", False))
    for answer, style, upside_down in cases:
        marked = faxsim.mark(page, geometry, answer, style, rng)
        fax = faxsim.degrade(marked, resolution="normal", skew_deg=1.5, noise=0.5, upside_down=upside_down, rng=rng)
        reading = faxform.read_faxback(fax, geometry, reference_check=check, read_contact=False)
        assert reading.answer is not None and reading.answer.value == answer, reading.reasons
        assert parse_reference(reading.reference or "", SECRET) == 1001
        assert not any("marks not found" in reason for reason in reading.reasons), reading.reasons
