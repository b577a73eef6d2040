"""Benchmark: the words of buyers' order sheets, from a text layer and by OCR (parsers/pagetext/).

    .venv/bin/python bench/page_text.py [--sheets 10] [--scans 6] [--seed 20261122] [--show]

Each sheet is a buyer's own order sheet: a title, the supplier and the buyer's block, a
desired delivery date, a ruled table (品名 | 数量 | 単位 | 単価 | 金額) of 4 to 8 lines
drawn from vegetables named in full-width and half-width katakana, kana and kanji, with
quantities and amounts like 3,200, an unruled list with wide gaps, notes; rendered by
WeasyPrint in IPAex Gothic to a PDF with a text layer, each sheet its own seed.

Text layer: ``read_document`` on each PDF, ms per page p50/p95.

OCR: the first ``--scans`` sheets rasterized at 200 dpi and faxed (samples/faxsim.py):
fine or normal resolution, skewed up to ±3°, speckled (noise 0.2-0.7), a quarter upside
down, delivered as PDF or TIFF, read back by ``read_document``. Printed: ms per page
p50/p95, wall and CPU (this process and Tesseract's), the turn found right, and the
share of the text layer's words read exactly (NFKC, without whitespace) within 3 mm of
their place once the fax's shift is taken out, for all words and for the table's cells.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import percentile  # noqa: E402
from parsers.pagetext.document import read_document  # noqa: E402
from parsers.pagetext.page import PageText, Word  # noqa: E402
from samples import faxsim  # noqa: E402
from workflows.letters import pdf_from_html  # noqa: E402

PRODUCTS = (("トマト（桃太郎）", "ケース", 3200), ("ﾐﾆﾄﾏﾄ", "ﾊﾟｯｸ", 450), ("キャベツ", "玉", 180),
            ("玉ねぎ 北海道産", "箱", 2800), ("じゃがいも", "kg", 300), ("ほうれん草", "束", 120),
            ("にんじん", "kg", 280), ("長ねぎ", "本", 90), ("ﾚﾀｽ", "ｹｰｽ", 2400), ("しいたけ", "パック", 250),
            ("大根", "本", 160), ("きゅうり", "袋", 320), ("ピーマン", "袋", 210), ("なす", "本", 70))
COLUMNS = (70.0, 20.0, 20.0, 30.0, 35.0)
CSS = """
@page { size: 210mm 297mm; margin: 0; }
body { margin: 0; font-family: "IPAexGothic"; }
.a { position: absolute; white-space: pre; line-height: 1; }
table { position: absolute; border-collapse: collapse; table-layout: fixed; }
td { border: 0.3mm solid #000; height: 8mm; padding: 0 1.5mm; line-height: 8mm; font-size: 4mm; white-space: nowrap;
     overflow: hidden; }
td.n { text-align: right; }
th { border: 0.3mm solid #000; height: 7mm; font-weight: normal; font-size: 4mm; line-height: 7mm; }
"""


def sheet_pdf(rng: random.Random) -> bytes:
    """One buyer's order sheet, its contents drawn from ``rng``."""
    def at(x: float, top: float, size: float, text: str) -> str:
        return f'<div class="a" style="left:{x}mm;top:{top}mm;font-size:{size}mm">{text}</div>'

    lines = rng.sample(PRODUCTS, rng.randint(4, 8))
    rows = []
    total = 0
    for name, unit, price in lines:
        quantity = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20])
        total += quantity * price
        cells = (name, str(quantity), unit, f"{price:,}", f"{quantity * price:,}")
        rows.append("<tr>" + "".join(f"<td class='{'n' if i in (1, 3, 4) else ''}'>{c}</td>"
                                     for i, c in enumerate(cells)) + "</tr>")
    table_bottom = 62 + 8 + 8.3 * len(lines)
    extra = rng.sample(PRODUCTS, 3)
    body = [at(rng.choice([70, 75, 80]), 12, rng.choice([8, 9]), rng.choice(["FAX注文書", "注文書", "発注書"])),
            at(15, 30, 5, rng.choice(["有限会社みどり青果", "八百松商店", "株式会社グリーンフーズ"]) + "　御中"),
            at(125, 28, 3.5, "店名：" + rng.choice(["レストランさくら 渋谷店", "割烹 たなか", "ﾋﾞｽﾄﾛ ｱｵｲ"])),
            at(125, 33, 3.5, f"TEL 03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"),
            at(125, 38, 3.5, f"FAX 03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"),
            at(15, 50, 5, f"納品希望日：{rng.randint(1, 12)}/{rng.randint(1, 28)}({rng.choice('月火水木金土')})"),
            f'<table style="left:15mm;top:62mm;width:{sum(COLUMNS)}mm">'
            + "".join(f"<col style='width:{w}mm'>" for w in COLUMNS)
            + "<tr>" + "".join(f"<th>{h}</th>" for h in ("品名", "数量", "単位", "単価", "金額")) + "</tr>"
            + "".join(rows) + "</table>",
            at(15, table_bottom + 8, 4.5, "追加（別便で可）")]
    for index, (name, unit, _) in enumerate(extra):  # an unruled list: ideographic spaces for columns
        item = f"{name.replace(' ', '')}　　　　{rng.randint(1, 9)}{unit}"
        body.append(at(20, table_bottom + 16 + 7 * index, 4, item))
    note = rng.choice(["午前中の納品をお願いします。", "いつもありがとうございます。"])
    body.append(at(15, table_bottom + 40, 4, f"備考：{note}"))
    body.append(at(15, table_bottom + 47, 4, f"合計金額 {total:,}円（税抜）"))
    return pdf_from_html(f"<html><head><style>{CSS}</style></head><body>{''.join(body)}</body></html>")


def key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Scan:
    resolution: str
    skew: float
    noise: float
    upside_down: bool
    container: str


def read_in_place(truth: PageText, page: PageText) -> tuple[int, int, int, int]:
    """Words of ``truth`` read exactly within 3 mm (the fax's shift taken out), of all and of the table."""
    offsets = [(w.x0 - t.x0, w.top - t.top) for t in truth.words for w in page.words
               if len(key(t.text)) >= 2 and key(w.text) == key(t.text)]
    dx = statistics.median(o[0] for o in offsets) if offsets else 0.0
    dy = statistics.median(o[1] for o in offsets) if offsets else 0.0
    table = [r for r in truth.rules if r.horizontal]
    top, bottom = (table[0].top, table[-1].bottom) if table else (0.0, 0.0)

    def found(t: Word) -> bool:
        return any(key(w.text) == key(t.text) and abs(w.x0 - dx - t.x0) <= 3 and abs(w.top - dy - t.top) <= 3
                   for w in page.words)

    words = [t for t in truth.words if key(t.text)]
    cells = [t for t in words if top < t.top < bottom]
    return sum(map(found, words)), len(words), sum(map(found, cells)), len(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheets", type=int, default=10)
    parser.add_argument("--scans", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--show", action="store_true", help="print each scan's words")
    args = parser.parse_args()

    pdfs = [sheet_pdf(random.Random(f"{args.seed}:{n}")) for n in range(max(args.sheets, args.scans))]
    read_document(pdfs[0], "application/pdf")  # warm up: pdfplumber's imports, fonts
    text_ms: list[float] = []
    truths: list[PageText] = []
    for pdf in pdfs[:args.sheets] or pdfs:
        started = time.perf_counter()
        (page,) = read_document(pdf, "application/pdf")
        text_ms.append((time.perf_counter() - started) * 1000)
        truths.append(page)
    print(f"text layer, {len(text_ms)} pages: p50 {statistics.median(text_ms):.0f} ms, "
          f"p95 {percentile(text_ms, 95):.0f} ms per page (render at 200 dpi included); "
          f"{statistics.mean(len(p.words) for p in truths):.0f} words, "
          f"{statistics.mean(len(p.rules) for p in truths):.0f} rules a page")

    wall: list[float] = []
    cpu: list[float] = []
    turned_right = 0
    totals = [0, 0, 0, 0]
    for n in range(args.scans):
        rng = random.Random(f"{args.seed}:scan:{n}")
        scan = Scan(rng.choice(["fine", "normal"]), round(rng.uniform(-3, 3), 2), round(rng.uniform(0.2, 0.7), 2),
                    rng.random() < 0.25, rng.choice(["pdf", "tiff"]))
        faxed = faxsim.degrade(faxsim.rasterize(pdfs[n], 200), resolution=scan.resolution,  # type: ignore[arg-type]
                               skew_deg=scan.skew, noise=scan.noise, upside_down=scan.upside_down, rng=rng)
        data = faxsim.to_pdf([faxed]) if scan.container == "pdf" else faxsim.to_tiff([faxed])
        started, cpu_started = time.perf_counter(), cpu_seconds()
        (page,) = read_document(data, "application/pdf" if scan.container == "pdf" else "image/tiff")
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((cpu_seconds() - cpu_started) * 1000)
        turned_right += page.rotation == (180 if scan.upside_down else 0)
        truth = truths[n] if n < len(truths) else read_document(pdfs[n], "application/pdf")[0]
        counts = read_in_place(truth, page)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        print(f"scan {n}: {scan.resolution:6} skew {scan.skew:+.2f}° (found {page.skew:+.2f}) noise {scan.noise} "
              f"{'upside down ' if scan.upside_down else ''}{scan.container}: {wall[-1]:.0f} ms, "
              f"words {counts[0]}/{counts[1]}, cells {counts[2]}/{counts[3]}")
        if args.show:
            print(page.text)
    if args.scans:
        print(f"OCR, {args.scans} pages: p50 {statistics.median(wall):.0f} ms, p95 {percentile(wall, 95):.0f} ms per "
              f"page (CPU p50 {statistics.median(cpu):.0f} ms, p95 {percentile(cpu, 95):.0f} ms); "
              f"turned right {turned_right}/{args.scans}; words read exactly in place "
              f"{totals[0] / max(1, totals[1]):.1%}, table cells {totals[2] / max(1, totals[3]):.1%}")


if __name__ == "__main__":
    main()
