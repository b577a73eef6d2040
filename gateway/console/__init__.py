"""The operator console: server-rendered pages over the same rows and domain calls as the API.

``login`` lets operators in and out; every other screen needs a session (``gateway.auth``) and shows
only what its operator may see (``workflows.access``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from gateway.console.applications import applications_console_router
from gateway.console.lists import lists_router
from gateway.console.login import login_router
from gateway.console.registrations import registrations_console_router
from gateway.console.review import review_router
from gateway.console.users import users_console_router
from gateway.console.webhooks import webhooks_console_router

if TYPE_CHECKING:
    from gateway.runtime import Runtime


def console_router(runtime: Runtime) -> APIRouter:
    router = APIRouter()
    router.include_router(login_router(runtime))
    router.include_router(review_router(runtime))
    router.include_router(applications_console_router(runtime))
    router.include_router(lists_router(runtime))
    router.include_router(webhooks_console_router(runtime))
    router.include_router(registrations_console_router(runtime))
    router.include_router(users_console_router(runtime))
    return router
