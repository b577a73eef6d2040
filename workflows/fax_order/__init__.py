"""Fax orders from legacy buyers: ``received → parsed → needs_review | accepted → confirmation_sent``.

A buyer off the platform faxes an order, on the gateway's own order form (``forms``)
or on its own sheet. Reading happens in two halves: ``pages.read_delivery`` (slow, no
database: the pages, the form's fields or the free-form reading of the words) and
``intake.take`` (in the message's transaction: who sent it, which supplier it is for,
which product each line names, in what unit, for which day; then the decision).

When every field is sure the order is placed and the buyer is sent a confirmation
(``confirmation``); anything unsure goes to ``needs_review``, where an operator
corrects and accepts it or discards it (``acceptance``). The same pages faxed again
within ``duplicates.DUPLICATE_DAYS`` change nothing. The state table is ``states``;
``matching`` matches the lines to the supplier's products and says what is unsure.

The package is where the registry, the API and the inbound pipeline find the workflow,
so it names its operations.
"""

from workflows.fax_order.acceptance import accept, discard
from workflows.fax_order.confirmation import after_delivery, after_fax
from workflows.fax_order.forms import form_spec, issue_form
from workflows.fax_order.intake import Taken, take
from workflows.fax_order.pages import FaxPages, read_delivery
from workflows.fax_order.states import MACHINE, OBJECT_TYPE, fire

__all__ = [
    "MACHINE", "OBJECT_TYPE", "FaxPages", "Taken", "accept", "after_delivery", "after_fax", "discard", "fire",
    "form_spec", "issue_form", "read_delivery", "take",
]
