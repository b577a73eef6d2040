"""The fax simulator: letters with a fax-back form, filled in by hand, sent back by fax.

The project's own tool for samples, tests and benchmarks of ``parsers.faxform``:

    page = render_form(FAXBACK_FORM, "TORII-INV-123-AB12")      # or rasterize(letter_pdf)
    page = mark(page, FAXBACK_FORM, "approve", "tick", rng)      # the partner ticks a box
    page = write_name(page, FAXBACK_FORM, "山田 太郎", rng)        # and writes a name
    fax = degrade(page, resolution="normal", skew_deg=2.0, noise=0.5, upside_down=False, rng=rng)
    pdf = to_pdf([fax])                                          # what the fax-to-email gateway attaches

    page = rasterize(order_sheet_pdf, page=0)                   # an order sheet, filled by a supplier:
    page = mark(page, geometry, "partial", "tick", rng)          # a box of order_form_geometry()
    page = write_field(page, geometry, "quantity_03", "2.5", rng)  # a quantity on the 3rd line
    page = write_field(page, geometry, "delivery_date", "11/25", rng)

    page = rasterize(buyer_form_pdf, page=1)                    # a buyer's order form (buyer_form_geometry()):
    page = write_field(page, geometry, "quantity_07", "12", rng)  # the same fields, row 7 of page 2
    page = scrawl(page, geometry, "quantity_08", rng)             # something nobody can read

Writing (``write_field``, ``write``) is set in a handwriting-like font when one is
installed (Klee One, Debian's ``fonts-klee``), else in IPAex Gothic, each character
a little bigger or smaller, turned, sheared, off the baseline and unevenly spaced.

Pages are grayscale (mode "L") with their resolution in ``image.info["dpi"]``;
``degrade`` returns what a fax machine transmits: 1 bit per pixel at 200×200 dpi
(fine) or 200×100 dpi (normal: every other scan line), the pixels kept as sent, not
square. ``to_pdf`` and ``to_tiff`` write them the way fax-to-email gateways deliver
them: each page an image with its real x and y resolution (so a PDF page is A4 and
the image is stretched onto it), 1-bit CCITT Group 4 in both. The PDF is written by
Pillow (which embeds 1-bit images as CCITT G4 with ``dpi=(x, y)``): no other tool.

Everything random comes from the ``random.Random`` passed in: same seed, same page.
"""

from __future__ import annotations

import io
import math
import os
import random
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pypdfium2 as pdfium
import segno
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from parsers.faxform.geometry import FormGeometry, Rect

__all__ = ["FONT", "HANDWRITING_FONTS", "handwriting_font", "render_form", "rasterize", "mark", "write_name", "write",
           "write_field", "scrawl", "deface", "degrade", "to_pdf", "to_tiff"]

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
# Handwriting-like fonts with digits, 月 and 日, the first installed wins (Klee One: fonts-klee).
HANDWRITING_FONTS = ("/usr/share/fonts/truetype/klee/KleeOne-SemiBold.ttf",
                     "/usr/share/fonts/truetype/klee/KleeOne-Regular.ttf")
MM_PER_INCH = 25.4

Style = Literal["tick", "cross", "fill", "circle"]
Resolution = Literal["fine", "normal"]

LETTER_LINES = (
    "株式会社インフォ物産　御中",
    "",
    "拝啓　時下ますますご清祥のこととお慶び申し上げます。",
    "このたび、株式会社インフォ商会より BtoB プラットフォームへのご招待をお送りいたします。",
    "■ ご招待の内容：請求書の受け取り（電子化）",
    "■ ご回答方法：下の欄の「済」「非」「未」のいずれかに印をつけ、このページをそのまま FAX でご返送ください。",
    "■ お問い合わせ：03-1234-5678（平日 9:00〜17:00）",
    "",
    "仮ID：AB12CD34　　仮パスワード：ZX98YU76",
    "",
    "敬具",
)


def _font(size_px: float, path: str = FONT) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, round(size_px)))


def handwriting_font() -> str:
    """The font ``write`` uses: the first of ``HANDWRITING_FONTS`` installed, else IPAex Gothic."""
    return next((path for path in HANDWRITING_FONTS if os.path.exists(path)), FONT)


def _scale(image: Image.Image, geometry: FormGeometry) -> tuple[float, float]:
    """Pixels per millimetre of a page image in x and y (the page fills the image)."""
    return image.width / geometry.page_size[0], image.height / geometry.page_size[1]


def _px(rect: Rect, sx: float, sy: float) -> tuple[float, float, float, float]:
    return (rect.x * sx, rect.y * sy, rect.right * sx, rect.bottom * sy)


def render_form(geometry: FormGeometry, reference: str, *, dpi: int = 200, letter: bool = True,
                qr_error: str = "q") -> Image.Image:
    """The letter page with the fax-back form drawn at ``geometry``, as the printer would print it.

    Stands in for the real letter (``workflows/letters.py``) in tests: same geometry,
    drawn with PIL: marks, box outlines and labels in IPAex Gothic, the contact field,
    the QR code (segno, error correction ``qr_error``) and the reference in clear.
    """
    s = dpi / MM_PER_INCH
    width, height = (round(v * s) for v in geometry.page_size)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    line = max(1, round(geometry.box_line * s))

    if letter:
        body = _font(3.7 * s)
        for i, text in enumerate(LETTER_LINES):
            draw.text((25 * s, (40 + i * 8) * s), text, font=body, fill=0)
        draw.text((25 * s, 20 * s), "ご招待のお知らせ", font=_font(6 * s), fill=0)

    for i in range(4):
        draw.rectangle(_px(geometry.mark_rect(i), s, s), fill=0)
    draw.text((geometry.heading.x * s, geometry.heading.y * s),
              "FAX返信欄：該当する□に✓をつけ、ご担当者名をご記入のうえ、このページをご返送ください。",
              font=_font(3.2 * s), fill=0)
    label_font = _font(5.0 * s)
    for box in geometry.boxes:
        draw.rectangle(_px(box.box, s, s), outline=0, width=line)
        draw.text((box.label.x * s, (box.label.y + box.label.h / 2) * s), box.label_text, font=label_font,
                  fill=0, anchor="lm")
    if geometry.contact_label is not None:
        draw.text((geometry.contact_label.x * s, (geometry.contact_label.y + geometry.contact_label.h / 2) * s),
                  "自社の担当者", font=_font(4.2 * s), fill=0, anchor="lm")
    for rect in [geometry.contact] + [f.rect for f in geometry.fields]:
        if rect is not None:
            draw.rectangle(_px(rect, s, s), outline=0, width=line)

    qr = segno.make(reference, error=qr_error, micro=False)
    modules = qr.symbol_size(border=0)[0]
    module = geometry.qr.w * s / modules
    for r, row in enumerate(qr.matrix_iter(border=0)):
        for c, dark in enumerate(row):
            if dark:
                x0, y0 = geometry.qr.x * s + c * module, geometry.qr.y * s + r * module
                draw.rectangle((round(x0), round(y0), round(x0 + module) - 1, round(y0 + module) - 1), fill=0)
    ref = geometry.reference_text
    draw.text(((ref.x + ref.w / 2) * s, (ref.y + ref.h / 2) * s), reference, font=_font(4.2 * s), fill=0,
              anchor="mm")
    draw.text((25 * s, 262 * s), "FAX 03-1234-5679　株式会社インフォ商会 宛", font=_font(3.5 * s), fill=0)
    page.info["dpi"] = (dpi, dpi)
    return page


def rasterize(source: bytes | Image.Image, dpi: int = 200, *, page: int = 0) -> Image.Image:
    """A page as a grayscale image at ``dpi``: a PDF's page rendered by pypdfium2, or an image resampled."""
    if isinstance(source, Image.Image):
        image = source.convert("L")
        xdpi, ydpi = (float(v) for v in source.info.get("dpi", (dpi, dpi)))
        size = (round(image.width * dpi / xdpi), round(image.height * dpi / ydpi))
        if size != image.size:
            image = image.resize(size, Image.Resampling.LANCZOS)
    else:
        doc = pdfium.PdfDocument(source)
        try:
            image = doc[page].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        finally:
            doc.close()
    image.info["dpi"] = (dpi, dpi)
    return image


def _stroke(draw: ImageDraw.ImageDraw, points: Sequence[tuple[float, float]], width: float, ink: int,
            rng: random.Random) -> None:
    """A pen stroke through ``points``: round joints, width wandering ±30 % along the way."""
    w = width
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        w = max(1.0, min(width * 1.3, max(width * 0.7, w + rng.uniform(-0.15, 0.15) * width)))
        draw.line((x0, y0, x1, y1), fill=ink, width=round(w))
        r = w / 2
        draw.ellipse((x1 - r, y1 - r, x1 + r, y1 + r), fill=ink)


def _path(points: Sequence[tuple[float, float]], steps: int, wobble: float,
          rng: random.Random) -> list[tuple[float, float]]:
    """A hand-drawn path through ``points``: a smooth curve, then a slow wobble and a tremor."""
    out: list[tuple[float, float]] = []
    phase, freq = rng.uniform(0, math.tau), rng.uniform(1.0, 2.5)
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for i in range(steps):
            t = i / steps
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
    out.append(points[-1])
    n = len(out)
    return [(x + wobble * math.sin(phase + freq * math.tau * i / n) + rng.gauss(0, wobble * 0.15),
             y + wobble * math.cos(phase + 0.7 * freq * math.tau * i / n) + rng.gauss(0, wobble * 0.15))
            for i, (x, y) in enumerate(out)]


def mark(image: Image.Image, geometry: FormGeometry, box: str, style: Style | str, rng: random.Random, *,
         offset_mm: float = 1.0) -> Image.Image:
    """A copy of the page with a hand-drawn mark on the ``box`` ("approve", "reject", "hold").

    tick ✓ and cross × (may overshoot the box), fill (the box scribbled over), circle
    (around the box and its label, or around the box alone; it may cut a corner).
    The pen is 0.35–0.9 mm wide and dark but not black; the hand is up to ``offset_mm`` off.
    """
    page = image.convert("L").copy()
    page.info = dict(image.info)
    sx, sy = _scale(page, geometry)
    s = (sx + sy) / 2
    target = geometry.box_for(box)
    x0, y0, x1, y1 = _px(target.box, sx, sy)
    w, h = x1 - x0, y1 - y0
    cx = (x0 + x1) / 2 + rng.uniform(-offset_mm, offset_mm) * s
    cy = (y0 + y1) / 2 + rng.uniform(-offset_mm, offset_mm) * s
    pen = rng.uniform(0.35, 0.9) * s
    ink = rng.randint(0, 70)
    draw = ImageDraw.Draw(page)
    k = rng.uniform(0.8, 1.3)  # how big the hand writes
    if style == "tick":
        a = (cx - 0.35 * w * k, cy + rng.uniform(-0.1, 0.1) * h)
        b = (cx - 0.08 * w * k, cy + 0.35 * h * k)
        c = (cx + rng.uniform(0.35, 0.75) * w * k, cy - rng.uniform(0.45, 0.9) * h * k)
        _stroke(draw, _path([a, b, c], 12, 0.25 * s, rng), pen, ink, rng)
    elif style == "cross":
        d = rng.uniform(-0.05, 0.25) * k
        diagonals = (((-0.5 - d, -0.5 - d), (0.5 + d, 0.5 + d)), ((0.5 + d, -0.5 - d), (-0.5 - d, 0.5 + d)))
        for (ax, ay), (bx, by) in diagonals:
            pa = (cx + ax * w + rng.uniform(-0.8, 0.8) * s, cy + ay * h + rng.uniform(-0.8, 0.8) * s)
            pb = (cx + bx * w + rng.uniform(-0.8, 0.8) * s, cy + by * h + rng.uniform(-0.8, 0.8) * s)
            _stroke(draw, _path([pa, pb], 14, 0.2 * s, rng), pen, ink, rng)
    elif style == "fill":
        inset = rng.uniform(-0.5, 1.0) * s
        corners = [(x0 + inset, y0 + inset), (x1 - inset, y0 + inset), (x1 - inset, y1 - inset),
                   (x0 + inset, y1 - inset)]
        polygon = [(x + rng.uniform(-0.6, 0.6) * s, y + rng.uniform(-0.6, 0.6) * s) for x, y in corners]
        draw.polygon(polygon, fill=ink)
        lines, y = [], y0 + inset  # zigzag scribble over it, overshooting a little
        while y < y1 - inset:
            lines += [(x0 + rng.uniform(-1.0, 1.0) * s, y),
                      (x1 + rng.uniform(-1.0, 1.0) * s, y + rng.uniform(0.5, 1.5) * s)]
            y += rng.uniform(0.8, 1.6) * s
        if len(lines) >= 2:
            _stroke(draw, _path(lines, 3, 0.15 * s, rng), pen, ink, rng)
    elif style == "circle":
        if rng.random() < 0.7:  # around box and label
            lx0, ly0, lx1, ly1 = _px(target.box.union(target.label), sx, sy)
            rx = (lx1 - lx0) / 2 + rng.uniform(3, 7) * s
            ry = (ly1 - ly0) / 2 + rng.uniform(2.5, 5) * s
            ccx, ccy = (lx0 + lx1) / 2 + rng.uniform(-1.5, 1.5) * s, (ly0 + ly1) / 2 + rng.uniform(-1, 1) * s
        else:  # around the box alone
            rx = ry = w / 2 * math.sqrt(2) + rng.uniform(1.0, 3.0) * s
            ccx, ccy = cx, cy
        start = rng.uniform(0, math.tau)
        sweep = rng.uniform(1.0, 1.12) * math.tau
        squash = rng.uniform(-0.08, 0.08)
        n = 90
        points = []
        for i in range(n + 1):
            t = start + sweep * i / n
            grow = 1 + squash * math.sin(2 * t) + 0.06 * i / n
            points.append((ccx + rx * grow * math.cos(t), ccy + ry * grow * math.sin(t)))
        _stroke(draw, _path(points, 1, 0.3 * s, rng), pen, ink, rng)
    else:
        raise ValueError(f"unknown mark style {style!r}")
    return page


def write_name(image: Image.Image, geometry: FormGeometry, text: str, rng: random.Random) -> Image.Image:
    """A copy of the page with ``text`` written into the contact field, handwriting-ish.

    IPAex Gothic, each character on its own: a little bigger or smaller, turned by a
    few degrees, off the baseline, unevenly spaced, with a wandering pen weight.
    """
    page = image.convert("L").copy()
    page.info = dict(image.info)
    sx, sy = _scale(page, geometry)
    s = (sx + sy) / 2
    field = geometry.contact
    if field is None:
        raise ValueError("this form has no contact field")
    size = field.h * rng.uniform(0.5, 0.62) * s
    x = field.x * sx + rng.uniform(3, 8) * s
    baseline = (field.y + field.h / 2) * sy + rng.uniform(-1, 1) * s
    ink = rng.randint(0, 60)
    for ch in text:
        if ch.isspace():
            x += size * rng.uniform(0.4, 0.7)
            continue
        csize = size * rng.uniform(0.9, 1.1)
        font = _font(csize)
        pad = round(csize * 0.4)
        glyph = Image.new("L", (round(csize) + 2 * pad, round(csize) + 2 * pad), 0)
        ImageDraw.Draw(glyph).text((pad, pad), ch, font=font, fill=255, stroke_width=rng.choice([0, 0, 1]),
                                   stroke_fill=255)
        glyph = glyph.rotate(rng.uniform(-7, 7), resample=Image.Resampling.BICUBIC)
        glyph = glyph.transform(glyph.size, Image.Transform.AFFINE,
                                (1, rng.uniform(-0.12, 0.12), 0, 0, 1, 0), resample=Image.Resampling.BICUBIC)
        top = round(baseline - csize / 2 - pad + rng.uniform(-0.6, 0.6) * s)
        page.paste(ink, (round(x) - pad, top), glyph)
        x += csize * rng.uniform(0.95, 1.15)
    return page


def write(image: Image.Image, geometry: FormGeometry, rect: Rect, text: str, rng: random.Random, *,
          font: str | None = None) -> Image.Image:
    """A copy of the page with ``text`` handwritten in ``rect`` (mm), as a person fills a field.

    In ``font`` (default ``handwriting_font()``): characters 60–85 % of the field's
    height, each a little bigger or smaller (±8 %), turned (±6°), sheared, off the
    baseline, spaced unevenly but never touching; the text starts near the left,
    the middle or the right of the field, wherever it fits; the pen is dark, not black,
    and wider than the font's strokes (a ballpoint; a felt pen for big writing).
    """
    page = image.convert("L").copy()
    page.info = dict(image.info)
    sx, sy = _scale(page, geometry)
    s = (sx + sy) / 2
    path = font or handwriting_font()
    inner_w, inner_h = (rect.w - 2 * geometry.box_line) * sx, (rect.h - 2 * geometry.box_line) * sy
    size = min(inner_h * rng.uniform(0.6, 0.85), 10 * s)
    glyphs = []
    for ch in text:
        csize = size * rng.uniform(0.92, 1.08)
        font_ = _font(csize, path)
        left, top, right, bottom = font_.getbbox(ch)
        glyphs.append((ch, csize, font_, right - left, left))
    gaps = [size * rng.uniform(0.08, 0.3) for _ in glyphs]
    width = sum(g[3] for g in glyphs) + sum(gaps[:-1])
    while width > inner_w * 0.92 and size > 4:  # too long for the field: the hand writes smaller
        glyphs = [(ch, cs * 0.9, _font(cs * 0.9, path), w * 0.9, off * 0.9) for ch, cs, _, w, off in glyphs]
        gaps = [g * 0.9 for g in gaps]
        size *= 0.9
        width = sum(g[3] for g in glyphs) + sum(gaps[:-1])
    room = max(0.0, inner_w - width)
    x = (rect.x + geometry.box_line) * sx + room * rng.choice((rng.uniform(0.05, 0.2), 0.5, rng.uniform(0.6, 0.9)))
    # the digits' height centred in the field, give or take a little
    digit_h = -_font(size, path).getbbox("0", anchor="ls")[1]
    baseline = (rect.y + rect.h / 2) * sy + digit_h / 2 + rng.uniform(-0.1, 0.1) * max(0.0, inner_h - digit_h)
    ink = rng.randint(0, 60)
    slant = rng.uniform(-0.15, 0.1)
    # a ballpoint (0.4-0.5 mm), or a felt pen for writing big enough not to close up a 5 or a 6
    pen = max(1, round((0.12 if size > 3.5 * s and rng.random() < 0.3 else 0.06) * s))
    for (ch, csize, font_, w, off), gap in zip(glyphs, gaps, strict=True):
        pad = round(csize * 0.5)
        rise = round(csize * 1.1)  # room above the baseline in the glyph's canvas
        glyph = Image.new("L", (round(csize * 1.2) + 2 * pad, rise + round(csize * 0.4) + 2 * pad), 0)
        ImageDraw.Draw(glyph).text((pad - off, pad + rise), ch, font=font_, fill=255, anchor="ls", stroke_width=pen,
                                   stroke_fill=255)
        glyph = glyph.rotate(rng.uniform(-6, 6), resample=Image.Resampling.BICUBIC)
        glyph = glyph.transform(glyph.size, Image.Transform.AFFINE, (1, slant + rng.uniform(-0.05, 0.05), 0, 0, 1, 0),
                                resample=Image.Resampling.BICUBIC)
        top = round(baseline - pad - rise + rng.uniform(-0.03, 0.03) * inner_h)
        page.paste(ink, (round(x) - pad, top), glyph)
        x += w + gap
    return page


def write_field(image: Image.Image, geometry: FormGeometry, name: str, text: str, rng: random.Random, *,
                font: str | None = None) -> Image.Image:
    """A copy of the page with ``text`` handwritten in the field ``name`` of ``geometry`` (see ``write``)."""
    return write(image, geometry, geometry.field_for(name).rect, text, rng, font=font)


def scrawl(image: Image.Image, geometry: FormGeometry, name: str, rng: random.Random) -> Image.Image:
    """A copy of the page with a scrawl in the field ``name``: loops and zigzags that are no character.

    What a hurried hand leaves when it writes over its own writing, or crosses out:
    one pen stroke wandering across most of the field, inside its outline.
    """
    page = image.convert("L").copy()
    page.info = dict(image.info)
    sx, sy = _scale(page, geometry)
    s = (sx + sy) / 2
    rect = geometry.field_for(name).rect.expanded(-(geometry.box_line + 1.0))
    x0, y0, x1, y1 = _px(rect, sx, sy)
    width = (x1 - x0) * rng.uniform(0.5, 0.8)
    left = x0 + rng.uniform(0, (x1 - x0) - width)
    turns = rng.randint(5, 8)
    points = [(left + width * i / turns + rng.uniform(-0.1, 0.1) * width / turns,
               y0 + (y1 - y0) * (rng.uniform(0.05, 0.35) if i % 2 else rng.uniform(0.65, 0.95)))
              for i in range(turns + 1)]
    points += [(x - width * rng.uniform(0.3, 0.6), y0 + (y1 - y0) * rng.uniform(0.2, 0.8)) for x, _ in points[-2:]]
    _stroke(ImageDraw.Draw(page), _path(points, 8, 0.3 * s, rng), rng.uniform(0.35, 0.6) * s, rng.randint(0, 60), rng)
    return page


def deface(image: Image.Image, geometry: FormGeometry, what: Literal["qr", "reference_text"],
           rng: random.Random) -> Image.Image:
    """A copy of the page with the QR code (or the clear-text reference) scribbled over and torn."""
    page = image.convert("L").copy()
    page.info = dict(image.info)
    sx, sy = _scale(page, geometry)
    rect = geometry.qr if what == "qr" else geometry.reference_text
    x0, y0, x1, y1 = _px(rect, sx, sy)
    draw = ImageDraw.Draw(page)
    # a white patch over a finder pattern, then black scribbles over the rest
    draw.rectangle((x0, y0, x0 + (x1 - x0) * 0.45, y0 + (y1 - y0) * 0.45), fill=255)
    for _ in range(6):
        a = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        b = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        draw.line((*a, *b), fill=0, width=round(1.5 * sx))
    return page


def degrade(image: Image.Image, *, resolution: Resolution, skew_deg: float, noise: float, upside_down: bool,
            rng: random.Random, shift_mm: float = 2.0) -> Image.Image:
    """The page as a fax machine sends it: 1 bit per pixel, 200 dpi across, 200 or 100 dpi down.

    The sheet goes through the feeder a little shifted (up to ``shift_mm``) and
    turned by ``skew_deg`` (counter-clockwise), or upside down; the scanner blurs
    and thresholds it with a jittery threshold (ragged edges); in normal resolution
    only every other line is kept (each sent line the average of two). ``noise``
    (0..1) sprinkles dust specks, dropouts and toner spots, and sometimes draws a thin streak across
    (a garbled line) or down the page (dirt on the scanner glass).
    """
    dpi = 200
    page = rasterize(image, dpi)
    w, h = page.size
    dx, dy = (rng.uniform(-shift_mm, shift_mm) * dpi / MM_PER_INCH for _ in range(2))
    angle = skew_deg + (180.0 if upside_down else 0.0)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, translate=(round(dx), round(dy)), fillcolor=255)
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.8)))
    if resolution == "normal":
        page = page.resize((w, h // 2), Image.Resampling.BOX)
        ydpi = dpi // 2
    else:
        ydpi = dpi
    gen = np.random.default_rng(rng.getrandbits(64))
    gray = np.asarray(page, dtype=np.float32) + gen.normal(0, 14, (page.height, page.width))
    ink = gray < rng.uniform(135, 175)
    bh, bw = ink.shape
    if noise > 0:
        for _ in range(int(noise * bw * bh * 0.0008)):  # dust: black specks of 1 to 3 pixels
            x, y, r = rng.randrange(bw), rng.randrange(bh), rng.choice((1, 1, 1, 2, 2, 3))
            ink[y:y + r, x:x + r] = True
        for _ in range(int(noise * bw * bh * 0.0004)):  # dropouts
            x, y = rng.randrange(bw), rng.randrange(bh)
            ink[y, x:x + rng.choice((1, 2))] = False
        for _ in range(int(noise * 6)):  # toner spots and blots, 0.4 to 1.6 mm across
            x, y = rng.randrange(bw), rng.randrange(bh)
            rx = rng.uniform(0.2, 0.8) * dpi / MM_PER_INCH
            ry = rx * ydpi / dpi
            y0, y1 = max(0, int(y - ry) - 1), min(bh, int(y + ry) + 2)
            x0, x1 = max(0, int(x - rx) - 1), min(bw, int(x + rx) + 2)
            yy, xx = np.ogrid[y0:y1, x0:x1]
            ink[y0:y1, x0:x1] |= ((xx - x) / rx) ** 2 + ((yy - y) / ry) ** 2 <= 1
        if rng.random() < 0.15 * noise:  # a streak along a scan line (a line garbled in transmission)
            y, x0 = rng.randrange(bh), rng.randrange(bw // 2)
            ink[y, x0:x0 + rng.randrange(bw // 4, bw - x0)] = True
        if rng.random() < 0.1 * noise:  # dirt on the scanner glass: a line down the page
            x, y0 = rng.randrange(bw), rng.randrange(bh // 3)
            ink[y0:, x:x + rng.choice((1, 2))] = True
    bits = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).convert("1", dither=Image.Dither.NONE)
    bits.info["dpi"] = (dpi, ydpi)
    return bits


def _dpi(images: Sequence[Image.Image], dpi: float | tuple[float, float] | None) -> tuple[float, float]:
    if dpi is None:
        x, y = images[0].info.get("dpi", (200, 200))
        return float(x), float(y)
    if isinstance(dpi, tuple):
        return float(dpi[0]), float(dpi[1])
    return float(dpi), float(dpi)


def _bilevel(image: Image.Image) -> Image.Image:
    return image if image.mode == "1" else image.convert("L").point(lambda v: 255 if v >= 128 else 0, mode="1")


def to_pdf(images: Sequence[Image.Image], dpi: float | tuple[float, float] | None = None) -> bytes:
    """A PDF as fax-to-email gateways send it: one 1-bit CCITT G4 image per page, sized by its x/y dpi."""
    pages = [_bilevel(im) for im in images]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], dpi=_dpi(images, dpi))
    return out.getvalue()


def to_tiff(images: Sequence[Image.Image], dpi: float | tuple[float, float] | None = None) -> bytes:
    """A multi-page TIFF-F-like file: 1-bit, CCITT Group 4, the x and y resolution as sent."""
    pages = [_bilevel(im) for im in images]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="group4", dpi=_dpi(images, dpi))
    return out.getvalue()
