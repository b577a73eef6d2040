"""Make the sample catalog CSV files under samples/csv/, as a buyer's spreadsheet writes them.

    .venv/bin/python -m samples.make_csv

- ``suppliers.utf8.csv``: the suppliers of a restaurant, UTF-8 without BOM, LF line ends (as
  Google Sheets or LibreOffice export), one supplier by fax, one by mail, one with both;
- ``products.cp932.csv``: their products, CP932 with CRLF (Excel's plain "CSV" on a Japanese
  Windows), with half-width katakana, NEC circled digits (①), full-width and ￥ prices written
  with thousands separators, an empty price, and a note running over two lines in quotes.

Import the suppliers first: the products file names its suppliers.
"""

from __future__ import annotations

import csv
import io

from samples.compose import SAMPLES

SUPPLIERS = [
    ["発注先名", "FAX番号", "メールアドレス", "送信方法", "担当者"],
    ["有限会社 八百新青果", "03-3841-2207", "", "FAX", "新井 健一"],
    ["丸魚水産株式会社", "", "order@marugyo-suisan.example", "メール", "魚住"],
    ["ﾀﾅｶ精肉店", "０４５（６６２）８１３０", "tanaka.seiniku@example.jp", "FAX", "田中, 精肉部"],
]

PRODUCTS = [
    ["発注先名", "商品名", "単位", "単価", "備考"],
    ["有限会社 八百新青果", "ﾄﾏﾄ (桃太郎)", "ｹｰｽ", "3,200", "4kg"],
    ["有限会社 八百新青果", "キャベツ①", "玉", "１８０", ""],
    ["有限会社 八百新青果", "大葉", "束", "￥120", "10枚束"],
    ["丸魚水産株式会社", "真鯛 (活〆)", "尾", "", "時価"],
    ["丸魚水産株式会社", "ﾏｸﾞﾛ 中トロ", "kg", "\\8,500", "柵どり\n前日15時までに"],
    ["ﾀﾅｶ精肉店", "国産牛ロース②", "kg", "6,800", ""],
]


def render(rows: list[list[str]], lineterminator: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(rows)
    return out.getvalue()


def main() -> None:
    out = SAMPLES / "csv"
    out.mkdir(exist_ok=True)
    (out / "suppliers.utf8.csv").write_bytes(render(SUPPLIERS, "\n").encode("utf-8"))
    (out / "products.cp932.csv").write_bytes(render(PRODUCTS, "\r\n").encode("cp932"))
    print(f"wrote {out}/suppliers.utf8.csv and {out}/products.cp932.csv")


if __name__ == "__main__":
    main()
