"""Logging: human lines on a terminal, JSON lines for a log collector, with the ids of the work at hand.

``TORII_LOG_FORMAT=json`` makes every ``torii`` command write one JSON object a line (``time``,
``level``, ``logger``, ``process``, ``message``, ``exc_info`` and whatever the log context holds);
anything else, or nothing, keeps the text lines. The variable is read here and not in
``workflows.config``: logging is set up before the settings load, so that a bad setting is logged too.

The log context is what a worker is busy with (``inbound_id``, ``outbound_id``, ``fax_job_id``,
``object_type`` and ``object_id``...): the actors set it around each task (``log_context``) and a
filter on the handler copies it onto every record, so a line logged deep in ``workflows`` says which
message it is about without the code there passing ids to its loggers.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import IO, Any

from pythonjsonlogger.json import JsonFormatter

FORMAT_ENV = "TORII_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"
NOISY = ("dramatiq", "mail.log", "uvicorn.access", "httpx", "alembic")

_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("torii_log_context", default=MappingProxyType({}))


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Within the block, every record carries these ids (None values are left out)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{key: value for key, value in ids.items() if value is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def bind_log_context(**ids: Any) -> None:
    """Add ids learnt halfway through a task (the object a loaded row belongs to) until its block ends.

    Outside any ``log_context`` block it adds nothing: there is no end at which the ids would go, and they
    would be carried by every later line of the thread (a task called directly, as tests and the CLI do).
    """
    current = _CONTEXT.get()
    if isinstance(current, dict):  # the block's own copy; the default outside blocks is read-only
        current.update({key: value for key, value in ids.items() if value is not None})


def current_log_context() -> dict[str, Any]:
    return dict(_CONTEXT.get())


class ContextFilter(logging.Filter):
    """Copies the log context onto each record; what the call itself passed as ``extra`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter("{levelname}{name}{process}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False)


def wants_json() -> bool:
    return os.environ.get(FORMAT_ENV, "").strip().lower() == "json"


def make_handler(stream: IO[str] | None = None, json: bool | None = None) -> logging.Handler:
    """A handler writing text or JSON lines (``json=None``: as TORII_LOG_FORMAT says), with the context."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter() if (wants_json() if json is None else json)
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(verbose: bool) -> None:
    # Like basicConfig, nothing changes when the process has handlers already (a test runner's).
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[make_handler()])
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
