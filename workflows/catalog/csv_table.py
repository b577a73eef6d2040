"""Reading a catalog CSV file into rows: its encoding, its header, its cells, and what is wrong with it.

A file is UTF-8 with or without BOM, or CP932 (Excel's "CSV" in Japan), comma- or tab-separated,
with a header row in Japanese or English. Errors name the row number a spreadsheet shows (the
header is row 1) and the column as the file writes it, so that whoever made the file can find them.
A problem with the file as a whole refuses it at once; problems of single rows are collected.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from workflows.catalog.fields import fold
from workflows.errors import InvalidRequest

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 10_000  # data rows, the header not counted


class ImportKind(StrEnum):
    SUPPLIERS = "suppliers"
    DELIVERY_ADDRESSES = "delivery_addresses"
    PRODUCTS = "products"
    BUSINESSES = "businesses"
    USERS = "users"  # imported by workflows.users.csv_users: each row is an invitation


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
    ImportKind.BUSINESSES: (
        _Column("name", "事業所名", ("事業所名", "事業所", "事業者名", "事業者", "店舗名", "店舗", "店名", "name",
                                    "business", "businessname", "shop", "store")),
        _Column("email", "メールアドレス", ("メールアドレス", "メール", "Eメール", "email", "emailaddress", "mail")),
        _Column("phone", "電話番号", ("電話番号", "電話", "TEL", "phone", "phonenumber", "tel")),
        _Column("fax", "FAX番号", ("FAX番号", "FAX", "ファックス番号", "ファクス番号", "fax", "faxnumber", "faxno")),
        _Column("language", "言語", ("言語", "language", "lang")),
    ),
    ImportKind.USERS: (
        _Column("email", "メールアドレス", ("メールアドレス", "メール", "Eメール", "email", "emailaddress", "mail")),
        _Column("name", "氏名", ("氏名", "名前", "ユーザー名", "利用者名", "担当者名", "name", "fullname", "username")),
        _Column("role", "権限", ("権限", "役割", "ロール", "role", "permission")),
        _Column("language", "言語", ("言語", "language", "lang")),
    ),
}
_REQUIRED: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.SUPPLIERS: ("name",),
    ImportKind.DELIVERY_ADDRESSES: ("name", "address"),
    ImportKind.PRODUCTS: ("supplier", "name"),
    ImportKind.BUSINESSES: ("name", "email"),
    ImportKind.USERS: ("email",),
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
    return fold(text)


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
class Table:
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


def read_table(kind: ImportKind, data: bytes, errors: list[RowError]) -> Table:
    """Decode, split into records, map the header; file-level problems raise, row problems are appended."""
    try:
        encoding, text = decode_csv(data)
    except _FileProblem as exc:
        raise CsvImportRefused(kind, [RowError(exc.row, None, str(exc))], encoding=exc.encoding) from exc
    table = Table(kind, encoding)
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


def _map_header(table: Table, row: int, cells: list[str], aliases: Mapping[str, str],
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

