"""What reading a form gives: ``FormReading`` (a page), ``FieldReading`` (a field), ``FaxbackReading``.

Plain results, shared by the reader's steps and handed to the workflows; also the
``ReferenceCheck`` the caller passes to tell a real reference from a misreading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from parsers.faxform.geometry import FieldKind
from parsers.intent import Intent

# Is this text (or does it hold) an issued reference? True, or the reference as it should be
# written (then that is what the reading reports); False or None if not.
ReferenceCheck = Callable[[str], "bool | str | None"]

AnswerT = TypeVar("AnswerT")


class ReferenceSource(Enum):
    QR = "qr"
    OCR = "ocr"


@dataclass(frozen=True)
class FieldReading:
    """What is written in one field: its crop, whether there is writing, and what OCR read.

    ``text`` is None when nothing is written, when OCR was not asked for or not
    available, and when the reading is not sure (digits and dates: two passes that
    disagree, or a reading that does not match the glyphs written); ``reason`` says
    which. Digits come as written ("2.5", "12"), dates as read ("11/25", "11月25日").
    ``confidence`` is 0.0 without a text. ``outside`` says when writing runs over the
    outline or lies beside it.
    """

    name: str
    kind: FieldKind
    image: bytes  # PNG, 1-bit, the field inside its outline
    written: bool
    text: str | None
    confidence: float
    reason: str | None = None
    # writing that may not all be inside the outline: running over its edge (the crop cut it, a
    # neighbour's field may hold the rest) or beside it on blank paper; it lowers nothing here,
    # the form's reader weighs it
    outside: str | None = None


@dataclass(frozen=True)
class _AnswerReading(Generic[AnswerT]):
    """What every reading of a form says: the reference, the answer (of type ``AnswerT``), how sure and why."""

    reference: str | None
    reference_source: ReferenceSource | None
    answer: AnswerT | None
    confidence: float
    reasons: tuple[str, ...]
    box_scores: Mapping[str, float] = field(default_factory=dict)
    ring_scores: Mapping[str, float] = field(default_factory=dict)
    contact_image: bytes | None = None  # PNG, 1-bit, the contact field inside its outline
    contact_text: str | None = None
    rotation: int = 0
    skew_deg: float = 0.0


@dataclass(frozen=True)
class FormReading(_AnswerReading[str]):
    """What a returned form says, how sure the reading is and why.

    ``answer`` is the name of the one box clearly marked, else None; ``blank`` is true
    when no box shows any ink at all (no answer given, rather than an unclear one).
    ``confidence`` is for the answer and, when there is one, the reference: a
    reference read by OCR without a check caps it below the usual review bar. The
    fields' own confidence is in ``fields``. ``box_scores`` is the ink inside each box
    (share of its inner area, printed outline and background speckle excluded),
    ``ring_scores`` the share of directions around a box (or box and label) covered
    by a drawn line: a circle.
    """

    fields: Mapping[str, FieldReading] = field(default_factory=dict)
    blank: bool = False
    located: bool = False  # the form was found on the page


@dataclass(frozen=True)
class FaxbackReading(_AnswerReading[Intent]):
    """The invitation letter's form as read (``read_faxback``): a ``FormReading``'s answer part, as an ``Intent``."""
