"""The API fuzzed against its own OpenAPI schema: schemathesis makes requests, valid and invalid, for every
operation; an answer must never be a 5xx, and where the schema declares a body, the body must match it.

Requests carry an admin token, so every check runs past the guard and reaches the handlers; a few objects
(a buyer with a supplier and products, an invitation, an order) are made first, so that small ids find
something. ``tests/gateway/test_api_fuzz.py`` runs it briefly, ``bench/api_fuzz.py`` long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from webapp import WebApp

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@dataclass
class FuzzReport:
    operations: int = 0
    requests: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)  # "POST /api/x (negative)": what went wrong
    timings: dict[str, float] = field(default_factory=dict)  # seconds per operation and mode

    def summary(self) -> str:
        lines = [f"{self.operations} operations, {self.requests} requests in {self.seconds:.1f} s, "
                 f"{len(self.failures)} failing"]
        lines += [f"--- {label}\n{text}" for label, text in self.failures.items()]
        return "\n".join(lines)


def seed_objects(web: WebApp, headers: dict[str, str]) -> None:
    """A buyer with a supplier, products and an order; an invitation: the ids 1 the fuzzer will try."""
    client = web.client(headers=headers)

    def made(response: Any) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    buyer = made(client.post("/api/buyers", json={
        "name": "食堂 ふじ", "email": "orders@fuji.example", "fax": "03-5555-0101",
        "delivery_addresses": [{"name": "本店", "address": "東京都台東区1-2-3"}]}))
    supplier = made(client.post(f"/api/buyers/{buyer['id']}/suppliers", json={
        "name": "青果 まるや", "channel": "mail", "email": "maruya@supplier.example"}))
    made(client.put(f"/api/suppliers/{supplier['id']}/products",
                    json={"name": "トマト", "unit": "ケース", "unit_price": "3200"}))
    made(client.post("/api/orders", json={
        "buyer_id": buyer["id"], "supplier_id": supplier["id"],
        "delivery_address_id": buyer["delivery_addresses"][0]["id"], "orderer_name": "藤田",
        "lines": [{"product_name": "トマト", "quantity": "2"}]}))
    made(client.post("/api/invitations", json={
        "issuer": {"company": "株式会社インフォ商会", "name": "鈴木", "email": "i@issuer.example"},
        "partner": {"company": "株式会社インフォ物産", "name": "山田", "email": "p@partner.example"}}))


def fuzz_api(web: WebApp, examples: int, modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,
                                                                               GenerationMode.NEGATIVE),
             only: str | None = None) -> FuzzReport:
    """Every operation (or those whose path contains ``only``), ``examples`` requests per generation mode."""
    headers = {"Authorization": f"Bearer {web.token('fuzz', 'admin')}"}
    seed_objects(web, headers)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web.app, headers=headers)
    # One in-process client for the whole run: a new one per request costs an event loop thread each.
    client = asgi.get_client(web.app)
    report = FuzzReport()
    began = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        if only is not None and only not in operation.path:
            continue
        report.operations += 1
        for mode in modes:
            label = f"{operation.method.upper()} {operation.path} ({mode.value})"

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate, Phase.shrink],
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                report.requests += 1
                response = case.call(headers=headers, session=client)
                case.validate_response(response, checks=CHECKS, headers=headers)

            started = time.perf_counter()
            try:
                run()
            except Unsatisfiable:
                pass  # no invalid request exists for an operation without parameters (the health probes)
            except (Exception, BaseExceptionGroup) as exc:  # every failing operation is told, not only the first
                report.failures[label] = str(exc)[:3000]
            report.timings[label] = time.perf_counter() - started
    client.close()
    report.seconds = time.perf_counter() - began
    return report
