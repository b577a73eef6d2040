"""Benchmark: the temporary ID read by OCR off faxed-back letters whose QR code and reference are lost.

    .venv/bin/python bench/faxback_temp_ids.py [--forms 60] [--seed 20261121] [--harsh] [--first 1]
                                               [--show miss|all] [--with-form]

Each form is the gateway's real fax letter (workflows/letters.py, Japanese or English)
with a fresh random temporary ID and password, ticked and signed by a simulated hand,
its QR code **and** its printed reference scribbled over (samples/faxsim.py), then
faxed: fine or normal resolution (200×200 or 200×100 dpi), skewed up to ±3.5°,
speckled, a quarter upside down, delivered as a PDF or a TIFF and read back through
``pages_from_attachment``. ``--harsh``: skew ±6°, twice the noise, 30 % upside down.

Prints the share of pages where the printed ID is among the candidates (what finds
the invitation: only an issued ID's lookup key matches), where it is the first
candidate, where no candidate came out (the page goes to review), and where only
wrong candidates came out (review too: they match no invitation but with odds of
live IDs in 24**8); the candidates per page; and the time per page of
``read_temp_id`` (``--with-form``: also of ``read_faxback`` before it, the whole
path of a page without a code). Each form has its own seed (``seed:number``):
``--first N --forms 1 --show all`` replays one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import percentile  # noqa: E402
from parsers.credential_ocr.reader import read_temp_id  # noqa: E402
from parsers.credential_text import ALPHABET  # noqa: E402
from parsers.faxform.reader import read_faxback  # noqa: E402
from parsers.imaging import pages_from_attachment  # noqa: E402
from samples import faxsim  # noqa: E402
from workflows.letters import credential_layout, faxback_geometry, reference_for, render_letter  # noqa: E402

SECRET = b"bench-secret-bench-secret"
GEOMETRY = faxback_geometry()
LAYOUT = credential_layout()


def faxed_letter(number: int, rng: random.Random, harsh: bool) -> tuple[str, str, bytes]:
    """(temporary ID, description, the fax attachment) of form ``number``."""
    temp_id = "".join(rng.choice(ALPHABET) for _ in range(8))
    password = "".join(rng.choice(ALPHABET) for _ in range(8))
    language = rng.choice(("ja", "en"))
    invitation = SimpleNamespace(id=number, issuer_company="株式会社インフォ商会", issuer_name="鈴木 二郎",
                                 partner_company="有限会社さくら青果", partner_name="田中 一郎",
                                 comment="いつもお世話になっております。", language=language, approval_required=True)
    pdf = render_letter(invitation, temp_id, password, layout="fax", language=language,
                        reference=reference_for(number, SECRET), reply_address="invite@torii.example",
                        fax_number="03-1234-5679")
    page = faxsim.rasterize(pdf, 200)
    page = faxsim.mark(page, GEOMETRY, rng.choice(("approve", "reject", "hold")),
                       rng.choice(("tick", "cross", "fill", "circle")), rng)
    page = faxsim.write_name(page, GEOMETRY, "田中", rng)
    page = faxsim.deface(faxsim.deface(page, GEOMETRY, "qr", rng), GEOMETRY, "reference_text", rng)
    resolution = rng.choice(("fine", "normal"))
    skew = rng.uniform(-6, 6) if harsh else rng.uniform(-3.5, 3.5)
    noise = rng.uniform(0, 2) if harsh else rng.random()
    upside_down = rng.random() < (0.3 if harsh else 0.25)
    sent = faxsim.degrade(page, resolution=resolution, skew_deg=skew, noise=noise,  # type: ignore[arg-type]
                          upside_down=upside_down, rng=rng)
    container = rng.choice(("pdf", "tiff"))
    data = faxsim.to_pdf([sent]) if container == "pdf" else faxsim.to_tiff([sent])
    about = (f"#{number} {temp_id} {language} {resolution:6} skew {skew:+.1f} noise {noise:.2f}"
             f"{' upside-down' if upside_down else ''} {container}")
    return temp_id, about, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--first", type=int, default=1, help="number of the first form")
    parser.add_argument("--harsh", action="store_true", help="worse than the brief: skew ±6°, twice the noise")
    parser.add_argument("--show", choices=("miss", "all"), default="miss")
    parser.add_argument("--with-form", action="store_true", help="time read_faxback on each page too")
    args = parser.parse_args()

    found = first = missing = wrong = 0
    candidates: list[int] = []
    times: list[float] = []
    form_times: list[float] = []
    for number in range(args.first, args.first + args.forms):
        rng = random.Random(f"{args.seed}:{number}")
        temp_id, about, data = faxed_letter(number, rng, args.harsh)
        (page,) = pages_from_attachment(data, "application/pdf" if data[:4] == b"%PDF" else "image/tiff")
        if args.with_form:
            started = time.perf_counter()
            form = read_faxback(page, GEOMETRY, reference_check=lambda _: False)
            form_times.append(time.perf_counter() - started)
            assert form.reference is None, f"{about}: the reference survived defacing"
        started = time.perf_counter()
        reading = read_temp_id(page, LAYOUT)
        times.append(time.perf_counter() - started)
        candidates.append(len(reading.candidates))
        if temp_id in reading.candidates:
            found += 1
            first += reading.candidates[0] == temp_id
            verdict = "found" if reading.candidates[0] == temp_id else "found (not first)"
        elif reading.candidates:
            wrong += 1
            verdict = "MISREAD"
        else:
            missing += 1
            verdict = "NOT READ"
        if args.show == "all" or verdict not in ("found",):
            print(f"{verdict:17} {about} -> {list(reading.candidates)} reads {list(reading.raw)} "
                  f"{list(reading.reasons)}")

    n = args.forms
    print(f"\n{n} faxed-back letters, QR code and reference defaced "
          f"(seed {args.seed}{', harsh' if args.harsh else ''})")
    print(f"temporary ID among the candidates (invitation found): {found / n:6.1%}   first candidate {first / n:6.1%}")
    print(f"no candidate (review): {missing / n:6.1%}   only wrong candidates (review): {wrong / n:6.1%}")
    print(f"candidates per page: mean {statistics.mean(candidates):.1f}, max {max(candidates)}")
    print(f"read_temp_id per page: p50 {statistics.median(times) * 1000:.0f} ms, "
          f"p95 {percentile(times, 95) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    if form_times:
        whole = [a + b for a, b in zip(form_times, times, strict=True)]
        print(f"read_faxback + read_temp_id per page: p50 {statistics.median(whole) * 1000:.0f} ms, "
              f"p95 {percentile(whole, 95) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
