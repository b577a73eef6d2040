"""The inbound pipeline: every stored message processed once, to one status with a reason.

The package is where the gateway's workers and API find it, so it names ``process`` and
``resolve``; the steps are modules by concept: ``step`` (what is known, the outcome),
``correlation`` (which object), ``sender`` (is it the partner), ``faxes`` (fax reports,
forms and orders), ``answers`` (read, apply, resolve) and ``pipeline`` (the order of steps).
"""

from workflows.inbound.answers import dismiss, resolve
from workflows.inbound.pipeline import process

__all__ = ["dismiss", "process", "resolve"]
