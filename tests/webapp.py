"""The web app in-process, on a real database and a runtime with a real Redis, through FastAPI's test client.

``WebApp`` makes operators and tokens on the app's own database and gives clients logged in as them;
``Browser``-like clients keep cookies and send the session's CSRF token the way the console's pages do.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from gateway.runtime import Runtime
from gateway.web import create_app
from harness import private_database
from workflows import accounts, api_tokens
from workflows.config import load_settings

with warnings.catch_warnings():
    # Starlette asks for its httpx fork, which the project does not install; httpx works the same here.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebApp:
    def __init__(self, runtime: Runtime, app: FastAPI) -> None:
        self.runtime = runtime
        self.app = app

    def client(self, **kwargs: Any) -> TestClient:
        kwargs.setdefault("base_url", "http://127.0.0.1")
        return TestClient(self.app, follow_redirects=False, **kwargs)

    def operator(self, name: str, role: str = "operator", password: str = PASSWORD, **confinement: Any) -> None:
        with self.runtime.db.transaction() as session:
            accounts.add_operator(session, name, password, role, **confinement)

    def token(self, name: str, scope: str = "admin", **confinement: Any) -> str:
        with self.runtime.db.transaction() as session:
            return api_tokens.issue_token(session, name, scope, **confinement)[1]

    def api(self, scope: str = "admin", **confinement: Any) -> TestClient:
        """A client calling with a new API token of that scope."""
        secret = self.token(f"{scope}-{len(confinement)}-{id(confinement)}", scope, **confinement)
        return self.client(headers={"Authorization": f"Bearer {secret}"})

    def login(self, name: str, password: str = PASSWORD, client: TestClient | None = None) -> TestClient:
        """A client logged in as the operator, its CSRF token in ``client.headers`` as console.js sends it."""
        client = client or self.client()
        form = client.get("/login")
        token = FORM_TOKEN.search(form.text)
        assert token, form.text
        answer = client.post("/login", data={"name": name, "password": password, "csrf_token": token.group(1),
                                             "next": "/"})
        assert answer.status_code == 303, answer.text
        page = client.get("/account")
        csrf = CSRF_META.search(page.text)
        assert csrf, page.text
        client.headers["X-CSRF-Token"] = csrf.group(1)
        return client


def post_form(client: TestClient, path: str, data: dict[str, str]) -> Any:
    """Post a public page's form as a browser does: open the page, then send the fields with its form token."""
    page = client.get(path)
    found = FORM_TOKEN.search(page.text)
    assert found, page.text
    return client.post(path, data={**data, "csrf_token": found.group(1)})


@contextmanager
def web_app(tmp_path: Path, redis_url: str) -> Iterator[WebApp]:
    with private_database(tmp_path) as database_url:
        runtime = Runtime(replace(load_settings(), home=tmp_path / "home", database_url=database_url,
                                  redis_url=redis_url, redis_namespace=f"web-{tmp_path.name}"))
        runtime.db.upgrade_schema()
        try:
            yield WebApp(runtime, create_app(runtime))
        finally:
            runtime.close()
