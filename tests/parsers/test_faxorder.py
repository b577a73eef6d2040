"""read_free_form on words laid out as OCR gives them from faxed sheets: what fax OCR does to
labels, row numbers and units, and lines it cannot read, which must never drop out of an order."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from PIL import Image

from parsers.faxorder.delivery import UNLABELLED_DATE
from parsers.faxorder.reader import read_free_form
from parsers.faxorder.readings import FreeFormReading
from parsers.pagetext.page import PageText, Word

RECEIVED = date(2026, 11, 20)  # a Friday


def page(rows: list[list[tuple[str, float]]], *, number: int = 1, conf: float = 0.95) -> PageText:
    """A page of lines 8 mm apart, each a list of (text, x0 in mm); every word 4 mm wide per character."""
    words = tuple(Word(text, x0, 20 + 8 * i, x0 + 4 * len(text), 24 + 8 * i, conf, i)
                  for i, row in enumerate(rows) for text, x0 in row)
    return PageText(number=number, width_mm=210, height_mm=297, words=words, rules=(), source="ocr",
                    image=Image.new("L", (10, 10), 255), dpi=200, rotation=0, skew=0.0, ms=0.0)


def items(reading: FreeFormReading) -> list[tuple[str | None, str | None, str | None]]:
    return [(line.item.value, line.quantity.value, line.unit.value if line.unit else None) for line in reading.lines]


# A handwritten-style form: 品名 centred over a wide cell, the names written from its left edge.
CENTRED = [("No", 23), ("品名", 75), ("数量", 133), ("単位", 152), ("備考", 174)]


def test_names_written_left_of_a_centred_item_header_are_items_not_row_numbers() -> None:
    reading = read_free_form([page([[("納品日", 20), ("11/25(水)", 50)], CENTRED,
                                    [("1", 25), ("プチトマト", 33), ("2", 135), ("パック", 148)],
                                    [("2", 25), ("大葉", 33), ("2", 141), ("束", 152)],
                                    [("3", 25)]])], RECEIVED)

    assert items(reading) == [("プチトマト", "2", "パック"), ("大葉", "2", "束")]


def test_a_row_ocr_could_not_read_the_name_or_quantity_of_stays_a_line_of_the_order() -> None:
    reading = read_free_form([page([CENTRED,
                                    [("1", 25), ("キャベツ", 33), ("3", 135), ("玉", 152)],
                                    [("2", 25), ("ーー", 33), ("4", 135), ("袋", 152)],
                                    [("3", 25), ("レタス", 33), ("い", 152)],
                                    [("4", 25), ("ーーー", 33)]])], RECEIVED)

    assert [(line.item.value, line.quantity.value) for line in reading.lines] == \
        [("キャベツ", "3"), (None, "4"), ("レタス", None)]
    assert reading.lines[1].item.reason == "item name unreadable"


def test_an_unread_line_among_list_lines_keeps_its_place_with_no_quantity() -> None:
    reading = read_free_form([page([[("いつもお世話になっております。", 20)],
                                    [("2 レタス 24 い", 20)],
                                    [("人参 2kg", 20)],
                                    [("キャベツ ト Tt", 20)],
                                    [("グレープフルーツ 18 個", 20)],
                                    [("以上", 20)]])], RECEIVED)

    assert [(line.item.value, line.quantity.value) for line in reading.lines] == \
        [("レタス 24 い", None), ("人参", "2"), ("キャベツ ト Tt", None), ("グレープフルーツ", "18")]
    assert reading.lines[2].quantity.confidence == 0.0


def test_a_delivery_label_half_read_still_labels_the_date_after_it() -> None:
    reading = read_free_form([page([[("日付", 20), ("2026/11/20", 40)], [("納唱希望日", 20), ("11/24(火)", 60)],
                                    [("品名", 20), ("数量", 80)], [("キャベツ", 20), ("3", 82)]])], RECEIVED)

    assert reading.delivery_date is not None
    assert (reading.delivery_date.value, reading.delivery_date.reason) == ("2026-11-24", None)
    assert reading.delivery_date.confidence >= 0.95  # the weekday agrees


def test_a_date_ocr_garbled_is_repaired_but_trusted_only_when_its_weekday_agrees() -> None:
    checked = read_free_form([page([[("納品日", 20), ("11/z4 (火)", 50)]])], RECEIVED).delivery_date
    unchecked = read_free_form([page([[("納品日", 20), ("信和8年11月24昌", 50)]])], RECEIVED).delivery_date

    assert checked is not None and (checked.value, checked.confidence >= 0.95) == ("2026-11-24", True)
    assert unchecked is not None and unchecked.value == "2026-11-24" and unchecked.confidence <= 0.5
    assert "read as 2026-11-24" in (unchecked.reason or "")


def test_a_date_without_any_label_is_taken_only_as_a_doubt() -> None:
    reading = read_free_form([page([[("2026/11/20 09:58", 20)], [("山田", 20)], [("2026/11/28", 50)]])], RECEIVED)

    assert reading.delivery_date is not None and reading.delivery_date.value == "2026-11-28"
    assert reading.delivery_date.confidence <= UNLABELLED_DATE and "no delivery label" in (
        reading.delivery_date.reason or "")


def test_a_table_running_onto_page_two_starts_again_at_its_first_row_with_a_quantity() -> None:
    first = page([[("品名", 20), ("数量", 100), ("単位", 120)], [("キャベツ", 20), ("3", 102), ("玉", 122)]])
    second = page([[("NOV-20-2026 09:58 FROM:MARUYOSHI P.2", 8)], [("FAX 注文書 (続き)", 60)],
                   [("No. 晶名", 20), ("単位 単価", 118)],
                   [("レタス", 20), ("2", 102), ("玉", 122)]], number=2)

    assert items(read_free_form([first, second], RECEIVED)) == [("キャベツ", "3", "玉"), ("レタス", "2", "玉")]


def test_束_read_as_東_is_still_a_bunch() -> None:
    reading = read_free_form([page([[("品名", 20), ("数量", 100), ("単位", 120)],
                                    [("パセリ", 20), ("4", 102), ("東", 122)]])], RECEIVED)

    assert items(reading) == [("パセリ", "4", "束")]


def test_a_quantity_whose_point_the_fax_lost_is_doubted_not_read_as_its_first_digit() -> None:
    header = [("品名", 20), ("単位", 110), ("数量", 130), ("単価", 150), ("金額", 175)]
    spaced = read_free_form([page([header, [("人参", 20), ("kg", 112), ("1", 138), ("5", 145), ("300", 163),
                                            ("450", 188)]])], RECEIVED)
    no_price = read_free_form([page([[("品名", 20), ("数量", 100)], [("人参", 20), ("1", 102), ("5", 108)]])],
                              RECEIVED)

    for reading in (spaced, no_price):
        (line,) = reading.lines
        assert line.quantity.confidence < 0.8, line.quantity


def test_a_label_ocr_lost_all_its_telling_characters_of_labels_a_later_date_but_never_the_sending_day() -> None:
    later = read_free_form([page([[("お入け日", 20), ("11/26(木)", 50)]])], RECEIVED)  # お届け日
    sent = read_free_form([page([[("ほ文日", 20), ("2026/11/20", 50)]])], RECEIVED)  # 注文日: the day it was sent

    assert later.delivery_date is not None and (later.delivery_date.value, later.delivery_date.reason) == \
        ("2026-11-26", None)
    assert later.delivery_date.confidence >= 0.9
    assert sent.delivery_date is None or sent.delivery_date.confidence <= UNLABELLED_DATE


def test_a_slash_read_as_7_is_repaired_when_the_weekday_agrees() -> None:
    right = read_free_form([page([[("納品日", 20), ("11727(金)", 50)]])], RECEIVED)
    wrong_day = read_free_form([page([[("納品日", 20), ("11727(月)", 50)]])], RECEIVED)

    assert right.delivery_date is not None and right.delivery_date.value == "2026-11-27"
    assert right.delivery_date.confidence >= 0.9
    assert wrong_day.delivery_date is not None and wrong_day.delivery_date.confidence < 0.8


def test_the_page_count_in_the_fax_header_line_is_no_delivery_date() -> None:
    header = Word("1/1", 80, 1, 84, 4, 0.9, 0)  # the sending machine's "page 1 of 1", within 8 mm of the top
    body = page([[("山田", 20)], [("12/1(火)", 50)]])
    sheet = PageText(number=1, width_mm=210, height_mm=297, words=(header, *body.words), rules=(), source="ocr",
                     image=body.image, dpi=200, rotation=0, skew=0.0, ms=0.0)

    reading = read_free_form([sheet], RECEIVED)

    assert reading.delivery_date is not None and reading.delivery_date.value == "2026-12-01"


def test_a_digit_ocr_read_as_a_kanji_is_taken_but_doubted_unless_price_and_amount_agree() -> None:
    header = [("品名", 20), ("数量", 100), ("単位", 120)]
    alone = read_free_form([page([header, [("大葉", 20), ("了", 102), ("束", 122)]])], RECEIVED)
    with_unit = read_free_form([page([[("品名", 20), ("数量", 100)], [("大葉", 20), ("了 東", 102)]])], RECEIVED)
    priced = read_free_form([page([[*header, ("単価", 140), ("金額", 165)],
                                   [("大葉", 20), ("了", 102), ("束", 122), ("100", 140), ("700", 165)]])], RECEIVED)

    assert items(alone) == items(with_unit) == items(priced) == [("大葉", "7", "束")]
    assert alone.lines[0].quantity.confidence < 0.8 and "了" in (alone.lines[0].quantity.reason or "")
    assert priced.lines[0].quantity.confidence >= 0.9


def test_qty_with_its_q_read_as_g_still_heads_the_quantity_column() -> None:
    reading = read_free_form([page([[("Item", 20), ("Gty", 100), ("Unit", 120)], [("Cabbage", 20), ("3", 102),
                                                                                 ("pc", 122)]])], RECEIVED)

    assert items(reading) == [("Cabbage", "3", "個")]


def test_an_item_name_carries_the_other_readings_ocr_gave_its_words() -> None:
    header = [Word(text, x0, 20, x0 + 8, 24, 0.95, 0) for text, x0 in (("品名", 20), ("数量", 100))]
    row = [Word("豆殴", 20, 28, 28, 32, 0.4, 1, alternatives=("豆腐", "豆段")), Word("3", 102, 28, 104, 32, 0.95, 1)]
    sheet = PageText(number=1, width_mm=210, height_mm=297, words=(*header, *row), rules=(), source="ocr",
                     image=Image.new("L", (10, 10), 255), dpi=200, rotation=0, skew=0.0, ms=0.0)

    (line,) = read_free_form([sheet], RECEIVED).lines

    assert (line.item.value, line.item.alternatives) == ("豆殴", ("豆腐", "豆段"))
    assert line.item.as_json()["alternatives"] == ["豆腐", "豆段"]


def test_a_unit_cell_read_as_a_look_alike_or_one_kana_off_is_taken_but_doubted() -> None:
    header = [("品名", 20), ("数量", 100), ("単位", 120)]
    reading = read_free_form([page([header, [("料理酒", 20), ("2", 102), ("し", 122)],
                                    [("しめじ", 20), ("3", 102), ("パッケ", 122)],
                                    [("大根", 20), ("4", 102), ("のラク", 122)]])], RECEIVED)
    taken = Word("のラク", 122, 28, 134, 32, 0.4, 1, alternatives=("ーック", "ハック"))
    sheet = page([header, [("しめじ", 20), ("3", 102)]])
    sheet.words = (*sheet.words, taken)

    assert items(reading) == [("料理酒", "2", "L"), ("しめじ", "3", "パック"), ("大根", "4", None)]
    assert [(line.unit.confidence < 0.8, line.unit.reason) for line in reading.lines if line.unit] == [
        (True, "unit read as 'し', taken as 'L'"), (True, "unit read as 'パッケ', taken as 'パック'"),
        (True, "unknown unit 'のラク'")]
    # ﾊﾟｯｸ read のラク, and again ーック and ハック: each reading that names a unit names パック
    assert items(read_free_form([sheet], RECEIVED)) == [("しめじ", "3", "パック")]


def test_a_weekday_spaced_inside_its_brackets_still_checks_the_date() -> None:
    reading = read_free_form([page([[("納品希望日", 20), ("11/24 ( 火)", 60)]], conf=0.6)], RECEIVED)

    assert reading.delivery_date is not None
    assert (reading.delivery_date.value, reading.delivery_date.confidence) == ("2026-11-24", 0.97)


def test_a_date_in_one_word_with_its_label_is_as_sure_as_ocr_was_of_the_date_not_the_label() -> None:
    def sheet(token_confs: tuple[tuple[int, float], ...]) -> PageText:
        one = page([[("x", 20)]])
        one.words = (Word("Deliver on.2026/11/27", 20, 20, 80, 24, 0.55, 0, token_confs=token_confs),)
        return one

    split = read_free_form([sheet(((7, 0.96), (11, 0.55), (21, 0.96)))], RECEIVED).delivery_date
    unsplit = read_free_form([sheet(())], RECEIVED).delivery_date
    date_unsure = read_free_form([sheet(((7, 0.96), (11, 0.96), (21, 0.55)))], RECEIVED).delivery_date

    assert split is not None and (split.value, split.confidence) == ("2026-11-27", 0.96)
    assert unsplit is not None and unsplit.confidence == 0.55
    assert date_unsure is not None and date_unsure.confidence == 0.55


def test_a_letter_asking_for_a_morning_on_a_date_asks_for_its_delivery() -> None:
    reading = read_free_form([page([[("1. 生姜 5kg", 20)], [("明日の午前中にお願いします。", 20)]])], RECEIVED)

    assert reading.delivery_date is not None
    assert (reading.delivery_date.value, reading.delivery_date.reason) == ("2026-11-21", None)


def test_a_dotted_rule_read_as_dashes_with_a_stray_kana_is_no_row() -> None:
    header = [("Item", 20), ("Qty", 100), ("Unit", 120)]
    dots = [("ーーーーデニーーーーーーーー ーーーー--一一ーー", 20), ("ーーー-ーーーー", 100)]
    reading = read_free_form([page([header, dots, [("Cabbage", 20), ("8", 102), ("pc", 122)],
                                    [("コーヒー", 20), ("2", 102)]])], RECEIVED)

    assert items(reading) == [("Cabbage", "8", "個"), ("コーヒー", "2", None)]


def test_a_unit_ocr_cut_off_its_number_or_read_one_kana_off_ends_a_list_line() -> None:
    one_word = read_free_form([page([[("6. ミニトマト 1 バック", 20)], [("7. 大葉 3束", 20)]])], RECEIVED)
    cut = page([[("6. ミニトマト", 20), ("1 バ", 80), ("ック", 92)], [("7. 大葉", 20), ("3", 80), ("束", 84)]])
    cut.words = tuple(replace(word, token_confs=((1, 0.91), (3, 0.5))) if word.text == "1 バ" else word
                      for word in cut.words)

    assert items(one_word) == items(read_free_form([cut], RECEIVED)) == [("ミニトマト", "1", "パック"),
                                                                        ("大葉", "3", "束")]
    (first, _) = read_free_form([cut], RECEIVED).lines
    assert first.unit is not None and first.unit.confidence < 0.8 and "taken as 'パック'" in (first.unit.reason or "")
    assert first.quantity.confidence == 0.91  # the number's own token, not the バ beside it


def test_three_ケ_is_three_pieces_and_a_slash_read_as_7_before_a_spaced_weekday_is_repaired() -> None:
    reading = read_free_form([page([[("納品日", 20), ("11727( 金)", 50)], [("品名", 20), ("数量", 100)],
                                    [("レモン", 20), ("3ケ", 102)]])], RECEIVED)

    assert items(reading) == [("レモン", "3", "個")]
    assert reading.delivery_date is not None and reading.delivery_date.value == "2026-11-27"


def test_a_name_of_one_kanji_is_a_name_and_one_kana_or_letter_is_not() -> None:
    header = [("品名", 20), ("数量", 100), ("単位", 120)]
    reading = read_free_form([page([header, [("苺", 20), ("11", 102), ("パック", 122)], [("ノ", 20), ("", 102)],
                                    [("x", 20), ("3", 102), ("個", 122)]])], RECEIVED)

    assert [(line.item.value, line.quantity.value) for line in reading.lines] == [("苺", "11"), (None, "3")]


def test_a_unit_written_from_its_cells_left_rule_is_the_unit_not_part_of_the_name() -> None:
    header = [("商品名", 60), ("単位", 128), ("数量", 150)]
    reading = read_free_form([page([header, [("ブナシメジ", 20), ("パック", 122), ("7", 155)],
                                    [("天然水 2L", 20), ("cs", 130), ("2.5-", 152)]])], RECEIVED)

    assert items(reading) == [("ブナシメジ", "7", "パック"), ("天然水 2L", "2.5", "ケース")]
    assert reading.lines[1].quantity.confidence < 0.8  # 2.5- taken as 2.5, doubted


def test_a_date_unreadable_as_first_read_takes_the_one_date_its_other_readings_give_doubted() -> None:
    def sheet(*alternatives: str) -> PageText:
        one = page([[("納品日", 20)]])
        one.words = (*one.words, Word("遇日", 50, 20, 58, 24, 0.5, 0, alternatives=alternatives))
        return one

    taken = read_free_form([sheet("明日", "遇目")], RECEIVED).delivery_date
    torn = read_free_form([sheet("明日", "明後日")], RECEIVED).delivery_date

    assert taken is not None and (taken.value, taken.text) == ("2026-11-21", "遇日") and taken.confidence < 0.8
    assert torn is not None and torn.value is None and "unreadable" in (torn.reason or "")


def test_a_handwritten_decimal_point_read_as_a_word_of_its_own_is_the_point_doubted() -> None:
    reading = read_free_form([page([[("品名", 20), ("数量", 100), ("単位", 130)],
                                    [("人参", 20), ("1", 102), ("●", 106), ("5", 109), ("kg", 132)]])], RECEIVED)

    assert items(reading) == [("人参", "1.5", "kg")]
    assert reading.lines[0].quantity.confidence < 0.8
    assert "taken as '1.5'" in (reading.lines[0].quantity.reason or "")


def test_a_list_line_whose_unit_one_reader_lost_takes_the_other_readers_doubted() -> None:
    def sheet(*alternatives: str) -> PageText:
        one = page([[("いつもありがとうございます。", 20)], [("レモン", 37)]])
        one.words = (*one.words, Word("40", 84, 28, 92, 32, 0.2, 1, alternatives=alternatives))
        return one

    (line,) = read_free_form([sheet("4 OB", "40 コ")], RECEIVED).lines
    assert (line.item.value, line.quantity.value, line.unit.value if line.unit else None) == ("レモン", "40", "個")
    assert line.quantity.confidence < 0.8 and "again as '40 コ'" in (line.quantity.reason or "")
    # two other readings that make different lines: none is taken
    assert read_free_form([sheet("40 コ", "4 袋")], RECEIVED).lines == ()


def test_a_unit_read_as_a_digit_is_placed_in_the_unit_column_when_another_reading_names_a_unit() -> None:
    """300 g with its g read 9 (and again g): 300 is the quantity and g its unit, not "300 9", two numbers."""
    sheet = page([[("Item", 20), ("Qty", 100), ("Unit", 120)], [("いりごま (白)", 20), ("300", 100)]])
    sheet.words = (*sheet.words, Word("9", 121, 28, 123, 32, 0.23, 1, alternatives=("g",)))
    lone = page([[("Item", 20), ("Qty", 100), ("Unit", 120)], [("いりごま (白)", 20), ("300", 100)]])
    lone.words = (*lone.words, Word("9", 121, 28, 123, 32, 0.23, 1))

    (line,) = read_free_form([sheet], RECEIVED).lines
    assert (line.quantity.value, line.unit.value if line.unit else None) == ("300", "g")
    assert line.unit is not None and line.unit.confidence < 0.8 and "taken as 'g'" in (line.unit.reason or "")
    # with no reading naming a unit, the 9 is a second number in the quantity cell, and nothing is taken
    assert read_free_form([lone], RECEIVED).lines[0].quantity.value is None


def test_a_quantity_cell_unread_as_read_takes_the_one_quantity_its_other_readings_give_doubted() -> None:
    def sheet(*alternatives: str) -> PageText:
        one = page([[("品名", 20), ("単位", 100), ("数量", 120)], [("オレンジジュース 1L", 20), ("本", 101)]])
        one.words = (*one.words, Word("し4", 121, 28, 127, 32, 0.33, 1, alternatives=alternatives))
        return one

    (line,) = read_free_form([sheet("9", "d", "q")], RECEIVED).lines
    assert (line.quantity.value, line.unit.value if line.unit else None) == ("9", "本")
    assert line.quantity.confidence < 0.8 and "taken as '9'" in (line.quantity.reason or "")
    assert read_free_form([sheet("9", "4")], RECEIVED).lines[0].quantity.value is None  # 9 or 4: neither


def test_the_記_over_a_letters_list_is_no_line_of_it_even_with_a_speck_beside_it() -> None:
    reading = read_free_form([page([[("以下、注文お願いします。", 20)], [("記", 100), ("1", 102)],
                                    [("にんにく (青森産)", 35), ("10個", 87)], [("りんご (ふじ)", 35), ("6 ケ", 87)],
                                    [("以上", 170)]])], RECEIVED)

    assert items(reading) == [("にんにく (青森産)", "10", "個"), ("りんご (ふじ)", "6", "個")]
