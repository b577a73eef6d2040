"""What a free-form order sheet reads as: ``FreeFormReading``, its ``ItemLine`` rows, each value a ``Field``.

Every value is a ``Field``: the text as read, the normalized value, a confidence,
the page and the box it came from, and a reason when it is not sure. Confidence
starts from the words' (1.0 from a text layer, Tesseract's from OCR) and is lowered
by what does not fit (``Field.doubted``); it is raised when an independent check
agrees (``Field.checked``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

Box = tuple[float, float, float, float]

CHECKED = 0.97  # what an independent check that agrees makes a value worth
DOUBTFUL = 0.5  # what a value is worth when a check disagrees


@dataclass(frozen=True)
class Field:
    text: str  # as read ("" when nothing was there)
    value: str | None  # normalized: "2.5", "2026-11-25", "+81355550101"; None when unreadable
    confidence: float  # 0..1
    page: int  # 1-based
    box: Box  # x0, top, x1, bottom in mm on that page
    reason: str | None = None
    alternatives: tuple[str, ...] = ()  # other readings OCR gave of the same ink (item names)

    def as_json(self) -> dict[str, Any]:
        out = {"text": self.text, "value": self.value, "confidence": round(self.confidence, 3), "page": self.page,
               "box": [round(v, 1) for v in self.box], "reason": self.reason}
        return {**out, "alternatives": list(self.alternatives)} if self.alternatives else out

    def doubted(self, reason: str, confidence: float = DOUBTFUL) -> Field:
        return replace(self, confidence=min(self.confidence, confidence),
                       reason="; ".join(r for r in (self.reason, reason) if r))

    def checked(self) -> Field:
        return replace(self, confidence=max(self.confidence, CHECKED))


@dataclass(frozen=True)
class ItemLine:
    item: Field
    quantity: Field
    unit: Field | None = None  # the written unit (value: the unit's label, e.g. "ケース")
    price: Field | None = None
    amount: Field | None = None


@dataclass(frozen=True)
class FreeFormReading:
    lines: tuple[ItemLine, ...]
    delivery_date: Field | None
    buyer_name: Field | None
    buyer_fax: Field | None
    supplier_name: Field | None
    note: Field | None
    layout: str  # "table" (a header was found) or "list"
    reasons: tuple[str, ...] = field(default=())
