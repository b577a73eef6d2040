"""The codes printed on the order's paper: ``TORII-ORD-<order id>-<check>`` and ``TORII-FRM-<form id>-<check>``.

An order sheet's reference names its order, a buyer's order form's names the form
(``workflows.models.BuyerForm``); both are HMACs of the ID, like the invitations'
(``workflows.references``). Every page prints its page code, the reference and the
page (``TORII-ORD-123-K7M2PX-01A``); the page's check needs no secret: it catches an
OCR misreading of the page number, not a forgery (a forged page of a genuine order
gains nothing the supplier could not write).
"""

from __future__ import annotations

from workflows.references import ReferenceScheme

ORDER_REFERENCES = ReferenceScheme("ORD", "torii-order-reference")
FORM_REFERENCES = ReferenceScheme("FRM", "torii-form-reference")

# The schemes' operations by the names the order's callers know them by.
order_reference = ORDER_REFERENCES.make
parse_order_reference = ORDER_REFERENCES.parse_any  # the order ID; a page code names its order too
parse_page_code = ORDER_REFERENCES.parse_page_code  # (order ID, page)
buyer_form_reference = FORM_REFERENCES.make
parse_buyer_form_reference = FORM_REFERENCES.parse_any  # the form ID; a form page code names its form too
parse_buyer_form_page_code = FORM_REFERENCES.parse_page_code  # (form ID, page)
