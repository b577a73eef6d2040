"""read_order_answer: a supplier's mail answer to an order sheet, in its own words, as an order event."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from parsers.mime.parse import parse_mail
from parsers.normalize import fold_compact, fold_kana
from parsers.order_reply.answer import LineRef, OrderAnswer, OrderIntent
from parsers.order_reply.reader import read_order_answer
from parsers.quotes import reply_text
from parsers.registry import REGISTRY, OrderReplyParser, ParseContext, choose
from samples.compose import compose_reply

pytestmark = pytest.mark.dates

TODAY = date(2026, 11, 21)  # a Saturday
REVIEW_BAR = 0.8  # the pipeline sends answers below this to a person

ORDER = (
    LineRef(1, "トマト", Decimal(5), "ケース"),
    LineRef(2, "キャベツ（国産）", Decimal(3), "ケース"),
    LineRef(3, "玉ねぎ", Decimal(10), "kg"),
    LineRef(4, "オリーブオイル", Decimal(2), "L"),
)
ENGLISH_ORDER = (
    LineRef(1, "Tomatoes", Decimal(5), "case"),
    LineRef(2, "Cabbage", Decimal(3), "case"),
    LineRef(3, "Milk", Decimal(5), "box"),
)
AS_ORDERED = {1: Decimal(5), 2: Decimal(3), 3: Decimal(10), 4: Decimal(2)}
EN_AS_ORDERED = {1: Decimal(5), 2: Decimal(3), 3: Decimal(5)}


def read(text: str, lines: tuple[LineRef, ...] = ORDER, subject: str = "") -> OrderAnswer:
    return read_order_answer(text, lines, subject=subject, written_on=TODAY)


def order_for(text: str) -> tuple[LineRef, ...]:
    """English answers go to the English order, Japanese ones (any non-ASCII character) to the Japanese one."""
    return ENGLISH_ORDER if text.isascii() else ORDER


# ---------------------------------------------------------------------------------------------
# The folding the reader relies on (parsers.normalize)

def test_fold_compact_drops_spaces_except_between_english_words() -> None:
    assert fold_compact("ト マ ト　３ ｹｰｽ の み") == "トマト3ケースのみ"
    assert fold_compact("Only  3 Cases of\nTomatoes") == "only 3 cases of tomatoes"
    assert fold_compact("欠品： キャベツ") == "欠品:キャベツ"


def test_fold_kana_writes_hiragana_as_katakana_one_for_one() -> None:
    assert fold_kana("とまと玉ねぎ") == "トマト玉ネギ"
    assert len(fold_kana("ゝゞぁゖ")) == 4


# ---------------------------------------------------------------------------------------------
# Confirm

@pytest.mark.parametrize(
    "reply",
    ["承りました", "受注します", "全部OKです", "了解しました、手配します", "問題ありません",
     "承知いたしました。手配いたします。", "ご注文通り手配いたします", "ＯＫです", "ｵｯｹｰです", "承 り ま し た",
     "Confirmed", "We accept the order", "All OK", "Will deliver as ordered", "confirmed, thank you"],
)
def test_a_confirmation_in_any_phrasing_is_read_as_confirm(reply: str) -> None:
    answer = read(reply, order_for(reply))
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence >= REVIEW_BAR
    assert answer.quantities == {}
    assert answer.reasons[0].startswith("found '")


def test_a_bare_acknowledgement_is_a_confirm_too_vague_to_apply_alone() -> None:
    answer = read("了解しました")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons == ("found '了解しました' on line 1", "'了解しました' alone is a vague answer")


def test_every_line_stated_in_full_is_a_confirm() -> None:
    answer = read("トマト 5ケース、キャベツ 3ケース、玉ねぎ 10kg、オリーブオイル 2L で手配します")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.quantities == {}
    assert "every stated quantity is the quantity ordered" in answer.reasons


def test_a_quantity_equal_to_the_order_is_no_shortfall() -> None:
    answer = read("トマトは5ケースご用意できます。")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence >= REVIEW_BAR


def test_a_quantity_equal_to_the_order_in_another_unit_is_no_shortfall() -> None:
    assert read("玉ねぎ 10000g 承りました").intent is OrderIntent.CONFIRM


# ---------------------------------------------------------------------------------------------
# Partial

PARTIAL = [
    ("トマト 3ケースのみ", {1: "3"}, "line 1 トマト: 3ケース of 5ケース ('3ケース' on line 1)"),
    ("トマトは３ケースのみです", {1: "3"}, "line 1 トマト: 3ケース of 5ケース ('3ケース' on line 1)"),
    ("欠品: キャベツ", {2: "0"}, "line 2 キャベツ（国産）: none of 3ケース ('欠品' on line 1)"),
    ("キャベツ欠品、他は手配します", {2: "0"}, "line 2 キャベツ（国産）: none of 3ケース ('欠品' on line 1)"),
    ("キャベツは品切れです", {2: "0"}, "line 2 キャベツ（国産）: none of 3ケース ('品切れ' on line 1)"),
    ("玉ねぎ 5kgなら可能", {3: "5"}, "line 3 玉ねぎ: 5kg of 10kg ('5kg' on line 1)"),
    ("Only 3 cases of tomatoes", {1: "3"}, "line 1 Tomatoes: 3 case of 5 case ('3 cases' on line 1)"),
    ("Cabbage out of stock", {2: "0"}, "line 2 Cabbage: none of 3 case ('out of stock' on line 1)"),
    ("We can ship 2 of the 5 boxes of milk", {3: "2"}, "line 3 Milk: 2 box of 5 box ('2 of the 5 boxes' on line 1)"),
]


@pytest.mark.parametrize(("reply", "changed", "reason"), PARTIAL)
def test_a_shortfall_is_read_as_partial_with_every_lines_quantity(reply: str, changed: dict[int, str],
                                                                  reason: str) -> None:
    lines = order_for(reply)
    answer = read(reply, lines)
    expected = dict(EN_AS_ORDERED if lines is ENGLISH_ORDER else AS_ORDERED)
    expected.update({position: Decimal(q) for position, q in changed.items()})
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == expected
    assert answer.reasons[0] == reason
    assert answer.confidence >= REVIEW_BAR


@pytest.mark.parametrize("name", ["トマト", "とまと", "ﾄﾏﾄ", "大玉トマト", "ト マ ト", "ＴＯＭＡＴＯ"])
def test_an_item_is_matched_by_its_name_written_in_any_script(name: str) -> None:
    lines = (*ORDER[1:], LineRef(5, "トマト", Decimal(5), "ケース"), LineRef(6, "tomato", Decimal(1), "ケース"))
    answer = read(f"{name}は欠品です", lines)
    assert answer.intent is OrderIntent.PARTIAL
    zero = [position for position, quantity in answer.quantities.items() if quantity == 0]
    assert zero == ([6] if name.startswith("Ｔ") else [5])


def test_a_product_named_with_a_note_is_matched_by_its_plain_name() -> None:
    answer = read("キャベツ欠品")
    assert answer.quantities[2] == 0
    assert answer.reasons[0].startswith("line 2 キャベツ（国産）: none of 3ケース")


def test_a_product_named_with_its_pack_size_or_origin_is_matched_by_its_plain_name() -> None:
    lines = (LineRef(1, "牛乳 1L", Decimal(12), "本"), LineRef(2, "北海道産 じゃがいも", Decimal(10), "kg"))
    answer = read("牛乳は6本のみ、じゃがいもは欠品です", lines)
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(6), 2: Decimal(0)}


def test_a_longer_katakana_word_is_not_the_item_inside_it() -> None:
    answer = read("トマトジュース欠品")
    assert answer.intent is None
    assert answer.reasons == ("'トマトジュース' is not on the order ('欠品' on line 1)",)


def test_a_real_mail_with_greeting_signature_and_several_lines_is_read_line_by_line() -> None:
    reply = ("株式会社ABC\n山田様\n\nいつもお世話になっております。\nご注文ありがとうございます。\n\n"
             "トマトは3ケースのみのご用意となります。\nキャベツは申し訳ありませんが欠品しております。\n"
             "その他は注文通り11/25にお届けいたします。\n\nよろしくお願いいたします。\n--\n鈴木青果 鈴木\n"
             "TEL 03-1234-5678")
    answer = read(reply)
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(3), 2: Decimal(0), 3: Decimal(10), 4: Decimal(2)}
    assert answer.delivery_date == date(2026, 11, 25)
    assert answer.reasons == (
        "line 1 トマト: 3ケース of 5ケース ('3ケース' on line 7)",
        "line 2 キャベツ（国産）: none of 3ケース ('欠品' on line 8)",
        "delivery date 2026-11-25 ('11/25' on line 9)",
    )
    assert answer.evidence is not None and "キャベツは申し訳ありませんが欠品しております。" in answer.evidence
    assert "お世話" not in answer.evidence


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("ご注文のキャベツですが、現在欠品しております。", {2: 0}),
        ("キャベツとトマトは欠品です", {1: 0, 2: 0}),
        ("欠品: キャベツ、トマト", {1: 0, 2: 0}),
        ("トマト3ケース、キャベツは品切れです", {1: 3, 2: 0}),
        ("No.2 欠品", {2: 0}),
        ("2番は欠品です", {2: 0}),
        ("オリーブオイル 1000mLのみ", {4: 1}),
        ("玉ねぎ 5000gなら可能", {3: 5}),
        ("キャベツ 0ケース", {2: 0}),
        ("Only 3 cases of tomatoes, cabbage out of stock", {1: 3, 2: 0}),
        ("We cannot supply the cabbage, the rest will ship as ordered", {2: 0}),
        ("Tomatoes are fine but we cannot supply cabbage", {2: 0}),
        ("Milk: only 2 boxes", {3: 2}),
    ],
)
def test_shortfalls_take_the_items_they_speak_of(reply: str, expected: dict[int, int]) -> None:
    lines = order_for(reply)
    answer = read(reply, lines)
    assert answer.intent is OrderIntent.PARTIAL
    for position, line in enumerate(lines, start=1):
        assert answer.quantities[position] == Decimal(expected.get(position, line.quantity))


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("トマトは2ケースしかご用意できません", {1: 2}),  # a limit, not a refusal
        ("トマトの在庫が3ケースしかありません", {1: 3}),
        ("キャベツが入荷しておらず、今回はキャベツ抜きでの納品となります", {2: 0}),
        ("キャベツのみ欠品です", {2: 0}),  # not "only cabbage"
        ("キャベツが不足しており、1ケースのみです", {2: 1}),
        ("在庫不足のため、トマトは3ケースでお願いします", {1: 3}),
        ("1. トマト 5ケース → 3ケース\n2. キャベツ（国産） 3ケース → 欠品\n3. 玉ねぎ 10kg", {1: 3, 2: 0}),
        ("トマト5ケース中3ケースのみ可能です", {1: 3}),
        ("We are out of cabbage.", {2: 0}),
        ("Only cabbage is out of stock", {2: 0}),
        ("Tomatoes 5 cases -> 3 cases", {1: 3}),
    ],
)
def test_limits_and_arrows_are_read_as_the_quantity_that_comes(reply: str, expected: dict[int, int]) -> None:
    lines = order_for(reply)
    answer = read(reply, lines)
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.confidence >= REVIEW_BAR
    assert answer.quantities == {line.position: Decimal(expected.get(line.position, line.quantity)) for line in lines}


def test_not_enough_without_a_quantity_is_unclear() -> None:
    answer = read("玉ねぎは大丈夫ですが、キャベツが足りません")
    assert answer.intent is None
    assert answer.reasons == (
        "line 2 キャベツ（国産）: '足りません' says there is not enough, not how much (line 1)",)


def test_english_words_inside_other_words_say_nothing() -> None:
    assert read("Tokyo Fresh Foods Co., Ltd.").intent is None
    assert read("承りました。\nTokyo, Japan").reasons == ("found '承りました' on line 1",)


def test_the_rest_out_of_stock_leaves_only_the_named_lines() -> None:
    answer = read("トマトは手配します、他は欠品です")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(5), 2: Decimal(0), 3: Decimal(0), 4: Decimal(0)}


def test_everything_except_one_item_is_a_partial_for_a_person_to_check() -> None:
    answer = read("キャベツ以外は手配します")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(5), 2: Decimal(0), 3: Decimal(10), 4: Decimal(2)}
    assert answer.confidence < REVIEW_BAR
    assert "'以外は' read as: キャベツ（国産） not delivered (line 1)" in answer.reasons


def test_all_out_of_stock_except_one_item_keeps_only_that_item() -> None:
    answer = read("All items are out of stock except milk", ENGLISH_ORDER)
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(0), 2: Decimal(0), 3: Decimal(5)}
    assert answer.confidence < REVIEW_BAR


def test_only_some_items_named_means_the_others_are_not_delivered() -> None:
    answer = read("トマトのみ手配可能です")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(5), 2: Decimal(0), 3: Decimal(0), 4: Decimal(0)}
    assert "'のみ' read as: only トマト delivered (line 1)" in answer.reasons
    assert answer.confidence < REVIEW_BAR


def test_a_smaller_number_without_a_limit_word_is_partial_but_for_review() -> None:
    answer = read("トマト 3ケース")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities[1] == 3
    assert answer.confidence < REVIEW_BAR
    assert "a smaller quantity is stated without saying it is all that can be delivered" in answer.reasons


# ---------------------------------------------------------------------------------------------
# Decline

@pytest.mark.parametrize(
    ("reply", "word"),
    [
        ("お受けできません", "お受けできません"),
        ("今回は辞退します", "辞退"),
        ("対応できません", "対応できません"),
        ("全て欠品です", "全て欠品"),
        ("受注できません", "受注できません"),
        ("申し訳ございません、在庫切れのため対応できません。", "対応できません"),
        ("We cannot accept this order", "cannot accept"),
        ("Sorry, we have to decline", "decline"),
        ("all items out of stock", "all items out of stock"),
    ],
)
def test_a_refusal_in_any_phrasing_is_read_as_decline(reply: str, word: str) -> None:
    answer = read(reply, order_for(reply))
    assert answer.intent is OrderIntent.DECLINE
    assert answer.quantities == {}
    assert answer.reasons == (f"found '{word}' on line 1",)
    assert answer.confidence >= REVIEW_BAR


def test_every_line_out_of_stock_is_a_decline() -> None:
    answer = read("Tomatoes, cabbage and milk are out of stock.", ENGLISH_ORDER)
    assert answer.intent is OrderIntent.DECLINE
    assert answer.quantities == {}
    assert answer.reasons[-1] == "no line can be delivered"


def test_a_shortfall_on_a_one_line_order_needs_no_item_name() -> None:
    one = (LineRef(1, "トマト", Decimal(5), "ケース"),)
    assert read("申し訳ございません、欠品しております。", one).intent is OrderIntent.DECLINE
    partial = read("3ケースのみです", one)
    assert partial.intent is OrderIntent.PARTIAL
    assert partial.quantities == {1: Decimal(3)}


# ---------------------------------------------------------------------------------------------
# Negations do not flip the meaning

@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("欠品はありません", OrderIntent.CONFIRM),
        ("欠品はございません。手配いたします。", OrderIntent.CONFIRM),
        ("no items are out of stock", OrderIntent.CONFIRM),
        ("Nothing is out of stock.", OrderIntent.CONFIRM),
        ("問題ありません", OrderIntent.CONFIRM),
        ("受注できません", OrderIntent.DECLINE),
        ("手配いたしかねます", OrderIntent.DECLINE),
        ("We can't accept this order.", OrderIntent.DECLINE),
        ("欠品の場合はご連絡します。承りました。", OrderIntent.CONFIRM),
        ("If any item is out of stock we will let you know. Confirmed.", OrderIntent.CONFIRM),
    ],
)
def test_negated_and_conditional_forms_do_not_flip_the_meaning(reply: str, intent: OrderIntent) -> None:
    answer = read(reply, order_for(reply))
    assert answer.intent is intent
    assert answer.quantities == {}


# ---------------------------------------------------------------------------------------------
# Unclear

def test_a_question_alone_is_no_answer() -> None:
    answer = read("納期はいつですか？")
    assert answer.intent is None
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons == ("only a question: '納期はいつですか?' on line 1",)


def test_an_answer_that_also_asks_something_goes_to_review() -> None:
    answer = read("承りました。納品は25日でよろしいでしょうか？")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons[-1] == "also asks: '納品は25日でよろしいでしょうか?' on line 1"
    assert answer.delivery_date is None  # a date asked about is not a date promised


def test_a_shortfall_of_an_item_not_on_the_order_names_it() -> None:
    answer = read("ピーマン欠品")
    assert answer.intent is None
    assert answer.quantities == {}
    assert answer.reasons == ("'ピーマン' is not on the order ('欠品' on line 1)",)


def test_an_english_shortfall_of_an_item_not_on_the_order_names_it() -> None:
    answer = read("Peppers are out of stock, the rest will ship.", ENGLISH_ORDER)
    assert answer.intent is None
    assert answer.reasons == ("'peppers' is not on the order ('out of stock' on line 1)",)


def test_a_shortfall_that_names_no_item_is_unclear() -> None:
    answer = read("一部欠品があります。")
    assert answer.intent is None
    assert answer.reasons == ("'欠品' on line 1 does not say which item",)


def test_confirm_and_decline_together_are_a_contradiction() -> None:
    answer = read("承りました。\nお受けできません。")
    assert answer.intent is None
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons == (
        "contradictory: confirm ('承りました' on line 1) and decline ('お受けできません' on line 2)",)


def test_no_shortfall_and_a_shortfall_together_are_a_contradiction() -> None:
    answer = read("欠品はありません。キャベツ欠品")
    assert answer.intent is None
    assert answer.reasons[0].startswith("contradictory: no shortfall ('欠品はありません' on line 1) and line 2")


@pytest.mark.parametrize("reply", ["いつもお世話になっております。", "Thank you for your mail.", ""])
def test_nothing_relevant_gives_no_intent(reply: str) -> None:
    answer = read(reply)
    assert answer.intent is None
    assert answer.confidence == 0.0
    assert answer.reasons == ("no answer word found",)


def test_a_quantity_larger_than_ordered_is_unclear() -> None:
    answer = read("トマト 10ケースのみ")
    assert answer.intent is None
    assert answer.reasons == ("line 1 トマト: '10ケース' is more than the 5ケース ordered (line 1)",)


def test_a_unit_that_does_not_convert_is_unclear() -> None:
    answer = read("トマト 30個のみ")
    assert answer.intent is None
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons == ("line 1 トマト: '30個' cannot be compared with the 5ケース ordered (line 1)",)


def test_a_total_that_is_not_the_quantity_ordered_is_unclear() -> None:
    answer = read("We can ship 2 of the 6 boxes of milk", ENGLISH_ORDER)
    assert answer.intent is None
    assert answer.reasons == ("line 3 Milk: '2 of the 6 boxes' but 5 box were ordered (line 1)",)


def test_a_mention_matching_several_lines_is_ambiguous() -> None:
    lines = (LineRef(1, "大玉トマト", Decimal(5), "ケース"), LineRef(2, "ミニトマト", Decimal(2), "パック"))
    answer = read("トマト欠品", lines)
    assert answer.intent is None
    assert answer.reasons == ("'トマト' could be line 1 (大玉トマト) or line 2 (ミニトマト) (line 1)",)
    assert read("ミニトマト欠品", lines).quantities == {1: Decimal(5), 2: Decimal(0)}


def test_two_quantities_for_one_line_are_unclear() -> None:
    answer = read("トマト 3ケースのみ\nトマト 2ケースのみ")
    assert answer.intent is None
    assert answer.reasons == ("line 1 トマト: different quantities '3ケース' (line 1), '2ケース' (line 2)",)


def test_a_promise_to_check_is_no_answer_yet() -> None:
    answer = read("在庫を確認してご連絡します。")
    assert answer.intent is None
    assert answer.reasons == ("no answer yet: '確認してご連絡' on line 1",)


# ---------------------------------------------------------------------------------------------
# Delivery dates

@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("承りました。11/25納品です。", date(2026, 11, 25)),
        ("承りました。納品日：11月25日", date(2026, 11, 25)),
        ("25日にお届けします", date(2026, 11, 25)),
        ("明日納品します", date(2026, 11, 22)),
        ("来週火曜にお届けします", date(2026, 11, 24)),
        ("令和8年11月25日に納品いたします", date(2026, 11, 25)),
        ("Confirmed, delivery on Nov 25.", date(2026, 11, 25)),
        ("We will deliver 2026-11-25", date(2026, 11, 25)),
    ],
)
def test_a_stated_delivery_date_is_read(reply: str, expected: date) -> None:
    answer = read(reply, order_for(reply))
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.delivery_date == expected
    assert any(reason.startswith(f"delivery date {expected.isoformat()}") for reason in answer.reasons)


def test_a_delivery_date_without_a_year_is_the_next_one_on_or_after_today() -> None:
    answer = read_order_answer("承りました。11/25納品です。", ORDER, written_on=date(2026, 12, 1))
    assert answer.delivery_date == date(2027, 11, 25)


def test_a_date_that_speaks_of_no_delivery_is_not_a_delivery_date() -> None:
    assert read("2026年11月21日\n承りました。").delivery_date is None


def test_a_delivery_date_alone_is_a_vague_confirm() -> None:
    answer = read("納品日：11月25日")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence < REVIEW_BAR
    assert answer.reasons[0] == "only a delivery date is stated"


def test_the_delivery_date_is_the_one_in_the_clause_about_delivery() -> None:
    answer = read("本日は定休日のため、明後日の納品になります。承りました。")
    assert answer.delivery_date == date(2026, 11, 23)
    assert answer.confidence >= REVIEW_BAR


def test_several_delivery_dates_go_to_review() -> None:
    answer = read("承りました。11/25納品です。\n残りは11/26に納品します。")
    assert answer.delivery_date is None
    assert answer.confidence < REVIEW_BAR
    assert "several delivery dates: 2026-11-25, 2026-11-26" in answer.reasons


def test_a_weekday_that_does_not_match_the_date_goes_to_review() -> None:
    answer = read("承りました。11/25(月)に納品します。")
    assert answer.delivery_date == date(2026, 11, 25)
    assert answer.confidence < REVIEW_BAR
    assert "11/25(月): 2026-11-25 is a Wednesday, not a Monday" in answer.reasons


# ---------------------------------------------------------------------------------------------
# Subject

def test_an_answer_typed_into_the_subject_counts_when_the_body_says_nothing() -> None:
    answer = read("", subject="Re: 承りました 【発注書】A-1001")
    assert answer.intent is OrderIntent.CONFIRM
    assert answer.confidence == 0.85
    assert answer.reasons == ("found '承りました' in the subject",)


def test_our_own_subject_words_are_no_answer() -> None:
    assert read("", subject="Re: 【発注書】A-1001 キャベツ欠品のお知らせ").intent is None


# ---------------------------------------------------------------------------------------------
# End to end through the MIME parser

SHEET = ("株式会社八百屋 様\n\n下記のとおりご注文いたします。\n\n■ご注文内容\n"
         "1. トマト  5ケース\n2. キャベツ（国産）  3ケース\n3. 玉ねぎ  10kg\n4. オリーブオイル  2L\n\n"
         "■ご回答のお願い\nこのメールにご返信ください。本文に「承りました」「全部OKです」「トマト 3ケースのみ」"
         "「欠品: キャベツ」「お受けできません」のようにお書きいただければ結構です。")


def supplier_mail(answer: str, charset: str = "iso-2022-jp", style: str = "top") -> bytes:
    return compose_reply(answer=answer, original_text=SHEET, original_subject="【発注書】A-1001", charset=charset,
                         style=style, signature="鈴木青果 鈴木\nTEL 03-1234-5678", from_name="鈴木 一郎",
                         from_addr="suzuki@yaoya.example", to_addr="reply+a1001@torii.example",
                         in_reply_to="sheet-a1001@torii.example", message_id="answer-a1001@yaoya.example")


def mail_answer(answer: str, charset: str, style: str = "top") -> OrderAnswer:
    raw = supplier_mail(answer, charset, style)
    mail = parse_mail(raw)
    assert mail.defects == ()
    return read_order_answer(reply_text(mail, (SHEET,)), ORDER, subject=mail.subject, written_on=TODAY)


def test_an_iso_2022_jp_mail_with_full_width_digits_is_read_end_to_end() -> None:
    answer = mail_answer("いつもお世話になっております。\nトマトは３ケースのみです。\nキャベツは品切れです。\n"
                         "その他は１１月２５日に納品いたします。", "iso-2022-jp")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(3), 2: Decimal(0), 3: Decimal(10), 4: Decimal(2)}
    assert answer.delivery_date == date(2026, 11, 25)
    assert answer.reasons[:2] == ("line 1 トマト: 3ケース of 5ケース ('3ケース' on line 2)",
                                  "line 2 キャベツ（国産）: none of 3ケース ('品切れ' on line 3)")
    assert answer.confidence >= REVIEW_BAR


def test_a_cp932_mail_with_half_width_katakana_is_read_end_to_end() -> None:
    answer = mail_answer("お世話になっております。\nﾄﾏﾄ ３ｹｰｽのみ、ｷｬﾍﾞﾂ欠品です。\n他は手配いたします。", "shift_jis",
                         style="outlook")
    assert answer.intent is OrderIntent.PARTIAL
    assert answer.quantities == {1: Decimal(3), 2: Decimal(0), 3: Decimal(10), 4: Decimal(2)}
    assert answer.reasons == ("line 1 トマト: 3ケース of 5ケース ('3ケース' on line 2)",
                              "line 2 キャベツ（国産）: none of 3ケース ('欠品' on line 2)")


def test_the_quoted_order_sheet_with_its_example_answers_is_not_read_as_an_answer() -> None:
    for charset, style in (("iso-2022-jp", "top"), ("shift_jis", "outlook"), ("utf-8", "bottom")):
        answer = mail_answer("承りました。よろしくお願いいたします。", charset, style)
        assert answer.intent is OrderIntent.CONFIRM, (charset, style)
        assert answer.reasons == ("found '承りました' on line 1",)


def test_a_decline_in_iso_2022_jp_is_read_end_to_end() -> None:
    answer = mail_answer("申し訳ございませんが、今回はお受けできません。", "iso-2022-jp")
    assert answer.intent is OrderIntent.DECLINE
    assert answer.reasons == ("found 'お受けできません' on line 1",)


# ---------------------------------------------------------------------------------------------
# The registry

def order_context(answer: str, written_on: date = TODAY) -> ParseContext:
    return ParseContext(mail=parse_mail(supplier_mail(answer)), object_type="order", known_texts=(SHEET,),
                        written_on=written_on, order_lines=ORDER)


def test_the_order_reply_parser_is_chosen_for_an_order_and_only_for_it() -> None:
    assert isinstance(choose(order_context("承りました")), OrderReplyParser)
    assert OrderReplyParser().score(ParseContext(mail=order_context("x").mail, object_type="invitation",
                                                 known_texts=(), written_on=TODAY)) == 0.0
    assert "order_reply" in [parser.name for parser in REGISTRY]


def test_the_parse_result_holds_the_answer_as_json() -> None:
    result = OrderReplyParser().parse(order_context("トマトは３ケースのみです。\n明日納品します。",
                                                    written_on=date(2026, 11, 24)))
    assert result.parser == "order_reply"
    assert result.confidence >= REVIEW_BAR
    assert result.data["intent"] == "partial"
    assert result.data["quantities"] == {"1": "3", "2": "3", "3": "10", "4": "2"}
    assert result.data["delivery_date"] == "2026-11-25"  # 明日 counts from the day the reply came in
    assert result.data["evidence"] == "トマトは3ケースのみです。\n明日納品します。"
    reply = result.data["reply_text"]
    assert isinstance(reply, str) and reply.startswith("トマトは3ケースのみです。\n明日納品します。")
    assert "TEL 03-1234-5678" in reply  # the signature stays in the text, and says nothing
    json.dumps(dict(result.data))  # stored with the message as JSON


def test_relative_dates_count_from_the_day_the_reply_was_written() -> None:
    result = OrderReplyParser().parse(order_context("承りました。明日納品します。", written_on=date(2027, 12, 31)))
    assert result.data["intent"] == "confirm"
    assert result.data["quantities"] == {}
    assert result.data["delivery_date"] == "2028-01-01"


def test_an_unclear_order_reply_has_no_intent_and_says_why() -> None:
    result = OrderReplyParser().parse(order_context("ピーマン欠品です"))
    assert result.data["intent"] is None
    assert result.confidence < REVIEW_BAR
    assert result.reasons == ("'ピーマン' is not on the order ('欠品' on line 1)",)
