"""Schemathesis against the API's own OpenAPI schema, with an admin token: no request, valid or not, gets a
5xx, and declared bodies match the schema (``apifuzz``; ``bench/api_fuzz.py`` runs it long)."""

from __future__ import annotations

import os

import pytest

from apifuzz import fuzz_api
from webapp import WebApp


@pytest.mark.slow
def test_no_request_the_schema_allows_or_forbids_gets_a_server_error(web: WebApp) -> None:
    report = fuzz_api(web, examples=int(os.environ.get("TORII_API_FUZZ_EXAMPLES", "12")))
    assert report.operations >= 50, report.summary()
    assert not report.failures, report.summary()


# Found by the fuzzer: an id no column can hold reached the database driver, which raised (500).
@pytest.mark.parametrize("path", ["/api/invitations/99999999999999999999",
                                  "/api/orders/99999999999999999999/documents/order_sheet",
                                  "/api/outbox?object_id=99999999999999999999"])
def test_an_id_beyond_any_column_is_refused_as_bad_input(web: WebApp, path: str) -> None:
    answer = web.api("read").get(path)
    assert answer.status_code == 422, answer.text
    assert "out of range" in answer.json()["error"]


# Found by the fuzzer: raw mails, PDFs and page images were declared as JSON.
def test_answers_of_bytes_are_declared_with_their_media_type(web: WebApp) -> None:
    paths = web.api("read").get("/api/openapi.json").json()["paths"]
    for path, media in (("/api/outbox/{outbound_id}/raw", "message/rfc822"),
                        ("/api/messages/{inbound_id}/raw", "message/rfc822"),
                        ("/api/invitations/{invitation_id}/letter", "application/pdf"),
                        ("/api/orders/{order_id}/documents/{kind}", "application/pdf"),
                        ("/api/fax-orders/{fax_order_id}/pages/{number}", "image/png")):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == [media], path
