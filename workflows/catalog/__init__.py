"""The ordering catalog (manual 004): buyers, their businesses and delivery addresses, their suppliers, products.

A buyer (事業者) has one or more delivery addresses (お届け先) and orders from suppliers
off the platform (FAX・メール発注先), each reached by fax or mail. A buyer (a restaurant group) may have
several businesses, each with its own email address, where its orders' confirmations go. A supplier belongs to
one buyer, one name per buyer. Products are **managed by name**: registering a product
whose name exists, as ``parsers.normalize.name_key`` sees it (``ﾄﾏﾄ`` is ``トマト``),
overwrites it. Suppliers, delivery addresses and products can also be bulk-registered
from CSV (``import_csv``), all rows or none.

Errors: ``InvalidRequest`` for a bad body (``CsvImportRefused`` is one, carrying the
rows), ``NotFound`` for an unknown buyer or supplier.

The package is where the API finds the catalog, so it names the operations; the modules
hold them by concept: ``fields`` (checks), ``lookup`` (queries, JSON), ``register`` (one
at a time), ``csv_table`` (reading a file) and ``csv_import`` (writing its rows).
"""

from workflows.catalog.csv_import import import_csv
from workflows.catalog.csv_table import MAX_CSV_BYTES
from workflows.catalog.lookup import (
    address_json,
    addresses_of,
    business_json,
    businesses_of,
    buyer_json,
    get_buyer,
    get_supplier,
    product_by_name,
    product_json,
    products_of,
    supplier_json,
    suppliers_of,
)
from workflows.catalog.register import add_business, add_delivery_address, add_supplier, create_buyer, put_product

__all__ = [
    "MAX_CSV_BYTES", "add_business", "add_delivery_address", "business_json", "businesses_of",
    "add_supplier", "address_json", "addresses_of", "buyer_json",
    "create_buyer", "get_buyer", "get_supplier", "import_csv", "product_by_name", "product_json", "products_of",
    "put_product", "supplier_json", "suppliers_of",
]
