"""The ordering catalog (manual 004): buyers, their delivery addresses, their suppliers, and products.

A buyer (事業者) has one or more delivery addresses (お届け先) and orders from suppliers
off the platform (FAX・メール発注先), each reached by fax or mail. A supplier belongs to
one buyer, one name per buyer. Products are **managed by name**: registering a product
whose name exists, as ``parsers.normalize.name_key`` sees it (``ﾄﾏﾄ`` is ``トマト``),
overwrites it.

Suppliers, delivery addresses and products can be bulk-registered from CSV
(``import_csv``): UTF-8 with or without BOM, or CP932 (Excel's "CSV" in Japan), with a
header row in Japanese or English. Every row is checked before anything is written;
one wrong row refuses the whole file with ``CsvImportRefused``, which lists each error
with the row number a spreadsheet shows (the header is row 1) and the column.

Errors: ``InvalidRequest`` for a bad body (``CsvImportRefused`` is one, carrying the
rows), ``NotFound`` for an unknown buyer or supplier.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from parsers.fax_numbers import BadFaxNumber, normalize_fax_number
from parsers.normalize import name_key
from workflows.errors import InvalidRequest, NotFound
from workflows.models import Buyer, DeliveryAddress, Product, Supplier

log = logging.getLogger(__name__)

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 10_000  # data rows, the header not counted
MAX_LISTED_ERRORS = 1_000  # beyond this a refusal says how many more there are
MAX_YEN = 999_999_999

_Named = TypeVar("_Named", Supplier, DeliveryAddress)


class Channel(StrEnum):
    """How a supplier prefers to receive orders."""

    FAX = "fax"
    MAIL = "mail"


class ImportKind(StrEnum):
    SUPPLIERS = "suppliers"
    DELIVERY_ADDRESSES = "delivery_addresses"
    PRODUCTS = "products"


class CsvEncoding(StrEnum):
    UTF8 = "utf-8"
    UTF8_BOM = "utf-8-sig"
    CP932 = "cp932"  # Shift_JIS as Windows writes it, with NEC and IBM extensions (①, ㈱, 髙)


@dataclass(frozen=True)
class RowError:
    """One thing wrong in a CSV file. ``row`` is 1-based with the header as row 1; None: the whole file."""

    row: int | None
    column: str | None  # the column's header as the file writes it; None: the whole row
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.message}"


class CsvImportRefused(InvalidRequest):
    """Raised by ``import_csv`` when any row is wrong; nothing was written. ``errors`` lists every one
    (at most ``MAX_LISTED_ERRORS``; ``total`` counts them all)."""

    def __init__(self, kind: str, errors: Sequence[RowError], *, encoding: str | None, total: int | None = None
                 ) -> None:
        self.kind = kind
        self.errors = tuple(errors)
        self.encoding = encoding
        self.total = len(self.errors) if total is None else total
        first = str(self.errors[0]) if self.errors else "no rows"
        more = f" (and {self.total - 1} more {'error' if self.total == 2 else 'errors'})" if self.total > 1 else ""
        super().__init__(f"{kind} CSV not imported, nothing was written: {first}{more}")

    def as_json(self) -> dict[str, Any]:
        return {"error": str(self), "kind": self.kind, "encoding": self.encoding, "total": self.total,
                "rows": [e.as_json() for e in self.errors]}


@dataclass(frozen=True)
class ImportResult:
    """What a good file did. A name repeated in a products file counts once (the last row wins)."""

    kind: str
    encoding: str
    rows: int  # data rows read, blank ones not counted
    created: int
    updated: int
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "encoding": self.encoding, "rows": self.rows, "created": self.created,
                "updated": self.updated, "notes": list(self.notes)}


# -- field checks ------------------------------------------------------------------------------
# Each check takes a raw value (a JSON value or a CSV cell) and returns it clean, or raises _Bad.
# The same checks serve the API and CSV: only how a problem is reported differs.


class _Bad(ValueError):
    """A value is wrong; the message says what, without naming the field."""


Check = Callable[[object], Any]


def _str(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad("must be text")
    return value.strip()  # str.strip takes the ideographic space (U+3000) too


def _text(max_len: int, *, required: bool = False, multiline: bool = False) -> Check:
    def check(value: object) -> str:
        text = _str(value)
        if required and not text:
            raise _Bad("is required")
        if not multiline and ("\n" in text or "\r" in text):
            raise _Bad("must be one line (an unclosed \" quote in a CSV file makes a cell run on)")
        if len(text) > max_len:
            raise _Bad(f"is longer than {max_len} characters")
        return text.replace("\r\n", "\n")
    return check


def _name(value: object) -> str:
    name: str = _text(255, required=True)(value)
    if not name_key(name):
        raise _Bad("is required")
    if len(name_key(name)) > 255:
        raise _Bad("is longer than 255 characters once normalized")
    return name


def _email(*, required: bool = False) -> Check:
    def check(value: object) -> str | None:
        text = unicodedata.normalize("NFKC", _str(value))  # ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ from an IME
        if not text:
            if required:
                raise _Bad("is required")
            return None
        # The rule of workflows.invitation: local@domain.tld, no spaces.
        local, at, domain = text.rpartition("@")
        if not at or not local or "." not in domain or " " in text or len(text) > 320:
            raise _Bad(f"{text!r} is not an email address")
        return text
    return check


def _fax(value: object) -> str | None:
    text = _str(value)
    if not text:
        return None
    try:
        return normalize_fax_number(text)
    except BadFaxNumber as exc:
        digits = unicodedata.normalize("NFKC", text)
        hint = (" (a spreadsheet may have dropped the leading 0: format the column as text)"
                if digits.isdigit() and len(digits) in (9, 10) else "")
        raise _Bad(f"{exc}{hint}") from exc


def _fold(value: str) -> str:
    return re.sub(r"[\s_\-・]", "", unicodedata.normalize("NFKC", value)).casefold()


_CHANNELS = {
    **dict.fromkeys(["fax", "ファックス", "ファクス", "ファクシミリ"], Channel.FAX),
    **dict.fromkeys(["mail", "email", "メール", "eメール", "電子メール"], Channel.MAIL),
}


def _channel(value: object) -> Channel | None:
    text = _str(value)
    if not text:
        return None
    found = _CHANNELS.get(_fold(text))
    if found is None:
        raise _Bad(f"{text!r} is not a channel: write FAX or メール (fax or mail)")
    return found


_LANGUAGE_WORDS = {"ja": "ja", "jp": "ja", "日本語": "ja", "japanese": "ja",
                   "en": "en", "英語": "en", "english": "en"}


def _language(value: object) -> str | None:
    text = _str(value)
    if not text:
        return None
    found = _LANGUAGE_WORDS.get(_fold(text))
    if found is None:
        raise _Bad(f"{text!r} is not a language: ja or en (日本語 or 英語)")
    return found


def _yen(value: object) -> int | None:
    """Whole yen: 1200, "1,200", "１，２００", "¥1,200", "1200円"; None or "" for no price."""
    if isinstance(value, bool):
        raise _Bad("must be a price in yen")
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise _Bad(f"{value} is not a price in whole yen")
        amount = int(value)
    else:
        text = _str(value)
        if not text:
            return None
        # NFKC makes ￥ into ¥; CP932 files carry the yen sign as a backslash (0x5C).
        digits = re.sub(r"[\s¥\\円]|^JPY", "", unicodedata.normalize("NFKC", text), flags=re.I)
        if not re.fullmatch(r"\d+|\d{1,3}(,\d{3})+", digits):  # commas only as thousands separators
            raise _Bad(f"{text!r} is not a price in whole yen (write 1200, 1,200 or ¥1,200)")
        amount = int(digits.replace(",", ""))
    if not 0 <= amount <= MAX_YEN:
        raise _Bad(f"{amount} is not a price in yen between 0 and {MAX_YEN:,}")
    return amount


def _postal_code(value: object) -> str:
    text = unicodedata.normalize("NFKC", _str(value)).lstrip("〒").strip()
    if re.fullmatch(r"\d{7}", text):
        text = f"{text[:3]}-{text[3:]}"
    if len(text) > 16 or "\n" in text:
        raise _Bad(f"{text!r} is not a postal code")
    return text


def _phone(value: object) -> str:
    text = unicodedata.normalize("NFKC", _str(value))
    if len(text) > 32 or "\n" in text:
        raise _Bad(f"{text!r} is not a phone number")
    return text


@dataclass(frozen=True)
class _Form:
    """The fields of one kind of record, their checks, and the checks across fields."""

    fields: Mapping[str, Check]
    across: Callable[[dict[str, Any]], list[tuple[str, str]]] = lambda _clean: []

    def clean(self, values: Mapping[str, object]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The clean values, and (field, message) for each problem."""
        clean: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for field, check in self.fields.items():
            try:
                clean[field] = check(values.get(field))
            except _Bad as exc:
                problems.append((field, str(exc)))
        return clean, problems + self.across(clean)  # `across` skips fields whose own check failed


def _supplier_across(clean: dict[str, Any]) -> list[tuple[str, str]]:
    if not {"channel", "fax", "email"} <= clean.keys():
        return []
    fax, email, channel = clean["fax"], clean["email"], clean["channel"]
    if channel is None:
        if fax and email:
            return [("channel", "both a fax number and an email are given: say which to send orders by "
                                "(FAX or メール)")]
        if not fax and not email:
            return [("fax", "a supplier needs a fax number or an email address")]
        clean["channel"] = Channel.FAX if fax else Channel.MAIL
    elif channel == Channel.FAX and not fax:
        return [("fax", "orders go by fax (channel FAX) but no fax number is given")]
    elif channel == Channel.MAIL and not email:
        return [("email", "orders go by mail (channel メール) but no email address is given")]
    return []


BUYER = _Form({"name": _name, "email": _email(required=True), "phone": _phone, "fax": _fax,
               "language": _language})
ADDRESS = _Form({"name": _name, "postal_code": _postal_code, "address": _text(2000, required=True, multiline=True),
                 "phone": _phone, "recipient": _text(255)})
SUPPLIER = _Form({"name": _name, "contact_name": _text(255), "email": _email(), "fax": _fax, "channel": _channel,
                  "language": _language}, _supplier_across)
PRODUCT = _Form({"name": _name, "unit": _text(32), "unit_price": _yen, "note": _text(2000, multiline=True)})


def _clean_body(form: _Form, body: object, *, where: str = "", extra: Sequence[str] = ()) -> dict[str, Any]:
    """An API body checked against a form; unknown keys are refused so that a typo loses nothing."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"{where or 'the body'} must be an object")
    unknown = sorted(set(body) - set(form.fields) - set(extra))
    problems = [(key, f"unknown field; the fields are {', '.join(form.fields)}") for key in unknown]
    clean, found = form.clean(body)
    problems += found
    if problems:
        raise InvalidRequest("; ".join(f"{where}{field}: {message}" for field, message in problems))
    return clean


# -- lookups and JSON --------------------------------------------------------------------------


def get_buyer(session: Session, buyer_id: int, *, for_update: bool = False) -> Buyer:
    # FOR UPDATE (PostgreSQL): catalog writes of one buyer take turns, so name checks hold until commit.
    buyer = session.get(Buyer, buyer_id, with_for_update=True if for_update else None)
    if buyer is None:
        raise NotFound(f"buyer {buyer_id} does not exist")
    return buyer


def get_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = session.get(Supplier, supplier_id)
    if supplier is None:
        raise NotFound(f"supplier {supplier_id} does not exist")
    return supplier


def addresses_of(session: Session, buyer_id: int) -> list[DeliveryAddress]:
    return list(session.scalars(select(DeliveryAddress).where(DeliveryAddress.buyer_id == buyer_id)
                                .order_by(DeliveryAddress.id)))


def suppliers_of(session: Session, buyer_id: int) -> list[Supplier]:
    return list(session.scalars(select(Supplier).where(Supplier.buyer_id == buyer_id).order_by(Supplier.id)))


def products_of(session: Session, supplier_id: int) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.supplier_id == supplier_id).order_by(Product.id)))


def product_by_name(session: Session, supplier_id: int, name: str) -> Product | None:
    """The supplier's product of that name, however it is typed (full-width, half-width kana, case)."""
    return session.scalars(select(Product).where(Product.supplier_id == supplier_id,
                                                 Product.name_key == name_key(name))).first()


def address_json(address: DeliveryAddress) -> dict[str, Any]:
    return {"id": address.id, "buyer_id": address.buyer_id, "name": address.name,
            "postal_code": address.postal_code, "address": address.address, "phone": address.phone,
            "recipient": address.recipient}


def product_json(product: Product) -> dict[str, Any]:
    return {"id": product.id, "supplier_id": product.supplier_id, "name": product.name, "unit": product.unit,
            "unit_price": product.unit_price, "note": product.note}


def supplier_json(supplier: Supplier, products: Sequence[Product] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": supplier.id, "buyer_id": supplier.buyer_id, "name": supplier.name,
        "contact_name": supplier.contact_name, "email": supplier.email, "fax": supplier.fax_number,
        "channel": supplier.channel, "language": supplier.language,
    }
    if products is not None:
        data["products"] = [product_json(p) for p in products]
    return data


def buyer_json(buyer: Buyer, addresses: Sequence[DeliveryAddress] | None = None,
               suppliers: Sequence[Supplier] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": buyer.id, "created_at": buyer.created_at.isoformat() if buyer.created_at else None,
        "name": buyer.name, "email": buyer.email, "phone": buyer.phone, "fax": buyer.fax,
        "language": buyer.language,
    }
    if addresses is not None:
        data["delivery_addresses"] = [address_json(a) for a in addresses]
    if suppliers is not None:
        data["suppliers"] = [supplier_json(s) for s in suppliers]
    return data


# -- one at a time (the API) -------------------------------------------------------------------


def create_buyer(session: Session, body: dict[str, Any]) -> Buyer:
    """A buyer from ``{name, email, phone?, fax?, language?: ja|en, delivery_addresses?: [...]}``."""
    clean = _clean_body(BUYER, body, extra=("delivery_addresses",))
    raw_addresses = body.get("delivery_addresses") or []
    if not isinstance(raw_addresses, list):
        raise InvalidRequest("delivery_addresses must be a list")
    addresses = [_clean_body(ADDRESS, raw, where=f"delivery_addresses[{i}].") for i, raw in enumerate(raw_addresses)]
    seen: dict[str, int] = {}
    for i, address in enumerate(addresses):
        first = seen.setdefault(name_key(address["name"]), i)
        if first != i:
            raise InvalidRequest(f"delivery_addresses[{i}].name: same name as delivery_addresses[{first}]")
    if session.scalars(select(Buyer.id).where(Buyer.name == clean["name"])).first() is not None:
        raise InvalidRequest(f"name: a buyer named {clean['name']!r} already exists")
    buyer = Buyer(name=clean["name"], email=clean["email"], phone=clean["phone"], fax=clean["fax"] or "",
                  language=clean["language"] or "ja")
    session.add(buyer)
    session.flush()
    for address in addresses:
        session.add(DeliveryAddress(buyer_id=buyer.id, **address))
    session.flush()
    log.info("buyer %s created with %s delivery addresses", buyer.id, len(addresses))
    return buyer


def add_delivery_address(session: Session, buyer_id: int, body: dict[str, Any]) -> DeliveryAddress:
    """A delivery address ``{name, address, postal_code?, phone?, recipient?}``; names are unique per buyer."""
    get_buyer(session, buyer_id, for_update=True)
    clean = _clean_body(ADDRESS, body)
    if _by_key(addresses_of(session, buyer_id)).get(name_key(clean["name"])):
        raise InvalidRequest(f"name: this buyer already has a delivery address named {clean['name']!r}")
    address = DeliveryAddress(buyer_id=buyer_id, **clean)
    session.add(address)
    session.flush()
    log.info("delivery address %s added to buyer %s", address.id, buyer_id)
    return address


def add_supplier(session: Session, buyer_id: int, body: dict[str, Any]) -> Supplier:
    """A supplier ``{name, channel?: fax|mail, fax?, email?, contact_name?, language?}``.

    The fax number is stored in E.164. ``channel`` may be left out when only one of fax and email is given.
    """
    buyer = get_buyer(session, buyer_id, for_update=True)
    clean = _clean_body(SUPPLIER, body)
    if _by_key(suppliers_of(session, buyer_id)).get(name_key(clean["name"])):
        raise InvalidRequest(f"name: this buyer already has a supplier named {clean['name']!r}")
    supplier = Supplier(buyer_id=buyer_id, **_supplier_columns(clean, buyer))
    session.add(supplier)
    session.flush()
    log.info("supplier %s (%s) added to buyer %s", supplier.id, supplier.channel, buyer_id)
    return supplier


def put_product(session: Session, supplier_id: int, body: dict[str, Any]) -> tuple[Product, bool]:
    """Register ``{name, unit?, unit_price?: yen or null, note?}``; True when created.

    A product of the same name (as ``name_key`` sees it) is overwritten whole: its name takes the new
    spelling and fields left out are cleared. Its id stays, so order lines keep pointing at it.
    """
    supplier = get_supplier(session, supplier_id)
    get_buyer(session, supplier.buyer_id, for_update=True)  # one catalog writer per buyer
    clean = _clean_body(PRODUCT, body)
    product = product_by_name(session, supplier_id, clean["name"])
    created = product is None
    if product is None:
        product = Product(supplier_id=supplier_id)
        session.add(product)
    _set_product(product, clean)
    session.flush()
    log.info("product %s %s for supplier %s", product.id, "created" if created else "overwritten", supplier_id)
    return product, created


def _by_key(rows: Sequence[_Named]) -> dict[str, _Named]:
    return {name_key(row.name): row for row in rows}


def _supplier_columns(clean: Mapping[str, Any], buyer: Buyer) -> dict[str, Any]:
    return {"name": clean["name"], "contact_name": clean["contact_name"], "email": clean["email"],
            "fax_number": clean["fax"], "channel": str(clean["channel"]),
            "language": clean["language"] or buyer.language}


def _set_product(product: Product, clean: Mapping[str, Any]) -> None:
    product.name = clean["name"]
    product.name_key = name_key(clean["name"])
    product.unit = clean["unit"]
    product.unit_price = clean["unit_price"]
    product.note = clean["note"]


# -- CSV bulk import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    field: str
    label: str  # how messages name the column when the file does not have it
    aliases: tuple[str, ...]  # compared after _header_key: width, case, spaces, "(円)" and "※" do not matter


_COLUMNS: dict[ImportKind, tuple[_Column, ...]] = {
    ImportKind.SUPPLIERS: (
        _Column("name", "発注先名", ("発注先名", "発注先", "仕入先名", "仕入先", "取引先名", "取引先", "会社名",
                                    "name", "supplier", "suppliername")),
        _Column("fax", "FAX番号", ("FAX番号", "FAX", "ファックス番号", "ファクス番号", "fax", "faxnumber", "faxno")),
        _Column("email", "メールアドレス", ("メールアドレス", "メール", "Eメール", "email", "emailaddress", "mail")),
        _Column("channel", "送信方法", ("送信方法", "発注方法", "送信手段", "連絡方法", "channel", "method",
                                      "sendby")),
        _Column("contact_name", "担当者", ("担当者", "担当者名", "ご担当者", "contact", "contactname",
                                        "contactperson")),
        _Column("language", "言語", ("言語", "language", "lang")),
    ),
    ImportKind.DELIVERY_ADDRESSES: (
        _Column("name", "お届け先名", ("お届け先名", "お届け先", "届け先名", "届け先", "納品先名", "納品先", "name",
                                      "deliveryaddress", "addressname")),
        _Column("postal_code", "郵便番号", ("郵便番号", "〒", "postalcode", "postcode", "zip", "zipcode")),
        _Column("address", "住所", ("住所", "所在地", "address")),
        _Column("phone", "電話番号", ("電話番号", "電話", "TEL", "phone", "phonenumber", "tel")),
        _Column("recipient", "受取人", ("受取人", "受取人名", "受取担当者", "recipient")),
    ),
    ImportKind.PRODUCTS: (
        _Column("supplier", "発注先名", ("発注先名", "発注先", "仕入先名", "仕入先", "取引先名", "取引先", "supplier",
                                        "suppliername")),
        _Column("name", "商品名", ("商品名", "品名", "商品", "品目", "name", "product", "productname", "item")),
        _Column("unit", "単位", ("単位", "unit")),
        _Column("unit_price", "単価", ("単価", "価格", "unitprice", "price")),
        _Column("note", "備考", ("備考", "メモ", "note", "notes", "remarks", "memo")),
    ),
}
_REQUIRED: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.SUPPLIERS: ("name",),
    ImportKind.DELIVERY_ADDRESSES: ("name", "address"),
    ImportKind.PRODUCTS: ("supplier", "name"),
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAGIC = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or a zip file"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF"),
    (b"\xff\xfe", "UTF-16 text (Excel's \"Unicode text\")"),
    (b"\xfe\xff", "UTF-16 text"),
)


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|[*※]", "", text)  # 単価(円), 発注先名※, 【必須】
    return _fold(text)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


class _FileProblem(Exception):
    def __init__(self, message: str, row: int | None = None, encoding: CsvEncoding | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.encoding = encoding


def decode_csv(data: bytes) -> tuple[CsvEncoding, str]:
    """The file's text: UTF-8 (a BOM is noted and dropped) when it decodes strictly, else CP932.

    Raises ``_FileProblem`` for what is no CSV text at all: too big, empty, a workbook, binary.
    """
    if len(data) > MAX_CSV_BYTES:
        raise _FileProblem(f"the file is {size_text(len(data))}; at most {size_text(MAX_CSV_BYTES)} "
                           f"can be imported at once: split it")
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _FileProblem(f"the file is {what}, not CSV: save it as \"CSV UTF-8\" or \"CSV\" and send that")
    if not data.strip(b" \t\r\n\x1a").removeprefix(b"\xef\xbb\xbf").strip():
        raise _FileProblem("the file is empty")
    if b"\x00" in data:
        raise _FileProblem("the file is binary, not CSV text")
    encoding = CsvEncoding.UTF8_BOM if data.startswith(b"\xef\xbb\xbf") else CsvEncoding.UTF8
    try:
        text = data.decode(encoding.value)
    except UnicodeDecodeError as not_utf8:
        if _mostly_utf8(data):
            raise _FileProblem(f"the file is UTF-8 but line {_line_of(data, not_utf8.start)} has bytes that are "
                               f"not UTF-8: is the file damaged?") from not_utf8
        try:
            text = data.decode(CsvEncoding.CP932.value)
        except UnicodeDecodeError as exc:
            raise _FileProblem(f"the file is neither UTF-8 nor Shift_JIS (CP932): line {_line_of(data, exc.start)} "
                               f"has bytes that are text in neither") from exc
        encoding = CsvEncoding.CP932
    # CP932 maps its user-defined area (外字) and a few stray bytes to private use: no one could read them.
    private = re.search("[\ue000-\uf8ff]", text) if encoding == CsvEncoding.CP932 else None
    if private:
        raise _FileProblem(f"the file is neither UTF-8 nor Shift_JIS (CP932): line "
                           f"{text.count(chr(10), 0, private.start()) + 1} has bytes that are text in neither "
                           f"(or user-defined characters, 外字, which cannot be imported)")
    text = text.rstrip("\x1a")  # an old DOS end-of-file mark
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise _FileProblem(f"line {line} has a control character (U+{ord(control.group()):04X}): "
                           f"the file is binary, not CSV text", encoding=encoding)
    return encoding, text


def size_text(size: int) -> str:
    """``5 MB``, ``5.2 MB``, ``900 bytes``: a size as messages give it."""
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _mostly_utf8(data: bytes) -> bool:
    """True when bytes that are not UTF-8 are a few among many that are: a damaged UTF-8 file, not CP932.

    CP932 text is almost never valid UTF-8 beyond an odd pair of half-width katakana, so in a CP932
    file the invalid sequences outnumber the valid non-ASCII characters.
    """
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return good >= 3 * bad


@dataclass
class _Table:
    """A file read: its header mapped to fields, and its data rows numbered as a spreadsheet shows them."""

    kind: ImportKind
    encoding: CsvEncoding
    header_row: int = 0
    columns: dict[str, int] | None = None  # field → 0-based column index
    headers: list[str] | None = None  # the header cells as written
    rows: list[tuple[int, dict[str, str]]] | None = None

    def label(self, field: str) -> str:
        if self.columns is not None and self.headers is not None and field in self.columns:
            return self.headers[self.columns[field]].strip()
        return next(c.label for c in _COLUMNS[self.kind] if c.field == field)


def _read_table(kind: ImportKind, data: bytes, errors: list[RowError]) -> _Table:
    """Decode, split into records, map the header; file-level problems raise, row problems are appended."""
    try:
        encoding, text = decode_csv(data)
    except _FileProblem as exc:
        raise CsvImportRefused(kind, [RowError(exc.row, None, str(exc))], encoding=exc.encoding) from exc
    table = _Table(kind, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    aliases = {_header_key(alias): column.field for column in _COLUMNS[kind] for alias in column.aliases}
    row = 0
    data_rows: list[tuple[int, dict[str, str]]] = []
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # A quote out of place: where the next row begins cannot be known, so reading stops here.
            errors.append(RowError(row, None, f"the row cannot be read as CSV ({exc}); "
                                              f"check the quotes (\") on this row and the ones above"))
            break
        if not any(cell.strip() for cell in cells):
            continue  # a blank row: spreadsheets keep them, numbering goes on
        if table.columns is None:
            if not _map_header(table, row, cells, aliases, errors):
                raise CsvImportRefused(kind, errors, encoding=encoding)
            continue
        if len(data_rows) >= MAX_CSV_ROWS:
            raise CsvImportRefused(kind, [RowError(row, None, f"the file has more than {MAX_CSV_ROWS:,} rows: "
                                                              f"split it into files of at most {MAX_CSV_ROWS:,}")],
                                   encoding=encoding)
        values = {field: cells[index] if index < len(cells) else "" for field, index in table.columns.items()}
        assert table.headers is not None
        for index, cell in enumerate(cells):
            if cell.strip() and index not in table.columns.values():
                name = table.headers[index].strip() if index < len(table.headers) else ""
                if not name:  # an unknown but named column was reported once, on the header
                    errors.append(RowError(row, f"column {_column_letter(index)}",
                                           "has a value but the column has no header"))
        data_rows.append((row, values))
    if table.columns is None:
        raise CsvImportRefused(kind, errors or [RowError(None, None, "the file has no rows")], encoding=encoding)
    if not data_rows and not errors:
        errors.append(RowError(None, None, "the file has a header but no rows under it"))
    table.rows = data_rows
    return table


def _map_header(table: _Table, row: int, cells: list[str], aliases: Mapping[str, str],
                errors: list[RowError]) -> bool:
    """Map the header's cells to fields; False when the rows cannot be read at all."""
    kind = table.kind
    expected = ", ".join(f"{c.label} ({c.field})" for c in _COLUMNS[kind])
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        if not cell.strip():
            continue
        field = aliases.get(_header_key(cell))
        if field is None:
            unknown.append(cell.strip())
        elif field in columns:
            errors.append(RowError(row, cell.strip(), f"names the same column as {cells[columns[field]].strip()!r}"))
        else:
            columns[field] = index
    if not columns:
        where = "the first row" if row == 1 else f"row {row}, the first that is not blank,"
        errors.append(RowError(row, None, f"no header row: {where} must name the columns: {expected}"))
        return False
    for name in unknown:
        errors.append(RowError(row, name, f"unknown column; the columns are {expected}"))
    missing = [c for c in _COLUMNS[kind] if c.field in _REQUIRED[kind] and c.field not in columns]
    for column in missing:
        errors.append(RowError(row, None, f"missing column {column.label} ({column.field})"))
    table.header_row, table.columns, table.headers = row, columns, cells
    return not missing


def import_csv(session: Session, buyer_id: int, kind: str, data: bytes) -> ImportResult:
    """Register a buyer's suppliers, delivery addresses or products from a CSV file, all rows or none.

    Raises ``CsvImportRefused`` (an ``InvalidRequest``) listing every wrong row, having written nothing;
    ``NotFound`` for an unknown buyer. Rows of an existing name update it: the columns the file has
    are overwritten (an empty cell clears the field), the others are left as they were. A products file
    names each product's supplier, which must already exist; a name repeated in it: the last row wins.
    """
    try:
        import_kind = ImportKind(kind)
    except ValueError:
        raise InvalidRequest(f"kind must be one of {', '.join(ImportKind)}") from None
    buyer = get_buyer(session, buyer_id, for_update=True)
    errors: list[RowError] = []
    table = _read_table(import_kind, data, errors)
    planner = {ImportKind.SUPPLIERS: _plan_suppliers, ImportKind.DELIVERY_ADDRESSES: _plan_addresses,
               ImportKind.PRODUCTS: _plan_products}[import_kind]
    plan = planner(session, buyer, table, errors)
    if errors:
        errors.sort(key=lambda e: (e.row or 0))
        log.info("%s CSV for buyer %s refused: %s errors", import_kind, buyer_id, len(errors))
        raise CsvImportRefused(import_kind, errors[:MAX_LISTED_ERRORS], encoding=table.encoding, total=len(errors))
    created = updated = 0
    for write in plan.writes:
        if write():
            created += 1
        else:
            updated += 1
    session.flush()
    assert table.rows is not None
    result = ImportResult(import_kind.value, table.encoding.value, len(table.rows), created, updated,
                          tuple(plan.notes))
    log.info("%s CSV for buyer %s (%s): %s rows, %s created, %s updated", import_kind, buyer_id,
             table.encoding, result.rows, created, updated)
    return result


@dataclass
class _Plan:
    """What a checked file will do: one callable per record, True when it creates."""

    writes: list[Callable[[], bool]]
    notes: list[str]


def _row_problems(table: _Table, row: int, problems: list[tuple[str, str]]) -> list[RowError]:
    return [RowError(row, table.label(field), message) for field, message in problems]


def _merged(table: _Table, values: dict[str, str], existing: Mapping[str, object] | None) -> dict[str, object]:
    """The row's cells, and for columns the file does not have, what the existing record holds."""
    assert table.columns is not None
    kept = {field: value for field, value in (existing or {}).items() if field not in table.columns}
    return {**kept, **values}


def _plan_suppliers(session: Session, buyer: Buyer, table: _Table, errors: list[RowError]) -> _Plan:
    existing = _by_key(suppliers_of(session, buyer.id))
    seen: dict[str, int] = {}
    plan = _Plan([], [])
    assert table.rows is not None
    for row, values in table.rows:
        key = name_key(values.get("name", ""))
        supplier = existing.get(key)
        current = None if supplier is None else {
            "name": supplier.name, "contact_name": supplier.contact_name, "email": supplier.email,
            "fax": supplier.fax_number, "channel": supplier.channel, "language": supplier.language}
        clean, problems = SUPPLIER.clean(_merged(table, values, current))
        errors.extend(_row_problems(table, row, problems))
        if key and key in seen:
            errors.append(RowError(row, table.label("name"), f"{values['name'].strip()!r} is also on row "
                                                             f"{seen[key]}: each supplier once per file"))
        seen.setdefault(key, row)
        if not problems:
            plan.writes.append(_supplier_write(session, buyer, supplier, clean))
    return plan


def _supplier_write(session: Session, buyer: Buyer, supplier: Supplier | None, clean: dict[str, Any]
                    ) -> Callable[[], bool]:
    def write() -> bool:
        columns = _supplier_columns(clean, buyer)
        if supplier is None:
            session.add(Supplier(buyer_id=buyer.id, **columns))
            return True
        for name, value in columns.items():
            setattr(supplier, name, value)
        return False
    return write


def _plan_addresses(session: Session, buyer: Buyer, table: _Table, errors: list[RowError]) -> _Plan:
    existing = _by_key(addresses_of(session, buyer.id))
    seen: dict[str, int] = {}
    plan = _Plan([], [])
    assert table.rows is not None
    for row, values in table.rows:
        key = name_key(values.get("name", ""))
        address = existing.get(key)
        current = None if address is None else {field: getattr(address, field) for field in ADDRESS.fields}
        clean, problems = ADDRESS.clean(_merged(table, values, current))
        errors.extend(_row_problems(table, row, problems))
        if key and key in seen:
            errors.append(RowError(row, table.label("name"), f"{values['name'].strip()!r} is also on row "
                                                             f"{seen[key]}: each delivery address once per file"))
        seen.setdefault(key, row)
        if not problems:
            plan.writes.append(_address_write(session, buyer, address, clean))
    return plan


def _address_write(session: Session, buyer: Buyer, address: DeliveryAddress | None, clean: dict[str, Any]
                   ) -> Callable[[], bool]:
    def write() -> bool:
        if address is None:
            session.add(DeliveryAddress(buyer_id=buyer.id, **clean))
            return True
        for name, value in clean.items():
            setattr(address, name, value)
        return False
    return write


PRODUCT_ROW = _Form({"supplier": _name, **PRODUCT.fields})


def _plan_products(session: Session, buyer: Buyer, table: _Table, errors: list[RowError]) -> _Plan:
    suppliers = _by_key(suppliers_of(session, buyer.id))
    supplier_ids = [s.id for s in suppliers.values()]
    existing = {(p.supplier_id, p.name_key): p
                for p in session.scalars(select(Product).where(Product.supplier_id.in_(supplier_ids)))}
    chosen: dict[tuple[int, str], tuple[int, dict[str, Any]]] = {}  # the last row of each product wins
    plan = _Plan([], [])
    assert table.rows is not None
    for row, values in table.rows:
        supplier = suppliers.get(name_key(values.get("supplier", "")))
        product = existing.get((supplier.id, name_key(values.get("name", "")))) if supplier else None
        current = None if product is None else {field: getattr(product, field) for field in PRODUCT.fields}
        clean, problems = PRODUCT_ROW.clean(_merged(table, values, current))
        errors.extend(_row_problems(table, row, problems))
        if supplier is None and not any(field == "supplier" for field, _ in problems):
            errors.append(RowError(row, table.label("supplier"),
                                   f"this buyer has no supplier named {clean['supplier']!r}: "
                                   f"register it (or import the suppliers CSV) first"))
            continue
        if problems or supplier is None:
            continue
        key = (supplier.id, name_key(clean["name"]))
        if key in chosen:
            plan.notes.append(f"row {row} overwrites row {chosen[key][0]}: the same product "
                              f"{clean['name']!r} of {supplier.name!r}")
        chosen[key] = (row, clean)
    for product_key, (_row, clean) in chosen.items():
        plan.writes.append(_product_write(session, product_key[0], existing.get(product_key), clean))
    return plan


def _product_write(session: Session, supplier_id: int, product: Product | None, clean: dict[str, Any]
                   ) -> Callable[[], bool]:
    def write() -> bool:
        target = product if product is not None else Product(supplier_id=supplier_id)
        _set_product(target, clean)
        if product is None:
            session.add(target)
        return product is None
    return write
