"""The ordering catalog: buyers, suppliers, products by name, and CSV import, all rows or none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from samples.compose import SAMPLES
from workflows import catalog
from workflows.catalog.csv_import import ImportResult
from workflows.catalog.csv_table import CsvImportRefused
from workflows.db import Database
from workflows.errors import InvalidRequest, NotFound
from workflows.models import Buyer, DeliveryAddress, Product, Supplier

FAX_SUPPLIER = {"name": "八百新青果", "fax": "03-3841-2207", "channel": "fax"}


@pytest.fixture
def buyer_id(db: Database) -> int:
    with db.transaction() as session:
        return catalog.create_buyer(session, {"name": "レストラン山田", "email": "order@yamada.example"}).id


@pytest.fixture
def supplier_id(db: Database, buyer_id: int) -> int:
    with db.transaction() as session:
        return catalog.add_supplier(session, buyer_id, FAX_SUPPLIER).id


def counts(db: Database) -> dict[str, int]:
    with db.sessions() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Buyer, DeliveryAddress, Supplier, Product)}


def products(db: Database, supplier_id: int) -> dict[str, Product]:
    with db.sessions() as session:
        return {p.name: p for p in catalog.products_of(session, supplier_id)}


def suppliers(db: Database, buyer_id: int) -> dict[str, Supplier]:
    with db.sessions() as session:
        return {s.name: s for s in catalog.suppliers_of(session, buyer_id)}


def import_csv(db: Database, buyer_id: int, kind: str, data: bytes) -> ImportResult:
    with db.transaction() as session:
        return catalog.import_csv(session, buyer_id, kind, data)


def refused(db: Database, buyer_id: int, kind: str, data: bytes) -> list[tuple[int | None, str | None, str]]:
    """Import a file that must be refused; check nothing was written; return (row, column, message) of each error."""
    before = counts(db)
    with pytest.raises(CsvImportRefused) as caught:
        import_csv(db, buyer_id, kind, data)
    assert counts(db) == before
    assert isinstance(caught.value, InvalidRequest)
    return [(e.row, e.column, e.message) for e in caught.value.errors]


def where(errors: list[tuple[int | None, str | None, str]]) -> list[tuple[int | None, str | None]]:
    return [(row, column) for row, column, _message in errors]


# -- buyers, suppliers, products one at a time -------------------------------------------------


def test_a_buyer_is_created_with_its_delivery_addresses(db: Database) -> None:
    with db.transaction() as session:
        buyer = catalog.create_buyer(session, {
            "name": "ビストロ海", "email": "info@bistro-umi.example", "phone": "03-5555-0101", "fax": "03-5555-0102",
            "language": "en",
            "delivery_addresses": [{"name": "本店", "postal_code": "1000005", "address": "東京都千代田区丸の内1-1-1"},
                                   {"name": "築地店", "address": "東京都中央区築地4-1-1", "recipient": "厨房 佐藤"}],
        })
        data = catalog.buyer_json(buyer, catalog.addresses_of(session, buyer.id),
                                  catalog.suppliers_of(session, buyer.id))
    assert data["fax"] == "+81355550102"
    assert data["language"] == "en"
    assert [(a["name"], a["postal_code"]) for a in data["delivery_addresses"]] == [("本店", "100-0005"), ("築地店", "")]
    assert data["suppliers"] == []


@pytest.mark.parametrize(("body", "complaint"), [
    ({"name": "A", "email": "not-an-address"}, "email"),
    ({"name": "A", "email": "a@b.example", "language": "fr"}, "language"),
    ({"name": "", "email": "a@b.example"}, "name: is required"),
    ({"name": "A", "email": "a@b.example", "colour": "red"}, "colour: unknown field"),
    ({"name": "A", "email": "a@b.example", "delivery_addresses": [{"name": "本店", "address": "x"},
                                                                    {"name": "本店 ", "address": "y"}]},
     "delivery_addresses[1].name: same name as delivery_addresses[0]"),
    ({"name": "A", "email": "a@b.example", "delivery_addresses": [{"name": "本店"}]},
     "delivery_addresses[0].address: is required"),
])
def test_a_buyer_with_a_wrong_field_is_refused_naming_it(db: Database, body: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint.replace("[", r"\[").replace("]", r"\]")), \
            db.transaction() as session:
        catalog.create_buyer(session, body)
    assert counts(db)["buyers"] == 0


def test_two_buyers_cannot_have_the_same_name(db: Database, buyer_id: int) -> None:
    with pytest.raises(InvalidRequest, match="already exists"), db.transaction() as session:
        catalog.create_buyer(session, {"name": "レストラン山田", "email": "other@yamada.example"})


@pytest.mark.parametrize("written", ["03-3841-2207", "０３（３８４１）２２０７", "+81 3 3841 2207",
                                     "+81 (0)3-3841-2207", "FAX: 03 3841 2207"])
def test_fax_numbers_are_stored_in_e164_however_they_are_written(db: Database, buyer_id: int, written: str) -> None:
    with db.transaction() as session:
        supplier = catalog.add_supplier(session, buyer_id, {"name": "八百新", "fax": written, "channel": "fax"})
        assert catalog.supplier_json(supplier)["fax"] == "+81338412207"


def test_a_fax_supplier_without_a_fax_number_is_refused(db: Database, buyer_id: int) -> None:
    with pytest.raises(InvalidRequest, match="fax: orders go by fax .* no fax number"), db.transaction() as session:
        catalog.add_supplier(session, buyer_id, {"name": "八百新", "email": "yaoshin@example.jp", "channel": "fax"})
    assert counts(db)["suppliers"] == 0


@pytest.mark.parametrize(("body", "complaint"), [
    ({"name": "丸魚", "channel": "mail", "fax": "03-1111-2222"}, "email: orders go by mail"),
    ({"name": "丸魚", "channel": "mail", "email": "marugyo@"}, "is not an email address"),
    ({"name": "丸魚", "channel": "fax", "fax": "03-12"}, "fax: '03-12': a Japanese number has 10 or 11 digits"),
    ({"name": "丸魚", "channel": "pigeon", "fax": "03-1111-2222"}, "is not a channel"),
    ({"name": "丸魚"}, "needs a fax number or an email"),
    ({"name": "丸魚", "fax": "03-1111-2222", "email": "m@marugyo.example"}, "channel: both a fax number and an email"),
])
def test_a_supplier_that_cannot_be_reached_as_it_prefers_is_refused(db: Database, buyer_id: int,
                                                                    body: dict[str, object], complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=complaint), db.transaction() as session:
        catalog.add_supplier(session, buyer_id, body)
    assert counts(db)["suppliers"] == 0


def test_the_channel_follows_the_only_way_given(db: Database, buyer_id: int) -> None:
    with db.transaction() as session:
        by_mail = catalog.add_supplier(session, buyer_id, {"name": "丸魚", "email": "ｍａｒｕ＠ｇｙｏ．ｅｘａｍｐｌｅ"})
        by_fax = catalog.add_supplier(session, buyer_id, {"name": "八百新", "fax": "0338412207"})
        assert (by_mail.channel, by_mail.email) == ("mail", "maru@gyo.example")
        assert (by_fax.channel, by_fax.fax_number) == ("fax", "+81338412207")


def test_a_supplier_name_is_one_per_buyer_but_other_buyers_may_use_it(db: Database, buyer_id: int,
                                                                       supplier_id: int) -> None:
    with pytest.raises(InvalidRequest, match="already has a supplier"), db.transaction() as session:
        catalog.add_supplier(session, buyer_id, FAX_SUPPLIER | {"name": "八百新青果 "})
    with db.transaction() as session:
        other = catalog.create_buyer(session, {"name": "カフェ森", "email": "mori@cafe.example"})
        catalog.add_supplier(session, other.id, FAX_SUPPLIER)
    assert counts(db)["suppliers"] == 2


def test_a_product_registered_again_in_another_width_or_case_overwrites_it(db: Database, supplier_id: int) -> None:
    with db.transaction() as session:
        first, created = catalog.put_product(session, supplier_id, {"name": "ﾄﾏﾄ Ｍｻｲｽﾞ", "unit": "ｹｰｽ",
                                                                    "unit_price": "¥3,200", "note": "4kg"})
        assert created
    with db.transaction() as session:
        again, created = catalog.put_product(session, supplier_id, {"name": "トマト　mサイズ", "unit": "箱",
                                                                    "unit_price": 3000})
        assert not created
    assert again.id == first.id
    (only,) = products(db, supplier_id).values()
    assert (only.name, only.unit, only.unit_price, only.note) == ("トマト　mサイズ", "箱", 3000, "")


def test_other_names_and_other_suppliers_make_other_products(db: Database, buyer_id: int, supplier_id: int) -> None:
    with db.transaction() as session:
        other = catalog.add_supplier(session, buyer_id, {"name": "丸魚", "email": "order@marugyo.example"})
        catalog.put_product(session, supplier_id, {"name": "キャベツ①"})
        catalog.put_product(session, supplier_id, {"name": "キャベツ②"})
        _product, created = catalog.put_product(session, other.id, {"name": "キャベツ①"})
        assert created
        assert catalog.product_by_name(session, supplier_id, "ｷｬﾍﾞﾂ1") is not None
    assert counts(db)["products"] == 3


@pytest.mark.parametrize(("price", "complaint"), [
    ("abc", "not a price"), (-5, "between 0 and"), (12.5, "whole yen"), (True, "price in yen"),
    ("1.200,5", "not a price"), ("1,2", "not a price"),
])
def test_a_product_with_a_wrong_price_is_refused(db: Database, supplier_id: int, price: object, complaint: str) -> None:
    with pytest.raises(InvalidRequest, match=f"unit_price: .*{complaint}"), db.transaction() as session:
        catalog.put_product(session, supplier_id, {"name": "トマト", "unit_price": price})
    assert counts(db)["products"] == 0


def test_an_unknown_buyer_or_supplier_is_not_found(db: Database) -> None:
    with pytest.raises(NotFound), db.transaction() as session:
        catalog.add_supplier(session, 999, FAX_SUPPLIER)
    with pytest.raises(NotFound), db.transaction() as session:
        catalog.put_product(session, 999, {"name": "トマト"})
    with pytest.raises(NotFound), db.transaction() as session:
        catalog.import_csv(session, 999, "suppliers", b"name,fax\nA,03-1111-2222\n")


# -- CSV: good files ---------------------------------------------------------------------------

SUPPLIERS_CSV = (
    "発注先名,FAX番号,メールアドレス,送信方法,担当者\r\n"
    "ﾔｵｼﾝ青果,03-3841-2207,,FAX,新井\r\n"
    "丸魚水産①,,order@marugyo.example,メール,魚住\r\n"
    "\"田中精肉, 本店\",０４５（６６２）８１３０,tanaka@example.jp,fax,\"田中 一郎\"\r\n"
)


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")])
def test_a_suppliers_file_is_read_in_utf8_with_or_without_bom_and_in_cp932(db: Database, buyer_id: int, encoding: str,
                                                                           expected: str) -> None:
    result = import_csv(db, buyer_id, "suppliers", SUPPLIERS_CSV.encode(encoding))
    assert (result.encoding, result.rows, result.created, result.updated) == (expected, 3, 3, 0)
    found = suppliers(db, buyer_id)
    assert sorted(found) == sorted(["ﾔｵｼﾝ青果", "丸魚水産①", "田中精肉, 本店"])
    assert (found["ﾔｵｼﾝ青果"].channel, found["ﾔｵｼﾝ青果"].fax_number) == ("fax", "+81338412207")
    assert (found["丸魚水産①"].channel, found["丸魚水産①"].email, found["丸魚水産①"].fax_number) == (
        "mail", "order@marugyo.example", None)
    assert (found["田中精肉, 本店"].fax_number, found["田中精肉, 本店"].contact_name) == ("+81456628130", "田中 一郎")


def test_a_cp932_products_file_keeps_half_width_kana_and_nec_characters_and_reads_every_price_form(
        db: Database, buyer_id: int, supplier_id: int) -> None:
    text = ("発注先名,商品名,単位,単価,備考\r\n"
            "八百新青果,ﾄﾏﾄ①,ｹｰｽ,\"3,200\",4kg\r\n"
            "八百新青果,キャベツ,玉,１８０,\r\n"
            "八百新青果,大葉,束,￥120,\"10枚\r\n束\"\r\n"  # the quoted note runs over two lines
            "八百新青果,ﾚﾀｽ,個,\"\\1,200\",\r\n"  # CP932 carries the yen sign as a backslash
            "八百新青果,しいたけ㈱,パック,,\r\n")
    result = import_csv(db, buyer_id, "products", text.encode("cp932"))
    assert (result.encoding, result.rows, result.created, result.updated) == ("cp932", 5, 5, 0)
    found = products(db, supplier_id)
    assert {name: p.unit_price for name, p in found.items()} == {
        "ﾄﾏﾄ①": 3200, "キャベツ": 180, "大葉": 120, "ﾚﾀｽ": 1200, "しいたけ㈱": None}
    assert found["大葉"].note == "10枚\n束"
    assert found["ﾄﾏﾄ①"].unit == "ｹｰｽ"


def test_a_name_repeated_in_a_products_file_keeps_the_last_row(db: Database, buyer_id: int, supplier_id: int) -> None:
    with db.transaction() as session:
        catalog.put_product(session, supplier_id, {"name": "トマト", "unit_price": 3000})
    text = ("supplier,name,unit,unit_price\n"
            "八百新青果,ﾄﾏﾄ,ｹｰｽ,\"¥3,100\"\n"
            "八百新青果,キャベツ,玉,180\n"
            "八百新青果,トマト,箱,\"¥3,300\"\n")
    result = import_csv(db, buyer_id, "products", text.encode())
    assert (result.rows, result.created, result.updated) == (3, 1, 1)
    assert result.notes == ("row 4 overwrites row 2: the same product 'トマト' of '八百新青果'",)
    found = products(db, supplier_id)
    assert {name: (p.unit, p.unit_price) for name, p in found.items()} == {"トマト": ("箱", 3300),
                                                                           "キャベツ": ("玉", 180)}


def test_an_existing_supplier_is_updated_and_only_in_the_columns_given(db: Database, buyer_id: int,
                                                                       supplier_id: int) -> None:
    with db.transaction() as session:
        catalog.put_product(session, supplier_id, {"name": "トマト", "unit": "箱", "unit_price": 3000, "note": "4kg"})
    result = import_csv(db, buyer_id, "suppliers", "name,contact_name\n八百新青果,新井\n".encode())
    assert (result.created, result.updated) == (0, 1)
    (supplier,) = suppliers(db, buyer_id).values()
    assert (supplier.contact_name, supplier.fax_number, supplier.channel) == ("新井", "+81338412207", "fax")
    result = import_csv(db, buyer_id, "products", "発注先名,商品名,単価\n八百新青果,ﾄﾏﾄ,3200\n".encode())
    assert (result.created, result.updated) == (0, 1)
    (product,) = products(db, supplier_id).values()
    assert (product.name, product.unit, product.unit_price, product.note) == ("ﾄﾏﾄ", "箱", 3200, "4kg")


def test_a_delivery_addresses_file_with_english_headers_crlf_and_a_two_line_address(db: Database,
                                                                                   buyer_id: int) -> None:
    text = ("Name,Postal Code,Address,Phone,Recipient\r\n"
            "本店,〒100-0005,\"東京都千代田区丸の内1-1-1\r\nインフォビル5F\",03-5555-0101,厨房 佐藤\r\n"
            "\r\n"  # a blank row is skipped
            "倉庫,２３５００１２,神奈川県横浜市磯子区1-2,,\r\n")
    result = import_csv(db, buyer_id, "delivery_addresses", text.encode())
    assert (result.encoding, result.rows, result.created) == ("utf-8", 2, 2)
    with db.sessions() as session:
        found = {a.name: a for a in catalog.addresses_of(session, buyer_id)}
    assert found["本店"].address == "東京都千代田区丸の内1-1-1\nインフォビル5F"
    assert (found["本店"].postal_code, found["倉庫"].postal_code) == ("100-0005", "235-0012")


def test_the_sample_files_import(db: Database, buyer_id: int) -> None:
    result = import_csv(db, buyer_id, "suppliers", (SAMPLES / "csv" / "suppliers.utf8.csv").read_bytes())
    assert (result.encoding, result.created) == ("utf-8", 3)
    result = import_csv(db, buyer_id, "products", (SAMPLES / "csv" / "products.cp932.csv").read_bytes())
    assert (result.encoding, result.created, result.updated) == ("cp932", 6, 0)
    by_name = suppliers(db, buyer_id)
    assert by_name["ﾀﾅｶ精肉店"].fax_number == "+81456628130"
    assert by_name["丸魚水産株式会社"].channel == "mail"
    fish = products(db, by_name["丸魚水産株式会社"].id)
    assert fish["ﾏｸﾞﾛ 中トロ"].unit_price == 8500
    assert fish["ﾏｸﾞﾛ 中トロ"].note == "柵どり\n前日15時までに"
    assert fish["真鯛 (活〆)"].unit_price is None
    assert products(db, by_name["有限会社 八百新青果"].id)["キャベツ①"].unit_price == 180


# -- CSV: bad files, every error listed, nothing written -----------------------------------------


def test_every_wrong_row_of_a_products_file_is_listed_and_no_row_is_written(db: Database, buyer_id: int,
                                                                            supplier_id: int) -> None:
    text = ("発注先名,商品名,単位,単価,備考\n"
            "八百新青果,トマト,箱,3200,\n"  # a good row: still not written
            "八百新青果,キャベツ,玉,百八十,\n"
            "魚屋,鯛,尾,900,\n"
            "八百新青果,,束,120,\n"
            "\n"
            "八百新青果,大葉,束,\"1,2\",\n"
            "八百新青果,しいたけ,パック,-30,\n")
    errors = refused(db, buyer_id, "products", text.encode())
    assert where(errors) == [(3, "単価"), (4, "発注先名"), (5, "商品名"), (7, "単価"), (8, "単価")]
    assert "'百八十' is not a price in whole yen" in errors[0][2]
    assert "no supplier named '魚屋'" in errors[1][2]
    assert errors[2][2] == "is required"


def test_a_duplicate_supplier_or_address_in_one_file_is_an_error(db: Database, buyer_id: int) -> None:
    errors = refused(db, buyer_id, "suppliers", "発注先名,FAX番号\n八百新,0338412207\nﾏﾙｷﾞｮ,0311112222\n"
                     "八百新 ,0338412208\n".encode())
    assert errors == [(4, "発注先名", "'八百新' is also on row 2: each supplier once per file")]
    errors = refused(db, buyer_id, "delivery_addresses", "お届け先名,住所\n本店,東京\n本店,大阪\n".encode("cp932"))
    assert errors == [(3, "お届け先名", "'本店' is also on row 2: each delivery address once per file")]


def test_a_wrong_column_is_named_and_the_rows_are_still_checked(db: Database, buyer_id: int) -> None:
    errors = refused(db, buyer_id, "suppliers", "発注先名,FAX番号,色,送信方法\n八百新,03-12,赤,FAX\n".encode())
    assert where(errors) == [(1, "色"), (2, "FAX番号")]
    assert errors[0][2].startswith("unknown column; the columns are 発注先名 (name), FAX番号 (fax)")


def test_supplier_rows_that_cannot_be_reached_are_refused(db: Database, buyer_id: int) -> None:
    text = ("発注先名,FAX番号,メールアドレス,送信方法\n"
            "A,,a@example.jp,FAX\n"
            "B,312345678,,FAX\n"
            "C,,c@example,メール\n"
            "D,,,\n"
            "E,0311112222,e@example.jp,伝書鳩\n")
    errors = refused(db, buyer_id, "suppliers", text.encode())
    assert where(errors) == [(2, "FAX番号"), (3, "FAX番号"), (4, "メールアドレス"), (5, "FAX番号"), (6, "送信方法")]
    assert "dropped the leading 0" in errors[1][2]


@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("suppliers", b"", [(None, None, "the file is empty")]),
    ("suppliers", b"\xef\xbb\xbf\r\n\r\n", [(None, None, "the file is empty")]),
    ("suppliers", bytes(range(256)) * 8, [(None, None, "the file is binary, not CSV text")]),
    ("suppliers", b"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml", [
        (None, None, "the file is an Excel workbook (.xlsx) or a zip file, not CSV: save it as \"CSV UTF-8\" or "
                     "\"CSV\" and send that")]),
    ("suppliers", "発注先名,FAX番号\nA,0311112222\n".encode("utf-16"), [
        (None, None, "the file is UTF-16 text (Excel's \"Unicode text\"), not CSV: save it as \"CSV UTF-8\" or "
                     "\"CSV\" and send that")]),
    ("suppliers", "八百新,03-3841-2207\n丸魚,03-1111-2222\n".encode(), [
        (1, None, "no header row: the first row must name the columns: 発注先名 (name), FAX番号 (fax), "
                  "メールアドレス (email), 送信方法 (channel), 担当者 (contact_name), 言語 (language)")]),
    ("products", "商品名,単価\nトマト,100\n".encode(), [(1, None, "missing column 発注先名 (supplier)")]),
    ("delivery_addresses", "お届け先名,住所\n".encode(), [(None, None, "the file has a header but no rows under it")]),
    ("suppliers", "発注先名,FAX番号\nA,0311112222\n".encode() + b"\x82\xa0\xff\xfe\n", [
        (None, None, "the file is neither UTF-8 nor Shift_JIS (CP932): line 3 has bytes that are text in neither "
                     "(or user-defined characters, 外字, which cannot be imported)")]),
    ("suppliers", SUPPLIERS_CSV.encode().replace("田中精肉".encode(), b"\x93\x63\x92\x86"), [
        (None, None, "the file is UTF-8 but line 4 has bytes that are not UTF-8: is the file damaged?")]),
])
def test_a_file_that_is_no_catalog_csv_is_refused_with_one_clear_error(db: Database, buyer_id: int, kind: str,
                                                                       data: bytes, expected: list[object]) -> None:
    assert refused(db, buyer_id, kind, data) == expected


def test_rows_are_numbered_as_a_spreadsheet_shows_them_despite_line_breaks_in_cells(db: Database,
                                                                                    buyer_id: int) -> None:
    text = ("お届け先名,住所,電話番号\r\n"
            "本店,\"東京都千代田区\r\n丸の内1-1-1\r\n5F\",03-5555-0101\r\n"  # one row, three lines
            "\r\n"
            "倉庫,,\r\n")
    assert refused(db, buyer_id, "delivery_addresses", text.encode()) == [(4, "住所", "is required")]


def test_a_quote_out_of_place_stops_reading_at_its_row(db: Database, buyer_id: int) -> None:
    text = "発注先名,FAX番号\nA,0311112222\n\"B\"x,0311112223\nC,0311112224\n"
    errors = refused(db, buyer_id, "suppliers", text.encode())
    assert where(errors) == [(3, None)]
    assert "check the quotes" in errors[0][2]


def test_a_file_over_the_row_limit_is_refused(db: Database, buyer_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workflows.catalog.csv_table.MAX_CSV_ROWS", 3)
    text = "発注先名,FAX番号\n" + "".join(f"S{i},03111122{i:02d}\n" for i in range(4))
    assert refused(db, buyer_id, "suppliers", text.encode()) == [
        (5, None, "the file has more than 3 rows: split it into files of at most 3")]
    assert import_csv(db, buyer_id, "suppliers", text.encode()[:-len("S3,0311112203\n")]).created == 3


def test_a_file_over_the_size_limit_is_refused(db: Database, buyer_id: int) -> None:
    data = b"name,fax\n" + b"A" * catalog.MAX_CSV_BYTES
    assert refused(db, buyer_id, "suppliers", data) == [
        (None, None, "the file is 5 MB; at most 5 MB can be imported at once: split it")]


def test_an_unknown_kind_of_import_is_refused(db: Database, buyer_id: int) -> None:
    with pytest.raises(InvalidRequest, match="kind must be one of suppliers, delivery_addresses, products"), \
            db.transaction() as session:
        catalog.import_csv(session, buyer_id, "orders", b"a,b\n")
