"""The ordering catalog over HTTP: buyers, businesses, delivery addresses, suppliers, products, CSV import.

Mounted by the web app with ``app.include_router(catalog_router(runtime))``. ``InvalidRequest``
(422) and ``NotFound`` (404) raised here are answered by the app's exception handlers, except a
refused CSV import, answered here with every wrong row::

    422 {"error": "...", "kind": "products", "encoding": "cp932", "total": 2,
         "rows": [{"row": 3, "column": "単価", "message": "'abc' is not a price in whole yen ..."}]}

Handlers are plain ``def`` (FastAPI runs them on its thread pool), except the CSV upload: it reads
the body on the event loop, stopping at the size limit, and runs the import on the thread pool.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gateway.api.shared import Me, session_dependency
from gateway.auth import requires
from gateway.runtime import Runtime
from workflows import catalog
from workflows.access import Level, Principal, get_visible
from workflows.catalog.csv_import import ImportResult
from workflows.catalog.csv_table import MAX_CSV_BYTES, CsvImportRefused, ImportKind, size_text
from workflows.errors import InvalidRequest, NotFound
from workflows.models import Buyer, Supplier

# What clients send a .csv file as; multipart forms and JSON are refused with a hint.
CSV_CONTENT_TYPES = frozenset({"text/csv", "text/plain", "application/csv", "text/comma-separated-values",
                               "application/vnd.ms-excel", "application/octet-stream"})


def file_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "rows": [{"row": None, "column": None, "message": message}]},
                        status_code=status)


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def catalog_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    session_dep = session_dependency(runtime)

    def buyer_detail(session: Session, buyer_id: int) -> dict[str, Any]:
        buyer = catalog.get_buyer(session, buyer_id)
        return catalog.buyer_json(buyer, catalog.addresses_of(session, buyer.id),
                                  catalog.suppliers_of(session, buyer.id), catalog.businesses_of(session, buyer.id))

    @router.post("/api/buyers", status_code=201)
    @requires(Level.ADMIN)
    def create_buyer(me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        if me.scoped:
            raise InvalidRequest(f"{me.actor} is confined to one buyer and cannot add buyers")
        with runtime.db.transaction() as session:
            buyer = catalog.create_buyer(session, body)
            return buyer_detail(session, buyer.id)

    @router.get("/api/buyers/{buyer_id}")
    def get_buyer(buyer_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        get_visible(session, Buyer, buyer_id, "buyer", me)
        return buyer_detail(session, buyer_id)

    @router.post("/api/buyers/{buyer_id}/delivery_addresses", status_code=201)
    def add_delivery_address(buyer_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            get_visible(session, Buyer, buyer_id, "buyer", me)
            return catalog.address_json(catalog.add_delivery_address(session, buyer_id, body))

    @router.post("/api/buyers/{buyer_id}/businesses", status_code=201)
    def add_business(buyer_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """A business of the buyer: its orders' confirmations and partner notices go to its email."""
        with runtime.db.transaction() as session:
            get_visible(session, Buyer, buyer_id, "buyer", me)
            return catalog.business_json(catalog.add_business(session, buyer_id, body))

    @router.post("/api/buyers/{buyer_id}/suppliers", status_code=201)
    def add_supplier(buyer_id: int, me: Me, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with runtime.db.transaction() as session:
            get_visible(session, Buyer, buyer_id, "buyer", me)
            return catalog.supplier_json(catalog.add_supplier(session, buyer_id, body))

    @router.get("/api/suppliers/{supplier_id}")
    def get_supplier(supplier_id: int, me: Me, session: Session = Depends(session_dep)) -> dict[str, Any]:
        supplier = get_visible(session, Supplier, supplier_id, "supplier", me)
        return catalog.supplier_json(supplier, catalog.products_of(session, supplier.id))

    @router.put("/api/suppliers/{supplier_id}/products")
    def put_product(supplier_id: int, response: Response, me: Me, body: dict[str, Any] = Body(...)
                    ) -> dict[str, Any]:
        """Create or overwrite a product by name: 201 when created, 200 when an existing one was overwritten."""
        with runtime.db.transaction() as session:
            get_visible(session, Supplier, supplier_id, "supplier", me)
            product, created = catalog.put_product(session, supplier_id, body)
            response.status_code = 201 if created else 200
            return catalog.product_json(product) | {"created": created}

    def run_import(buyer_id: int, kind: str, data: bytes, me: Principal) -> ImportResult:
        with runtime.db.transaction() as session:
            get_visible(session, Buyer, buyer_id, "buyer", me)
            return catalog.import_csv(session, buyer_id, kind, data)

    @router.post("/api/buyers/{buyer_id}/import/{kind}")
    async def import_csv(buyer_id: int, kind: str, request: Request, me: Me) -> Response:
        """The CSV file itself is the body (Content-Type: text/csv); 200 with counts, or 422 with every error."""
        if kind == ImportKind.USERS:
            raise NotFound(f"users are invited from a CSV file at /api/buyers/{buyer_id}/users/import")
        if kind not in set(ImportKind):
            raise NotFound(f"there is no import of {kind!r}: the kinds are {', '.join(ImportKind)}")
        content_type = request.headers.get("content-type")
        if content_type:
            header = Message()
            header["content-type"] = content_type
            if header.get_content_type() not in CSV_CONTENT_TYPES:
                return file_error(415, f"send the CSV file itself as the body with Content-Type: text/csv, "
                                        f"not {header.get_content_type()}")
        data = await read_body(request, MAX_CSV_BYTES)
        if data is None:
            return file_error(413, f"the file is larger than {size_text(MAX_CSV_BYTES)}: split it")
        try:
            result = await run_in_threadpool(run_import, buyer_id, kind, data, me)
        except CsvImportRefused as exc:
            return JSONResponse(exc.as_json(), status_code=422)
        return JSONResponse(result.as_json())

    return router
