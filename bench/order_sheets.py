"""Benchmark: order sheets rendered, and faxed-back order sheets with known answers read back.

    .venv/bin/python bench/order_sheets.py [--sheets 60] [--seed 20261120] [--renders 20] [--show wrong|review|all]

Rendering (workflows/order_documents.py): ms for the first render in a fresh process
(cold: fonts loaded, templates compiled), then warm renders of a one-page (5 lines)
and a three-page (40 lines) sheet, p50 and p95.

Reading (parsers/orderform.py): each sheet is the real order sheet of a 5-line order,
filled in by a simulated supplier (samples/faxsim.py): confirm (30 %), partial with one
to three quantities written below what was ordered (35 %), decline (15 %), two boxes
(10 %) or none (10 %), ticked, crossed, filled or circled; a delivery date written on
most (11/25 or 11月25日); then faxed: fine or normal resolution, skewed up to ±3°,
speckled, a quarter upside down; delivered as PDF or G4 TIFF and read back through
``pages_from_attachment``. The hand is a handwriting font if one is installed
(fonts-klee), else IPAex Gothic; the figures say which.

A sheet is read **right** when what the reading accepts (confidence ≥ 0.8) is what was
written: the answer, every quantity written and the date (two boxes or none: no
answer). It is **sent to review** when the reading holds back (no answer, or
confidence below 0.8) without accepting anything false. It is read **wrong** when an
accepted reading says something that was not written: another answer, a quantity
other than written, one missing, a date other than written. Target: zero wrong.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from PIL import Image  # noqa: E402

from bench.figures import percentile  # noqa: E402
from parsers.imaging import pages_from_attachment  # noqa: E402
from parsers.orderform import REVIEW_BAR, OrderFaxReading, read_order_fax  # noqa: E402
from samples import faxsim  # noqa: E402
from workflows.order_documents.fax_forms import order_fax_form, order_form_geometry  # noqa: E402
from workflows.order_documents.geometry import quantity_field_name  # noqa: E402
from workflows.order_documents.references import order_reference  # noqa: E402
from workflows.order_documents.rendering import render_order_sheet  # noqa: E402
from workflows.order_documents.sheets import OrderSheet, SheetLine, SheetParty  # noqa: E402

SECRET = b"bench-secret"
STYLES = ("tick", "cross", "fill", "circle")


def order(order_id: int, lines: int = 5) -> OrderSheet:
    names = ("トマト（桃太郎）", "キャベツ", "玉ねぎ 北海道産", "じゃがいも", "ほうれん草", "にんじん", "長ねぎ")
    return OrderSheet(
        order_id=order_id, number=f"PO-2026-{order_id:06d}", ordered_at=datetime(2026, 11, 20, 5, 5, tzinfo=UTC),
        orderer_name="山田 太郎",
        buyer=SheetParty(company="レストランさくら 渋谷店", address="東京都渋谷区神宮前1-2-3", phone="03-1111-2222"),
        supplier=SheetParty(company="有限会社みどり青果", person="佐藤 一郎", fax="03-3333-4445"),
        delivery=SheetParty(company="レストランさくら 渋谷店", address="東京都渋谷区神宮前1-2-3"),
        desired_date=date(2026, 11, 25), note="午前中の納品をお願いします。",
        lines=tuple(SheetLine(n, names[(n - 1) % len(names)], Decimal((n * 7) % 12 + 4), "ケース", 1000 + 50 * n)
                    for n in range(1, lines + 1)))


def render(sheet: OrderSheet) -> bytes:
    return render_order_sheet(sheet, reference=order_reference(sheet.order_id, SECRET),
                              reply_address="order+bench@torii.example", fax_number="03-1234-5679")


COLD = """
import sys, time
sys.path.insert(0, {repo!r})
from bench.order_sheets import order, render
started = time.perf_counter()
render(order(1))
print((time.perf_counter() - started) * 1000)
"""


def cold_render_ms() -> float:
    out = subprocess.run([sys.executable, "-c", COLD.format(repo=str(REPO))], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


@dataclass(frozen=True)
class Case:
    number: int
    marks: tuple[tuple[str, str], ...]
    quantities: dict[int, str]  # row → text written
    date_text: str | None
    day: date | None
    resolution: str
    skew: float
    upside_down: bool
    container: str

    @property
    def answer(self) -> str | None:
        return self.marks[0][0] if len(self.marks) == 1 else None


DATES = (("11/25", date(2026, 11, 25)), ("11/26", date(2026, 11, 26)), ("11月27日", date(2026, 11, 27)),
         ("12/1", date(2026, 12, 1)), ("11/30", date(2026, 11, 30)), ("12月3日", date(2026, 12, 3)))


def make_case(rng: random.Random, number: int, sheet: OrderSheet) -> Case:
    kind = rng.random()
    style = rng.choice(STYLES)
    quantities: dict[int, str] = {}
    if kind < 0.30:
        marks: tuple[tuple[str, str], ...] = (("confirm", style),)
    elif kind < 0.65:
        marks = (("partial", style),)
        for row in rng.sample(range(len(sheet.lines)), rng.randint(1, 3)):
            ordered = int(sheet.lines[row].quantity)
            quantities[row] = rng.choice([str(rng.randint(0, ordered - 1)), f"{rng.randint(0, ordered - 2)}.5"])
    elif kind < 0.80:
        marks = (("decline", style),)
    elif kind < 0.90:
        first, second = rng.sample(["confirm", "partial", "decline"], 2)
        marks = ((first, style), (second, rng.choice(STYLES)))
    else:
        marks = ()
    date_text, day = rng.choice(DATES) if marks and marks[0][0] != "decline" and rng.random() < 0.7 else (None, None)
    return Case(number, marks, quantities, date_text, day, rng.choice(["fine", "normal"]),
                round(rng.uniform(-3.0, 3.0), 2), rng.random() < 0.25, rng.choice(["pdf", "tiff"]))


def fax(case: Case, blank: Image.Image, rng: random.Random, hand: str | None = None) -> bytes:
    geometry = order_form_geometry()
    page = blank
    for answer, style in case.marks:
        page = faxsim.mark(page, geometry, answer, style, rng)
    for row, text in case.quantities.items():
        page = faxsim.write_field(page, geometry, quantity_field_name(row), text, rng, font=hand)
    if case.date_text:
        page = faxsim.write_field(page, geometry, "delivery_date", case.date_text, rng, font=hand)
    sent = faxsim.degrade(page, resolution=case.resolution, skew_deg=case.skew, noise=0.5,  # type: ignore[arg-type]
                          upside_down=case.upside_down, rng=rng)
    return faxsim.to_tiff([sent]) if case.container == "tiff" else faxsim.to_pdf([sent])


def verdict(case: Case, sheet: OrderSheet, reading: OrderFaxReading) -> str:
    """right, review or WRONG, as the module's docstring defines them."""
    written = {sheet.lines[row].position: Decimal(text) for row, text in case.quantities.items()}
    accepted = reading.answer is not None and reading.confidence >= REVIEW_BAR
    if reading.order_id not in (None, sheet.order_id):
        return "WRONG"
    if accepted:
        if reading.answer != case.answer:
            return "WRONG"
        if dict(reading.quantities) != written or (case.day is not None and reading.delivery_date != case.day):
            return "WRONG"
        if case.day is None and reading.delivery_date is not None:
            return "WRONG"
        return "right"
    if reading.answer is not None and reading.answer != case.answer:
        return "WRONG"  # held back, but the answer it shows the operator is false
    if case.answer is None and reading.answer is None:
        return "right"
    return "review"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheets", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--show", choices=("wrong", "review", "all"), default="wrong")
    parser.add_argument("--hand", help="the font the supplier writes in (default: faxsim.handwriting_font())")
    parser.add_argument("--no-render", action="store_true", help="only read sheets back")
    args = parser.parse_args()

    print(f"hand: {Path(args.hand or faxsim.handwriting_font()).name}")
    if not args.no_render:
        render_figures(args.renders)
    read_figures(args)


def render_figures(renders: int) -> None:
    cold = [cold_render_ms() for _ in range(2)]
    one, three = order(1), order(2, lines=40)
    render(one)  # warm up this process
    warm_one, warm_three = [], []
    for _ in range(renders):
        started = time.perf_counter()
        render(one)
        warm_one.append(time.perf_counter() - started)
    for _ in range(max(3, renders // 4)):
        started = time.perf_counter()
        render(three)
        warm_three.append(time.perf_counter() - started)
    print(f"render, cold (first in a fresh process, 1 page): {statistics.mean(cold):.0f} ms ({len(cold)} processes)")
    print(f"render, warm, 1 page (5 lines):   p50 {statistics.median(warm_one) * 1000:.0f} ms, "
          f"p95 {percentile(warm_one, 95) * 1000:.0f} ms ({len(warm_one)})")
    print(f"render, warm, 3 pages (40 lines): p50 {statistics.median(warm_three) * 1000:.0f} ms, "
          f"p95 {percentile(warm_three, 95) * 1000:.0f} ms ({len(warm_three)}; "
          f"{statistics.median(warm_three) * 1000 / 3:.0f} ms per page)")


def read_figures(args: argparse.Namespace) -> None:
    sheet = order(1001)
    blank = faxsim.rasterize(render(sheet), 200)
    form = order_fax_form(SECRET)
    counts = {"right": 0, "review": 0, "WRONG": 0}
    fields = {"read": 0, "review": 0, "WRONG": 0}
    times: list[float] = []
    for number in range(args.sheets):
        rng = random.Random(f"{args.seed}:{number}")
        case = make_case(rng, number, sheet)
        data = fax(case, blank, rng, args.hand)
        started = time.perf_counter()
        pages = pages_from_attachment(data, "image/tiff" if case.container == "tiff" else "application/pdf")
        reading = read_order_fax(pages, form, {sheet.order_id: sheet}.get, read_contact=False)
        times.append(time.perf_counter() - started)
        result = verdict(case, sheet, reading)
        counts[result] += 1
        for row, text in case.quantities.items():
            got = reading.quantities.get(sheet.lines[row].position)
            fields["review" if got is None else "read" if got == Decimal(text) else "WRONG"] += 1
            if got is not None and got != Decimal(text):
                print(f"quantity read wrong on #{number}: {text} written, {got} read")
        if args.show == "all" or (args.show == "review" and result != "right") or result == "WRONG":
            print(f"{result:6} #{number} {case.answer} marks={case.marks} written={case.quantities} "
                  f"date={case.date_text} {case.resolution} skew={case.skew} ud={case.upside_down} -> "
                  f"{reading.answer} ({reading.confidence:.2f}) {dict(reading.quantities)} {reading.delivery_date}: "
                  f"{'; '.join(reading.reasons)}")
    n = args.sheets
    print(f"read back, {n} sheets: right {counts['right'] / n:6.1%}   to review {counts['review'] / n:6.1%}   "
          f"WRONG {counts['WRONG'] / n:6.1%}")
    total = sum(fields.values()) or 1
    print(f"quantities written ({total}): read {fields['read'] / total:.1%}, held back {fields['review'] / total:.1%}, "
          f"read wrong {fields['WRONG'] / total:.1%} (shown to the operator in review, never accepted)"
          if fields["WRONG"] else f"quantities written ({total}): read {fields['read'] / total:.1%}, "
          f"held back {fields['review'] / total:.1%}, read wrong 0")
    print(f"time per page (attachment to reading): p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {percentile(times, 95) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
