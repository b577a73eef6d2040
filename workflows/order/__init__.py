"""Orders to suppliers off the platform (FAX・メール発注), after manual 004.

A buyer orders from a supplier that is not on the platform. The order sheet
(発注書) goes to the supplier by fax or by mail, per the supplier's channel; the
supplier answers by reply mail in its own words or by faxing the sheet back
with a box ticked: 受注します (confirm), 欠品あり (partial, with the quantity it
can deliver per line) or お受けできません (decline). Every change the supplier
makes reaches the buyer as an order confirmation mail (注文確認), and the
supplier gets an acknowledgement. A fax that fails after its retries falls back
to mail when the supplier has an address; otherwise the order is flagged for an
operator. No answer by ``answer_due_at``: the supplier is reminded and the buyer
told. Once shipped (出荷済) the delivery note (納品書) exists; inspection (検品)
records what arrived per line, and the order is delivered when every line is
inspected. The supplier may change its answer until the order is shipped.

The package is where the API and the registry find the workflow, so it names its
operations; the modules hold them by concept: ``records``, ``notices``, ``values``,
``states``, ``placing``, ``inspection`` and ``follow_up``.
"""

from workflows.order.follow_up import after_delivery, after_fax, overdue_ids, remind
from workflows.order.inspection import UNDELIVERED_STATES, inspect, ship, undelivered_clause, undelivered_lines
from workflows.order.placing import create, place, reorder
from workflows.order.records import OBJECT_TYPE, latest_document, lines_of, total_of
from workflows.order.states import ANSWERS, MACHINE, answer, fire
from workflows.order.values import date_from, parse_quantity

__all__ = [
    "ANSWERS", "MACHINE", "OBJECT_TYPE", "UNDELIVERED_STATES", "after_delivery", "after_fax", "answer", "create",
    "date_from", "fire", "inspect", "latest_document", "lines_of", "overdue_ids", "parse_quantity", "place",
    "remind", "reorder", "ship", "total_of", "undelivered_clause", "undelivered_lines",
]
