"""The company ID application form on paper (manual 001): printed blank, filled in by hand, faxed to us.

One A4 page with the fax-back form's parts (``parsers.faxform``): four registration marks in
the page's corners, outlined fields, a QR code and its reference in clear. ``FORM`` says where
each is in millimetres; ``templates/letters/registration_form.{ja,en}.html`` draws exactly that
and the reader reads it back with the same object.

The fields are those of the application by mail (``parsers.registration_form.FIELDS``) and the
applicant's fax number; the representative JAN maker code is written one digit a box
(``jan_1`` … ``jan_10``: 7, 9 or 10 of them), read by position; consent to the terms is a tick
box. The reference, ``TORII-REGFORM-<edition>-<check>``, says the page is this form: the edition
is the layout's and the language's (``EDITIONS``; a new layout, new editions), the check is made
with the secret key like every reference of ours, so a page that merely looks like the form is
not taken for it.
"""

from __future__ import annotations

from datetime import date

from parsers.faxform.geometry import FieldKind, FormField, FormGeometry, Rect
from workflows.letters import render_form_page
from workflows.references import ReferenceScheme
from workflows.registration.applying import terms

APPLICATION_FORM_REFERENCES = ReferenceScheme("REGFORM", "torii-registration-form-reference")
# The editions of the layout below, one a language: the reference says in which the applicant wrote
# (the answers go in it). A faxed-in form of another edition is not read by this layout.
EDITIONS = {1: "ja", 2: "en"}
JAN_BOXES = 10
CONSENT_FIELD = "consent"
FAX_FIELD = "fax_number"

_LABEL_X, _FIELD_X, _RIGHT = 14.0, 62.0, 196.0
_ROW_H = 12.0
_LINE = 0.6


def jan_field_name(position: int) -> str:
    """The box of the JAN maker code's ``position``-th digit (1-based)."""
    return f"jan_{position}"


def _field(name: str, y: float, kind: FieldKind = "text", x: float = _FIELD_X, right: float = _RIGHT,
           label_x: float = _LABEL_X) -> FormField:
    return FormField(name, Rect(x, y, right - x, _ROW_H), kind, Rect(label_x, y, x - label_x - 2, _ROW_H))


def _form() -> FormGeometry:
    fields = [
        _field("company_name", 58.0),
        _field("company_address", 73.0),
        _field("company_phone", 88.0, "latin", right=122.0),
        _field(FAX_FIELD, 88.0, "latin", x=146.0, label_x=124.0),
        # the JAN maker code: one digit a box, 10 boxes 9 mm wide, 2 mm apart
        *(FormField(jan_field_name(i + 1), Rect(_FIELD_X + i * 11.0, 103.0, 9.0, _ROW_H), "digits",
                    Rect(_LABEL_X, 103.0, _FIELD_X - _LABEL_X - 2, _ROW_H) if i == 0 else None)
          for i in range(JAN_BOXES)),
        _field("wholesaler_company", 131.0),
        _field("wholesaler_department", 146.0, right=128.0),
        _field("wholesaler_contact", 146.0, x=152.0, label_x=130.0),
        _field("wholesaler_email", 161.0, "latin"),
        _field("admin_name", 189.0),
        _field("admin_email", 204.0, "latin"),
        FormField(CONSENT_FIELD, Rect(_LABEL_X, 224.0, 9.0, 9.0), "tick", Rect(26.0, 223.0, _RIGHT - 26.0, 11.0)),
    ]
    return FormGeometry(
        page_size=(210.0, 297.0),
        marks=((10.5, 10.5), (199.5, 10.5), (199.5, 286.5), (10.5, 286.5)),
        mark_size=5.0,
        boxes=(),
        qr=Rect(170.0, 17.0, 24.0, 24.0),
        reference_text=Rect(136.0, 45.0, 60.0, 6.0),
        heading=Rect(_LABEL_X, 16.0, 150.0, 28.0),
        fields=tuple(fields),
        # the section headings, the JAN note, the terms and the note at the foot
        other_print=(Rect(_LABEL_X, 118.0, 120.0, 10.0), Rect(_LABEL_X, 176.0, 120.0, 10.0),
                     Rect(174.0, 103.0, 22.0, _ROW_H), Rect(_LABEL_X, 237.0, _RIGHT - _LABEL_X, 44.0)),
        box_line=_LINE,
        qr_quiet_zone=4.0,
    )


FORM = _form()
TEXT_FIELDS = tuple(f.name for f in FORM.fields if f.kind != "digits" and f.kind != "tick")


def form_reference(secret: bytes, language: str = "ja") -> str:
    edition = next((e for e, lang in EDITIONS.items() if lang == language), 1)
    return APPLICATION_FORM_REFERENCES.make(edition, secret)


def form_language(text: str, secret: bytes) -> str | None:
    """The language of the edition whose genuine reference ``text`` holds; None: not this layout's (or forged)."""
    return EDITIONS.get(APPLICATION_FORM_REFERENCES.parse(text, secret) or 0)


def is_form_reference(text: str, secret: bytes) -> bool:
    """Whether ``text`` holds a genuine reference of one of this layout's editions."""
    return form_language(text, secret) is not None


def render_application_form(secret: bytes, *, language: str = "ja", fax_number: str | None = None,
                            issued_on: date | None = None) -> bytes:
    """The blank application form as a one-page PDF, to print, fill in by hand and fax to ``fax_number``."""
    language = language if language in ("ja", "en") else "ja"
    return render_form_page(f"letters/registration_form.{language}.html",
                            {"f": {field.name: field for field in FORM.fields}, "form": FORM, "jan": [
                                FORM.field_for(jan_field_name(i + 1)) for i in range(JAN_BOXES)],
                             "fax_number": fax_number, "terms": terms(language)},
                            reference=form_reference(secret, language), language=language, issued_on=issued_on)
