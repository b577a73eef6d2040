"""Paper invitations (はがき・FAX案内状): a FAX letter or a postcard carrying the temporary ID and password.

Manual 000: a partner without email gets the invitation on paper with a
temporary ID and temporary password (仮ID・仮パスワード, 8 half-width
alphanumerics each), printed at the bottom of the page on a letter and at the
bottom of the back of a postcard. The FAX letter also carries a fax-back reply
form: three boxes 済 (approve) / 非 (reject) / 未 (hold), a field for the
partner's contact person (自社の担当者), and the invitation's reference as a QR
code and in clear, framed by four registration marks. :data:`FORM_GEOMETRY`
says where each of those is, in millimetres from the page's top-left corner;
the template is drawn from the same numbers, so the reader of faxed-back pages
can rely on them.

Letters are rendered from ``templates/letters/`` (autoescaped) by WeasyPrint,
which fetches nothing: its URL fetcher refuses every URL but ``data:``, and the
fonts are local (IPAexGothic, IPAexMincho, DejaVu Sans Mono).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from parsers.credential_text import is_well_formed, normalize_credential
from workflows import clock
from workflows.mail import LANGUAGES, TEMPLATES_DIR
from workflows.references import ReferenceScheme

if TYPE_CHECKING:
    from parsers.credential_ocr.layout import CredentialLayout
    from parsers.faxform.geometry import FormGeometry

__all__ = [
    "FORM_GEOMETRY",
    "POSTCARD_GEOMETRY",
    "Box",
    "FaxFormGeometry",
    "LetterInvitation",
    "LocalOnlyFetcher",
    "PostcardGeometry",
    "credential_layout",
    "faxback_geometry",
    "parse_reference",
    "pdf_from_html",
    "reference_for",
    "render_letter",
]

log = logging.getLogger(__name__)

Layout = Literal["fax", "postcard"]
LAYOUTS: tuple[Layout, ...] = ("fax", "postcard")


class LetterInvitation(Protocol):
    """What a letter needs of an invitation (``workflows.models.Invitation`` has it)."""

    id: int
    issuer_company: str
    issuer_name: str
    partner_company: str
    partner_name: str
    comment: str
    language: str


# --- geometry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle on the page in millimetres: ``x``, ``y`` of its top-left corner from the page's top-left."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2



@dataclass(frozen=True)
class FaxFormGeometry:
    """Where everything on the FAX letter is, in mm from the top-left corner of the A4 portrait page.

    ``marks``           four solid black squares, clockwise from the top-left (top-left,
                        top-right, bottom-right, bottom-left), in the corners of ``frame``;
                        their centres span ``marks_rect``, for finding and de-skewing the
                        form. The QR code tells up from down. Nothing touches them.
    ``frame``           the form's extent, the marks' outer edges. Not drawn: an outline
                        joining the marks would hide them from the reader.
    ``heading``         the form's instruction line, above the answer boxes.
    ``approve``, ``reject``, ``hold``
                        the three answer boxes 済 / 非 / 未: empty squares, their outline
                        ``box_line`` mm wide drawn inside the box (the box is its outer
                        edge); a mark inside is an answer.
    ``approve_label``, ``reject_label``, ``hold_label``
                        each box's label (済 承認する / つながります), right of its box.
                        Nothing else is printed within 12 mm left and right and 6 mm above
                        and below a box and its label: a circle drawn around them is read there.
    ``contact_label``   自社の担当者, left of the contact field.
    ``contact``         where the contact person is handwritten: an outline ``box_line`` mm
                        wide drawn inside the box.
    ``qr``              the QR symbol's dark modules exactly, without its quiet zone;
                        nothing is printed within ``qr_quiet_zone`` mm of it. It encodes
                        the reference (QR alphanumeric mode, error correction Q).
    ``reference``       the reference in clear, one line of capitals, digits and "-",
                        DejaVu Sans Mono at ``reference_font`` mm (smaller if it would not
                        fit: IDs from 1,000,000 on), centred in the box.
    ``credentials``     the temporary ID and password panel at the bottom of the page,
                        outside the form: a frame ``box_line`` mm wide drawn inside the box.
    ``temp_id``, ``temp_password``
                        the two values inside the panel, each one line, grouped 4+4, in
                        DejaVu Sans Mono Bold at ``credentials_font`` mm (capitals
                        ``credentials_cap`` mm tall, centred in the box's height) with
                        ``credentials_spacing`` mm between letters, left-aligned. The
                        temporary ID is read back by OCR when a faxed-back page's code
                        and reference are lost (``parsers.credential_ocr``): nothing else
                        is printed within 2 mm above and below it, or 10 mm to its right.
    """

    page: Box
    frame: Box
    marks: tuple[Box, Box, Box, Box]
    heading: Box
    approve: Box
    approve_label: Box
    reject: Box
    reject_label: Box
    hold: Box
    hold_label: Box
    contact_label: Box
    contact: Box
    qr: Box
    qr_quiet_zone: float
    reference: Box
    reference_font: float
    credentials: Box
    temp_id: Box
    temp_password: Box
    credentials_font: float
    credentials_spacing: float
    box_line: float

    @property
    def credentials_cap(self) -> float:
        """How tall the values' capitals and digits are printed, in mm."""
        return round(self.credentials_font * MONO_CAP_HEIGHT, 2)

    @property
    def credentials_pitch(self) -> float:
        """One character's advance in the values, letter spacing included, in mm."""
        return round(self.credentials_font * MONO_ADVANCE + self.credentials_spacing, 3)

    @property
    def choices(self) -> dict[str, Box]:
        """The answer boxes by the event they stand for."""
        return {"approve": self.approve, "reject": self.reject, "hold": self.hold}

    @property
    def choice_labels(self) -> dict[str, Box]:
        return {"approve": self.approve_label, "reject": self.reject_label, "hold": self.hold_label}

    @property
    def mark_centres(self) -> tuple[tuple[float, float], ...]:
        return tuple(mark.center for mark in self.marks)

    @property
    def marks_rect(self) -> Box:
        """The rectangle through the four marks' centres."""
        (x0, y0), (x1, _), (_, y1), _ = self.mark_centres
        return Box(x0, y0, x1 - x0, y1 - y0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def faxback_geometry() -> FormGeometry:
    """FORM_GEOMETRY as ``parsers.faxform.read_faxback`` takes it (imported here, on demand: it needs OpenCV)."""
    from parsers.faxform.geometry import AnswerBox, FormGeometry, Rect
    from parsers.intent import Intent

    g = FORM_GEOMETRY

    def rect(box: Box) -> Rect:
        return Rect(box.x, box.y, box.width, box.height)

    return FormGeometry(
        page_size=(g.page.width, g.page.height),
        marks=(g.marks[0].center, g.marks[1].center, g.marks[2].center, g.marks[3].center),
        mark_size=g.marks[0].width,
        boxes=(
            AnswerBox(Intent.APPROVE.value, rect(g.approve), rect(g.approve_label), "済 承認"),
            AnswerBox(Intent.REJECT.value, rect(g.reject), rect(g.reject_label), "非 非承認"),
            AnswerBox(Intent.HOLD.value, rect(g.hold), rect(g.hold_label), "未 保留"),
        ),
        contact=rect(g.contact),
        contact_label=rect(g.contact_label),
        qr=rect(g.qr),
        reference_text=rect(g.reference),
        heading=rect(g.heading),
        box_line=g.box_line,
        qr_quiet_zone=g.qr_quiet_zone,
    )


def credential_layout() -> CredentialLayout:
    """Where FORM_GEOMETRY prints the temporary ID, as ``parsers.credential_ocr.reader.read_temp_id`` takes it."""
    from parsers.credential_ocr.layout import CredentialLayout

    g = FORM_GEOMETRY

    def xywh(box: Box) -> tuple[float, float, float, float]:
        return (box.x, box.y, box.width, box.height)

    return CredentialLayout(page_size=(g.page.width, g.page.height), panel=xywh(g.credentials),
                            temp_id=xywh(g.temp_id), cap_height=g.credentials_cap, pitch=g.credentials_pitch)


MARK = 5.0
_FRAME = Box(15.0, 134.0, 180.0, 112.0)
# The answer boxes' side. parsers.faxform measures the ink inside a box as a share of its area,
# tuned on 9 mm boxes: on simulated faxes a thin-pen tick was read 98 % of the time in 10 mm
# boxes, 94 % in 12 mm and 84 % in 14 mm (the rest go to review), so 10 mm it is.
_BOX = 10.0
_LABEL = (26.0, _BOX)


def _answer(x: float, y: float) -> tuple[Box, Box]:
    return Box(x, y, _BOX, _BOX), Box(x + _BOX + 2.0, y, *_LABEL)


_APPROVE, _APPROVE_LABEL = _answer(28.0, 154.0)
_REJECT, _REJECT_LABEL = _answer(84.0, 154.0)
_HOLD, _HOLD_LABEL = _answer(140.0, 154.0)
# The credentials panel, at the bottom of the page (manual 000). Its values are set large, bold and
# letter-spaced: 10 mm type (7.3 mm capitals) with 1 mm between letters keeps even "WW" or "MM"
# apart at 100 dpi, so the temporary ID can be read back by OCR from a faxed-back page. 1 mm stays
# under pdfplumber's and pdftotext's word gap: the PDF's text still reads "KP4M 7RTX".
_CREDENTIALS = Box(15.0, 252.0, 180.0, 34.0)
# DejaVu Sans Mono (Bold): capitals and digits are 0.729 em tall, every character advances 0.602 em.
MONO_CAP_HEIGHT = 0.729
MONO_ADVANCE = 1233 / 2048

FORM_GEOMETRY = FaxFormGeometry(
    page=Box(0.0, 0.0, 210.0, 297.0),
    frame=_FRAME,
    marks=(
        Box(_FRAME.x, _FRAME.y, MARK, MARK),
        Box(_FRAME.right - MARK, _FRAME.y, MARK, MARK),
        Box(_FRAME.right - MARK, _FRAME.bottom - MARK, MARK, MARK),
        Box(_FRAME.x, _FRAME.bottom - MARK, MARK, MARK),
    ),
    heading=Box(28.0, 140.0, 154.0, 7.0),
    approve=_APPROVE,
    approve_label=_APPROVE_LABEL,
    reject=_REJECT,
    reject_label=_REJECT_LABEL,
    hold=_HOLD,
    hold_label=_HOLD_LABEL,
    contact_label=Box(28.0, 185.0, 28.0, 8.0),
    contact=Box(58.0, 181.0, 80.0, 16.0),
    qr=Box(155.0, 176.0, 26.0, 26.0),
    qr_quiet_zone=4.0,
    reference=Box(130.0, 209.0, 60.0, 7.0),
    reference_font=4.0,
    credentials=_CREDENTIALS,
    temp_id=Box(_CREDENTIALS.x + 4.5, 265.5, 80.0, 10.0),
    temp_password=Box(105.0, 265.5, 80.0, 10.0),
    credentials_font=10.0,
    credentials_spacing=1.0,
    box_line=0.6,
)


@dataclass(frozen=True)
class PostcardGeometry:
    """The postcard (Japanese 郵便はがき, 100 × 148 mm): page 1 is the address side, page 2 the back.

    ``stamp`` is left blank for the stamp or the postage mark; ``credentials`` is on the
    back, at its bottom (manual 000: 裏面の下部).
    """

    page: Box
    stamp: Box
    credentials: Box


POSTCARD_GEOMETRY = PostcardGeometry(
    page=Box(0.0, 0.0, 100.0, 148.0),
    stamp=Box(8.0, 8.0, 22.0, 27.0),
    credentials=Box(7.0, 111.0, 86.0, 29.0),
)


# --- reference ------------------------------------------------------------------------------

INVITATION_REFERENCES = ReferenceScheme("INV", "torii-invitation-reference")


# The wholesaler's approval sheet of a company ID application (manual 001) has the same form.
REGISTRATION_REFERENCES = ReferenceScheme("REG", "torii-registration-reference")


def reference_for(invitation_id: int, secret: bytes) -> str:
    """``TORII-INV-<id>-<check>``, printed on the letter and in its QR code (QR alphanumeric mode)."""
    return INVITATION_REFERENCES.make(invitation_id, secret)


def parse_reference(text: str, secret: bytes) -> int | None:
    """The invitation ID of the first genuine reference in ``text``, else None (see ``workflows.references``)."""
    return INVITATION_REFERENCES.parse(text, secret)


# --- rendering ------------------------------------------------------------------------------


class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's URL fetcher for letters: ``data:`` URLs only; anything else is refused, never fetched."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",), allow_redirects=False)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if not url.startswith("data:"):
            log.warning("letter renderer refused to fetch %.80s", url)
            raise ValueError(f"letters fetch nothing from outside: {url[:80]!r}")
        return super().fetch(url, headers)


# One render at a time per process: WeasyPrint drives Pango and fontconfig, whose thread safety
# it does not promise, and letters are few (~0.1-0.2 s each).
_RENDER_LOCK = threading.Lock()


def pdf_from_html(html: str) -> bytes:
    """HTML to PDF with WeasyPrint, fetching nothing but ``data:`` URLs; the only way letters become PDFs."""
    with _RENDER_LOCK:
        return bytes(HTML(string=html, base_url=None, url_fetcher=LocalOnlyFetcher()).write_pdf())


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its name: partner-supplied text is never markup
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _qr_data_uri(reference: str) -> str:
    # Error correction Q (25 %) survives fax noise and a stray pen mark; no border: the
    # quiet zone is kept clear by the layout (FORM_GEOMETRY.qr_quiet_zone).
    qr = segno.make_qr(reference, error="q", boost_error=False)
    return str(qr.svg_data_uri(border=0, omitsize=True, dark="#000"))


def _grouped(value: str) -> tuple[str, str]:
    return value[:4], value[4:]


def _width(text: str) -> float:
    """How wide ``text`` sets, in full-width characters (Latin letters and digits count 0.6)."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "FWA" else 0.6 for ch in text)


def _clip(text: str, *, lines: int, width: float) -> str:
    """The comment as it fits its box: at most ``lines`` lines of ``width`` full-width characters, "…" where cut."""
    rows = [row.rstrip() for row in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while rows and not rows[-1]:
        rows.pop()
    kept: list[str] = []
    used = 0
    for row in rows:
        needed = max(1, math.ceil(_width(row) / width))
        if used + needed <= lines:
            kept.append(row)
            used += needed
            continue
        room = (lines - used) * width - 1.0  # the rest of the box, less the "…"
        cut = ""
        for ch in row:
            if _width(cut + ch) > room:
                break
            cut += ch
        if cut:
            kept.append(cut.rstrip() + "…")
        elif kept:
            kept[-1] = kept[-1][:-1] + "…"
        break
    return "\n".join(kept)


def _japanese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _english_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"  # not strftime: it follows the locale


# The comment's box, in lines of full-width characters at its font size.
COMMENT_LIMITS = {"fax": (4, 52.0), "postcard": (4, 28.0)}


def render_letter(
    invitation: LetterInvitation,
    temp_id: str,
    temp_password: str,
    *,
    layout: Layout,
    language: str = "ja",
    reference: str,
    reply_address: str | None = None,
    fax_number: str | None = None,
    issued_on: date | None = None,
) -> bytes:
    """The paper invitation as a PDF: a one-page A4 FAX letter with reply form, or a two-page postcard.

    ``temp_id``/``temp_password`` are printed grouped 4+4 at the bottom of the page (the
    back of the postcard); ``reference`` (see :func:`reference_for`) goes into the QR code
    and in clear. ``reply_address`` is where the partner may mail the ID and password;
    ``fax_number`` where the form is faxed back (both omitted from the text when None).
    Raises ValueError for an unknown layout or a malformed credential or reference.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    temp_id, temp_password = normalize_credential(temp_id), normalize_credential(temp_password)
    if not (is_well_formed(temp_id) and is_well_formed(temp_password)):
        raise ValueError("temporary ID and password must be 8 characters of the credentials alphabet")
    lines, width = COMMENT_LIMITS[layout]
    context = {
        "invitation": invitation,
        "comment": _clip(invitation.comment, lines=lines, width=width),
        "temp_id": _grouped(temp_id),
        "temp_password": _grouped(temp_password),
        "reply_address": reply_address,
        "fax_number": fax_number,
        "partner_postal_code": getattr(invitation, "partner_postal_code", None),
        "partner_address": getattr(invitation, "partner_address", None),
        "answer_by_form": bool(getattr(invitation, "approval_required", True)),
    }
    started = time.perf_counter()
    pdf = render_form_page(f"letters/{layout}.{language}.html", context, reference=reference, language=language,
                           issued_on=issued_on, qr=layout == "fax")
    log.info("invitation %s: %s letter (%s) rendered in %.0f ms, %d bytes",
             invitation.id, layout, language, (time.perf_counter() - started) * 1000, len(pdf))
    return pdf


def render_form_page(template: str, context: dict[str, Any], *, reference: str, language: str,
                     issued_on: date | None = None, qr: bool = True) -> bytes:
    """A page with FORM_GEOMETRY's fax-back form (``templates/letters/_fax.html``) as a PDF: the reference
    in its QR code and in clear, the date, the geometry the template places everything by."""
    if not re.fullmatch(r"[A-Z0-9\-]{1,60}", reference):
        raise ValueError("reference must be upper-case letters, digits and dashes (see reference_for)")
    day = issued_on or clock.today()
    html = _environment().get_template(template).render({
        "temp_id": None, "reply_address": None, "fax_number": None, "answer_by_form": True, **context,
        "reference": reference,
        # DejaVu Sans Mono advances 0.602 em: longer references (IDs from 1,000,000) set smaller to fit their box.
        "reference_font": round(min(FORM_GEOMETRY.reference_font,
                                    FORM_GEOMETRY.reference.width / (0.602 * len(reference))), 2),
        "qr": _qr_data_uri(reference) if qr else "",
        "date": _japanese_date(day) if language == "ja" else _english_date(day),
        "g": FORM_GEOMETRY,
        "p": POSTCARD_GEOMETRY,
    })
    return pdf_from_html(html)
