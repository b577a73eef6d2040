"""The API's OpenAPI document, with how each operation is authorized.

The app's one guard (``gateway.auth``) is a global dependency FastAPI cannot describe, so the
schema is annotated here from the same rule the guard applies (``required_level``): every operation
lists the Bearer token and the console session as ways in, and ``x-torii-scope`` says the scope it
needs; public ones have an empty ``security``. The console's pages are not part of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.auth import CSRF_HEADER, SESSION_COOKIE, required_level

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "An API token: `torii token create NAME --scope read|write|admin "
                              "[--buyer ID|--issuer COMPANY]`. Reading needs read, changing write, "
                              "webhooks and accounts admin."},
    "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
                "description": f"An operator's console session; anything but GET also needs the "
                               f"session's CSRF token in `{CSRF_HEADER}`."},
}


def documented_schema(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.original_route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path, {}).get(method.lower())
            if operation is None:
                continue
            level = required_level(route.endpoint, method)
            if level is None:
                operation["security"] = []
                operation["x-torii-scope"] = "public"
            else:
                operation["security"] = [{"bearer": []}, {"session": []}]
                operation["x-torii-scope"] = level.name.lower()
                operation.setdefault("responses", {}).update({
                    "401": {"description": "No credential, or one that does not hold"},
                    "403": {"description": f"The credential's scope is below {level.name.lower()}"}})
    app.openapi_schema = schema
    return schema
