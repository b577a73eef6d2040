"""Make the fax orders under samples/fax_orders/ with samples/fax_orders.py, and their truth.

    .venv/bin/python -m samples.make_fax_orders

Each layout once as the PDF the buyer's PC makes (with its text layer; the
handwritten sheet has none), once as it arrives by fax (a 1-bit G4 PDF); the
two-page order also as a two-page G4 TIFF; one ruled sheet that says no delivery
date. All received on Friday 2026-11-20 (Tokyo), as in the other samples.
``truth.json`` maps each file to what it says (``fax_orders.truth_json``).
The same run writes the same bytes.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from samples.fax_orders import TOKYO, FaxOrderTruth, fax, make_order, render_pdf, truth_json

OUT = Path(__file__).resolve().parent / "fax_orders"


@dataclass(frozen=True)
class _Scan:
    kind: Literal["pdf", "tiff"]
    resolution: Literal["fine", "normal"]
    skew_deg: float
    noise: float
    upside_down: bool = False


# stem, layout, buyer, lines, when received, how the delivery date is written (None: not at all), faxes sent of it
ORDERS: tuple[tuple[str, str, str, int, datetime, str | None, tuple[_Scan, ...]], ...] = (
    ("01-ruled", "ruled", "株式会社さくら食堂", 8, datetime(2026, 11, 20, 8, 12, tzinfo=TOKYO), "reiwa",
     (_Scan("pdf", "fine", 1.2, 0.3),)),
    ("02-plain", "plain", "(有)山田商店", 5, datetime(2026, 11, 20, 22, 41, tzinfo=TOKYO), "next_week",
     (_Scan("pdf", "normal", -1.6, 0.5),)),
    ("03-english", "english", "Bistro Lune", 6, datetime(2026, 11, 20, 7, 5, tzinfo=TOKYO), "en_month",
     (_Scan("pdf", "fine", 0.8, 0.4, upside_down=True),)),
    ("04-handwritten", "handwritten", "居酒屋 まるよし", 7, datetime(2026, 11, 20, 23, 18, tzinfo=TOKYO), "md",
     (_Scan("pdf", "normal", 2.0, 0.5),)),
    ("05-two-page", "two_page", "株式会社さくら食堂", 28, datetime(2026, 11, 20, 9, 30, tzinfo=TOKYO), "ymd_slash",
     (_Scan("pdf", "fine", -0.9, 0.3), _Scan("tiff", "normal", 1.4, 0.4))),
    ("06-ruled-no-date", "ruled", "居酒屋 まるよし", 4, datetime(2026, 11, 20, 10, 2, tzinfo=TOKYO), None,
     (_Scan("pdf", "normal", -2.2, 0.6),)),
)


def _order(index: int, layout: str, buyer: str, lines: int, received_at: datetime,
           date_style: str | None) -> FaxOrderTruth:
    return make_order(random.Random(f"samples/fax_orders/{index}/order"), layout, received_at=received_at,
                      with_date=date_style is not None, date_style=date_style, buyer_name=buyer, line_count=lines)


def build(out: Path = OUT) -> dict[str, dict[str, Any]]:
    """Write the samples and truth.json into ``out``; return what truth.json holds."""
    out.mkdir(parents=True, exist_ok=True)
    truths: dict[str, dict[str, Any]] = {}
    for index, (stem, layout, buyer, lines, received_at, date_style, scans) in enumerate(ORDERS):
        truth = _order(index, layout, buyer, lines, received_at, date_style)
        render_seed = f"samples/fax_orders/{index}/render"  # the scans are the faxed printout of the PDF
        if layout != "handwritten":
            (out / f"{stem}.pdf").write_bytes(render_pdf(truth, random.Random(render_seed)))
            truths[f"{stem}.pdf"] = truth_json(truth)
        for scan in scans:
            name = f"{stem}-scan.{'tif' if scan.kind == 'tiff' else 'pdf'}"
            (out / name).write_bytes(fax(truth, random.Random(render_seed), kind=scan.kind,
                                         resolution=scan.resolution, skew_deg=scan.skew_deg, noise=scan.noise,
                                         upside_down=scan.upside_down))
            truths[name] = truth_json(truth)
    (out / "truth.json").write_text(json.dumps(truths, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return truths


def main() -> None:
    truths = build()
    for name, truth in truths.items():
        print(f"{name:28} {truth['layout']:12} {truth['buyer']:18} {len(truth['lines']):2} lines, "
              f"delivery {truth['delivery_date']} ({truth['date_written'] or '-'})")
    print(f"wrote {len(truths)} files and truth.json to {OUT}")


if __name__ == "__main__":
    main()
