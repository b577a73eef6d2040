"""Benchmark: returned fax-back forms with known answers, read back.

    .venv/bin/python bench/faxback_forms.py [--forms 60] [--seed 20240611] [--no-ocr] [--show wrong|review|all]
                                            [--first 100] [--dump DIR] [--harsh]

Each form is the gateway's real fax letter (workflows/letters.py), filled in by a
simulated hand (samples/faxsim.py): one box ticked, crossed, filled or circled, or, on
purpose, two boxes or none (10 % each); a name written; then faxed: fine or normal
resolution, skewed up to ±3.5°, speckled (dust, dropouts, toner spots, sometimes a
streak), a quarter upside down, 15 % with the QR code defaced; and delivered as a PDF
or a TIFF, read back through ``pages_from_attachment``. ``--harsh`` is worse than a
fax should be: skew ±6°, twice the noise, marks up to 2.5 mm off the box's centre.
Each form has its own seed (``seed:number``): ``--first N --forms 1 --show all``
replays one.

Prints the share of answers read right (double and blank forms are right when sent
to review), sent to review (answer None where there was one), read **wrongly**
(another answer, or an answer where there was none: must be zero), the same for
the reference, how often the contact field's OCR gave the name written, and the time
per page (attachment bytes to reading; QR readable or not).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from PIL import Image  # noqa: E402

from bench.figures import percentile  # noqa: E402
from parsers.faxform.reader import read_faxback  # noqa: E402
from parsers.faxform.readings import FaxbackReading  # noqa: E402
from parsers.imaging import pages_from_attachment  # noqa: E402
from samples import faxsim  # noqa: E402
from workflows.letters import faxback_geometry, parse_reference, reference_for, render_letter  # noqa: E402

ANSWERS = ("approve", "reject", "hold")
STYLES = ("tick", "cross", "fill", "circle")
NAMES = ("山田 太郎", "佐藤 花子", "田中 一郎", "小林 誠", "鈴木 二郎", "高橋 美咲")


SECRET = b"bench-secret"
GEOMETRY = faxback_geometry()


def reference_check(text: str) -> bool:
    return parse_reference(text, SECRET) is not None


def letter_page(number: int) -> Image.Image:
    """The gateway's real fax letter for invitation ``number``, as the partner's fax prints it."""
    invitation = SimpleNamespace(
        id=number, issuer_company="株式会社インフォ商会", issuer_name="鈴木 二郎",
        partner_company="有限会社さくら青果", partner_name="田中 一郎",
        comment="いつもお世話になっております。", language="ja", approval_required=True,
    )
    pdf = render_letter(invitation, "KP4M7RTX", "HN9WE3AC", layout="fax", reference=reference_for(number, SECRET),
                        reply_address="invite@torii.example", fax_number="03-1234-5679")
    return faxsim.rasterize(pdf, 200)


@dataclass(frozen=True)
class Case:
    number: int
    marks: tuple[tuple[str, str], ...]  # (answer, style)
    resolution: str
    skew: float
    noise: float
    upside_down: bool
    deface_qr: bool
    container: str  # "pdf" or "tiff"
    offset: float  # how far (mm) the hand may miss the box's centre
    name: str = NAMES[0]  # written in the contact field

    @property
    def expected(self) -> str | None:
        return self.marks[0][0] if len(self.marks) == 1 else None


def make_case(rng: random.Random, number: int, harsh: bool = False) -> Case:
    case = _make_case(rng, number, harsh)
    return dataclasses.replace(case, name=rng.choice(NAMES))


def _make_case(rng: random.Random, number: int, harsh: bool) -> Case:
    kind = rng.random()
    if kind < 0.1:
        marks: tuple[tuple[str, str], ...] = ()
    elif kind < 0.2:
        two = rng.sample(ANSWERS, 2)
        marks = tuple((a, rng.choice(STYLES)) for a in two)
    else:
        marks = ((rng.choice(ANSWERS), rng.choice(STYLES)),)
    if harsh:
        return Case(number, marks, rng.choice(("fine", "normal")), rng.uniform(-6, 6), rng.uniform(0, 2),
                    rng.random() < 0.3, rng.random() < 0.2, rng.choice(("pdf", "tiff")), 2.5)
    return Case(number, marks, rng.choice(("fine", "normal")), rng.uniform(-3.5, 3.5), rng.random(),
                rng.random() < 0.25, rng.random() < 0.15, rng.choice(("pdf", "tiff")), 1.0)


def fax(case: Case, rng: random.Random) -> bytes:
    page = letter_page(case.number)
    for answer, style in case.marks:
        page = faxsim.mark(page, GEOMETRY, answer, style, rng, offset_mm=case.offset)
    page = faxsim.write_name(page, GEOMETRY, case.name, rng)
    if case.deface_qr:
        page = faxsim.deface(page, GEOMETRY, "qr", rng)
    sent = faxsim.degrade(page, resolution=case.resolution, skew_deg=case.skew,  # type: ignore[arg-type]
                          noise=case.noise, upside_down=case.upside_down, rng=rng)
    return faxsim.to_pdf([sent]) if case.container == "pdf" else faxsim.to_tiff([sent])


def describe(case: Case, reading: FaxbackReading) -> str:
    marks = " + ".join(f"{a}/{s}" for a, s in case.marks) or "blank"
    return (f"#{case.number} {marks:24} {case.resolution:6} skew {case.skew:+.1f} noise {case.noise:.2f}"
            f"{' upside-down' if case.upside_down else ''}{' qr-defaced' if case.deface_qr else ''} {case.container}"
            f" -> {reading.answer.value if reading.answer else None} ({reading.confidence:.2f})"
            f" ref={reading.reference} boxes={dict(reading.box_scores)} rings={dict(reading.ring_scores)}"
            f" reasons={list(reading.reasons)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--no-ocr", action="store_true", help="skip the contact field's OCR")
    parser.add_argument("--show", choices=("wrong", "review", "all"), default="wrong")
    parser.add_argument("--first", type=int, default=100, help="number of the first form")
    parser.add_argument("--harsh", action="store_true",
                        help="worse than the brief: skew ±6°, twice the noise, marks up to 2.5 mm off")
    parser.add_argument("--dump", type=Path, help="write each faxed form (PDF or TIFF) into this folder")
    args = parser.parse_args()

    right = review = wrong = 0
    ref_right = ref_missing = ref_wrong = 0
    contact_read = contact_exact = 0
    times: list[float] = []
    times_ocr_ref: list[float] = []
    for number in range(args.first, args.first + args.forms):
        rng = random.Random(f"{args.seed}:{number}")  # each form reproducible on its own
        case = make_case(rng, number, args.harsh)
        data = fax(case, rng)
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            (args.dump / f"{number}.{case.container}").write_bytes(data)
        started = time.perf_counter()
        pages = pages_from_attachment(data, "application/pdf" if case.container == "pdf" else "image/tiff",
                                      f"fax.{case.container}")
        reading = read_faxback(pages[0], GEOMETRY, reference_check=reference_check,
                               read_contact=not args.no_ocr)
        elapsed = time.perf_counter() - started
        (times_ocr_ref if case.deface_qr else times).append(elapsed)

        got = reading.answer.value if reading.answer else None
        if got == case.expected:
            right += 1
            verdict = "right"
        elif got is None:
            review += 1
            verdict = "review"
        else:
            wrong += 1
            verdict = "WRONG"
        if reading.reference and parse_reference(reading.reference, SECRET) == case.number:
            ref_right += 1
        elif reading.reference is None:
            ref_missing += 1
        else:
            ref_wrong += 1
            verdict += " REFERENCE WRONG"
        contact_read += bool(reading.contact_text)
        contact_exact += (reading.contact_text or "").replace(" ", "") == case.name.replace(" ", "")
        if args.show == "all" or (args.show == "review" and verdict != "right") or "WRONG" in verdict:
            print(f"{verdict:7} {describe(case, reading)}")

    n = args.forms
    all_times = times + times_ocr_ref
    print(f"\n{n} forms (seed {args.seed}{', harsh' if args.harsh else ''}), "
          f"contact OCR {'off' if args.no_ocr else 'on'}")
    print(f"answer:    right {right / n:6.1%}   to review {review / n:6.1%}   WRONG {wrong / n:6.1%}")
    print(f"reference: right {ref_right / n:6.1%}   missing   {ref_missing / n:6.1%}   WRONG {ref_wrong / n:6.1%}")
    if not args.no_ocr:
        print(f"contact field read by OCR: some text {contact_read / n:.1%}, exactly the name written "
              f"{contact_exact / n:.1%}")
    print(f"time per page: p50 {statistics.median(all_times) * 1000:.0f} ms, "
          f"p95 {percentile(all_times, 95) * 1000:.0f} ms (all {len(all_times)})")
    if times_ocr_ref:
        print(f"  with QR code readable: p50 {statistics.median(times) * 1000:.0f} ms; "
              f"QR defaced (reference by OCR): p50 {statistics.median(times_ocr_ref) * 1000:.0f} ms "
              f"({len(times_ocr_ref)} pages)")


if __name__ == "__main__":
    main()
