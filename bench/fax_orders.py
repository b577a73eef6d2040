"""Benchmark: fax orders from legacy buyers, with known truth, through the whole pipeline.

    .venv/bin/python bench/fax_orders.py [--orders 100] [--seed 1] [--show wrong|review|all] [--taught]

Each order is a sample of ``samples/fax_orders.py`` (its mix: about a quarter
text-layer PDFs, the rest faxes of the five layouts — ruled, plain, English,
handwritten, two pages — at fine or normal resolution, skewed up to ±2.5°, speckled,
a tenth upside down, a quarter as G4 TIFF), received now. It is delivered the way a
fax-to-email service delivers it (the sender's number in the subject) into a private
SQLite database whose catalog has the samples' buyers and supplier, and processed by
``workflows.inbound.process`` exactly as a worker does: read, matched, decided.

Printed:
- field accuracy: of the truth's fields (each line's item, quantity and unit, and the
  delivery date), the share the reading got right, whatever the decision;
- the share of orders accepted without a person, and of those, the share with any
  field wrong (target: zero) — what the buyer's confirmation and the supplier's sheet
  would have carried;
- seconds per page from delivery to decision, p50 and p95, and the reasons for review.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from sqlalchemy import select  # noqa: E402

from gateway import intake  # noqa: E402
from parsers.products import alias_key  # noqa: E402
from parsers.units import unit_of  # noqa: E402
from samples import fax_orders as samples  # noqa: E402
from workflows import clock, inbound  # noqa: E402
from workflows.catalog.register import put_product  # noqa: E402
from workflows.config import load_settings  # noqa: E402
from workflows.db import Database  # noqa: E402
from workflows.models import (  # noqa: E402
    Buyer,
    DeliveryAddress,
    FaxOrder,
    InboundMessage,
    OrderLine,
    ProductAlias,
    Supplier,
)


def catalog(db: Database, *, taught: bool) -> None:
    """The samples' buyers and supplier; with ``taught``, every buyer's own names for the products as the
    aliases an operator's corrections of earlier faxes leave (the buyer's second month, not its first fax)."""
    with db.transaction() as session:
        for buyer in samples.BUYERS:
            row = Buyer(name=buyer.name, email=f"order{len(buyer.tel)}@{buyer.tti.lower().replace(' ', '')}.example",
                        fax=buyer.fax_e164)
            session.add(row)
            session.flush()
            session.add(DeliveryAddress(buyer_id=row.id, name="本店", address=buyer.address))
            supplier = Supplier(buyer_id=row.id, name=samples.SUPPLIER_NAME, channel="fax",
                                fax_number=samples.SUPPLIER_FAX)
            session.add(supplier)
            session.flush()
            for product in samples.PRODUCTS:
                row_product, _ = put_product(session, supplier.id, {"name": product.name, "unit": product.unit,
                                                                    "unit_price": product.price})
                keys = {alias_key(written): written for written in samples.written_variants(product.name)} \
                    if taught else {}
                session.add_all(ProductAlias(buyer_id=row.id, alias_key=key, alias=written,
                                             product_id=row_product.id) for key, written in keys.items())


def delivery(sample: samples.Sample) -> bytes:
    number = samples.buyer(sample.truth.buyer).fax
    message = EmailMessage()
    message["From"] = "fax@service.example"
    message["To"] = "fax-orders@torii.bench"
    message["Subject"] = f"FAX受信 送信元:{number}"
    message.set_content("FAXを受信しました。")
    maintype, subtype = sample.content_type.split("/")
    message.add_attachment(sample.data, maintype=maintype, subtype=subtype, filename=sample.filename)
    return message.as_bytes()


def same_unit(read: str | None, truth: str) -> bool:
    a, b = unit_of(read or ""), unit_of(truth)
    return (a.code == b.code) if a and b else (read or "") == truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--show", choices=("wrong", "review", "all"), default="wrong")
    parser.add_argument("--taught", action="store_true",
                        help="the buyers' own names for the products already taught as aliases")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="torii-bench-fax-orders-"))
    db = Database(f"sqlite:///{home / 'bench.sqlite3'}")
    db.upgrade_schema()
    settings = replace(load_settings(), home=home, database_url=db.url, mail_domain="torii.bench",
                       fax_order_address="fax-orders@torii.bench")
    catalog(db, taught=args.taught)

    fields = Counter[str]()
    right = Counter[str]()
    per_page: list[float] = []
    reasons = Counter[str]()
    layouts = Counter[str]()
    accepted = wrong_accepted = 0
    now = clock.now().astimezone(clock.TOKYO)
    for index, item in enumerate(samples.plan(args.orders, args.seed)):
        # Received now, so that dates such as 明日 and the order's desired date are in the future.
        rng_received = now - timedelta(minutes=index)
        truth = samples.make_order(__import__("random").Random(item.render_seed + "/now"), item.truth.layout,
                                   received_at=rng_received, with_date=item.truth.delivery_date is not None)
        sample = samples.render_planned(replace(item, truth=truth))
        stored = intake.store(db, delivery(sample), channel="smtp", mail_from="fax@service.example",
                              rcpt_tos=["fax-orders@torii.bench"])
        started = time.perf_counter()
        inbound.process(db, settings, stored.id)
        elapsed = time.perf_counter() - started
        with db.sessions() as session:
            row = session.get(InboundMessage, stored.id)
            assert row is not None
            found = session.get(FaxOrder, row.object_id) if row.object_id else None
            assert found is not None, row.reason
            lines = found.reading.get("lines", [])
            date_read = (found.reading.get("fields", {}).get("delivery_date") or {}).get("value")
            placed = [(line.product_name, line.quantity) for line in session.scalars(
                select(OrderLine).where(OrderLine.order_id == found.order_id).order_by(OrderLine.position))] \
                if found.order_id else []
            per_page.extend([elapsed / max(1, found.page_count)] * max(1, found.page_count))
            state, reason = found.state, found.reason or ""
        problems = []
        for n, want in enumerate(truth.lines):
            got = lines[n] if n < len(lines) else None
            ok_item = got is not None and got["product"]["name"] == want.product
            ok_qty = got is not None and got["quantity"]["value"] is not None and \
                Decimal(got["quantity"]["value"]) == want.quantity
            ok_unit = got is not None and same_unit((got["unit"] or {}).get("value") or got["product_unit"], want.unit)
            for name, ok in (("item", ok_item), ("quantity", ok_qty), ("unit", ok_unit)):
                fields[name] += 1
                right[name] += ok
                if not ok:
                    problems.append(f"line {n + 1} {name}: {want.written!r} {want.quantity}{want.written_unit} read as "
                                    f"{(got or {}).get('item', {}).get('text')!r} "
                                    f"{(got or {}).get('quantity', {}).get('value')}")
        fields["date"] += 1
        want_date = truth.delivery_date.isoformat() if truth.delivery_date else None
        right["date"] += date_read == want_date
        if date_read != want_date:
            problems.append(f"date {truth.date_written!r} read as {date_read}")
        if len(lines) > len(truth.lines):
            problems.append(f"{len(lines) - len(truth.lines)} line(s) too many")
        layouts[f"{truth.layout}/{sample.source}"] += 1
        if state in ("accepted", "confirmation_sent"):
            accepted += 1
            layouts[f"{truth.layout}/{sample.source} accepted"] += 1
            truth_lines = [(want.product, want.quantity) for want in truth.lines]
            if placed != truth_lines or (truth.delivery_date and date_read != want_date):
                wrong_accepted += 1
                print(f"WRONG ACCEPTED {sample.name}: {problems}")
        else:
            for part in reason.split("; "):
                # "line 3: 'ﾀﾏｺﾞ' is not a product ..." counts as "is not a product".
                reasons[re.sub(r"^line \d+: |'[^']*'|\([^)]*\)|[\d.]+", "", part).strip()[:50]] += 1
            if args.show in ("review", "all"):
                print(f"review {sample.name}: {reason[:300]}")
        if args.show == "all" and problems:
            print(f"  {sample.name} {state}: {problems[:6]}")

    total = args.orders
    print(f"\n{total} fax orders (seed {args.seed}), {len(per_page)} pages"
          f"{', the buyers’ names for the products taught' if args.taught else ''}")
    print("field accuracy: " + ", ".join(f"{name} {right[name] / fields[name]:.1%} ({right[name]}/{fields[name]})"
                                         for name in ("item", "quantity", "unit", "date")))
    print(f"auto-accepted: {accepted / total:.1%} ({accepted}); wrong among accepted: "
          f"{(wrong_accepted / accepted if accepted else 0):.1%} ({wrong_accepted})")
    per_page.sort()
    print(f"seconds per page: p50 {statistics.median(per_page):.2f}, "
          f"p95 {per_page[int(0.95 * (len(per_page) - 1))]:.2f}")
    print("by layout/source: " + ", ".join(f"{k} {v}" for k, v in sorted(layouts.items())))
    print("review reasons: " + "; ".join(f"{k} ×{v}" for k, v in reasons.most_common(10)))
    db.dispose()


if __name__ == "__main__":
    main()
