"""read_invitation_answer: approve / reject / hold in Japanese and English, and the contact person."""

from __future__ import annotations

import pytest

from parsers.intent import Intent, read_invitation_answer

APPROVE = [
    "承認します。よろしくお願いいたします。",
    "承認",
    "承認いたします",
    "承認でお願いします",
    "承諾します",
    "了承しました",
    "同意します",
    "お受けいたします",
    "済",
    "済です",
    "【済】",
    "[済]",
    "「済」",
    "回答：済",
    "OK",
    "OKです",
    "ok",
    "ＯＫ",
    "ｏｋです",
    "Okay, thanks.",
    "We accept your invitation.",
    "Accepted.",
    "I approve.",
    "Approved",
    "We agree.",
    "yes",
    "Yes!",
    "ｼｮｳﾆﾝ、いや承認します",  # half-width katakana around the word
    "承 認 し ま す",  # spaced out
]
REJECT = [
    "非承認",
    "非承認とさせていただきます。",
    "非承認でお願いします。",
    "不承認です",
    "承認しません",
    "承認しない",
    "承認できません",
    "承認いたしかねます",
    "承認は致しかねます",
    "今回はお断りいたします。",
    "お断りします",
    "辞退させていただきます",
    "今回は見送らせていただきます",
    "非",
    "【非】",
    "Sorry, we decline.",
    "We reject the invitation.",
    "We refuse.",
    "We cannot accept.",
    "We can't accept this invitation.",
    "We do not accept.",
    "I don't approve.",
    "We will not approve it.",
    "We are unable to accept.",
    "no",
    "No.",
]
HOLD = [
    "保留",
    "保留でお願いします。社内で確認します。",
    "保留します",
    "未",
    "未です",
    "【未】",
    "承認欄: 未",
    "未承認です",
    "検討中です",
    "社内稟議中のため、少々お待ちください",
    "後日ご回答いたします",
    "まだ承認していません",
    "Please put it on hold for now.",
    "Hold, please.",
    "Not yet.",
    "We have not decided yet.",
    "Pending internal review.",
    "I will answer later.",
]


@pytest.mark.parametrize("reply", APPROVE)
def test_approval_in_any_phrasing_is_read_as_approve(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent == Intent.APPROVE, result.reasons
    assert result.confidence >= 0.8


@pytest.mark.parametrize("reply", REJECT)
def test_refusal_in_any_phrasing_is_read_as_reject(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent == Intent.REJECT, result.reasons
    assert result.confidence >= 0.8


@pytest.mark.parametrize("reply", HOLD)
def test_hold_in_any_phrasing_is_read_as_hold(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent == Intent.HOLD, result.reasons
    assert result.confidence >= 0.8


@pytest.mark.parametrize("reply", ["承認", "非承認", "保留", "済", "未", "OK", "decline"])
def test_a_single_clear_keyword_is_at_least_ninety_percent_sure(reply: str) -> None:
    assert read_invitation_answer(reply).confidence >= 0.9


@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("非承認", Intent.REJECT),
        ("未承認", Intent.HOLD),
        ("承認しません", Intent.REJECT),
        ("承認できません", Intent.REJECT),
        ("承認いたしかねます", Intent.REJECT),
        ("We do not approve", Intent.REJECT),
        ("We can't accept", Intent.REJECT),
        ("we do not accept", Intent.REJECT),
        ("not yet approved", Intent.HOLD),
    ],
)
def test_negative_forms_containing_an_approve_word_are_not_approvals(reply: str, intent: Intent) -> None:
    result = read_invitation_answer(reply)
    assert result.intent == intent
    assert all("contradictory" not in reason for reason in result.reasons)


@pytest.mark.parametrize(
    "reply",
    [
        "確認済みです",  # 済 inside a word
        "ご返済について",
        "非常に良いお話をありがとうございます",
        "未来のために",
        "本の予約(book)をしました",  # "ok" inside a word
        "This is a token of our thanks.",
        "Our household name",
    ],
)
def test_answer_characters_inside_other_words_do_not_count(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent is None
    assert result.reasons == ("no answer word found",)


def test_undecided_is_a_hold_too_vague_to_apply_alone() -> None:
    result = read_invitation_answer("未定です")
    assert result.intent == Intent.HOLD
    assert result.confidence < 0.8


@pytest.mark.parametrize(
    "reply",
    [
        "承認します。\nやはり非承認でお願いします。",
        "承認します。お断りします。",
        "We accept. Actually, we decline.",
        "保留\n承認",
    ],
)
def test_contradictory_answers_give_no_intent(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent is None
    assert result.confidence <= 0.5
    assert result.reasons[0].startswith("contradictory:")


def test_contradiction_reason_names_both_sides() -> None:
    result = read_invitation_answer("承認します。\nやはりお断りします。")
    assert "approve ('承認')" in result.reasons[0]
    assert "reject ('お断り')" in result.reasons[0]


def test_a_clear_answer_outweighs_a_vague_word() -> None:
    result = read_invitation_answer("We accept. I'll send the details later.")
    assert result.intent == Intent.APPROVE
    assert 0.8 <= result.confidence < 0.9


@pytest.mark.parametrize("reply", ["", "ご連絡ありがとうございます。社内で共有いたします。", "Thanks for your mail."])
def test_no_answer_word_gives_no_intent(reply: str) -> None:
    result = read_invitation_answer(reply)
    assert result.intent is None
    assert result.confidence <= 0.5
    assert result.reasons == ("no answer word found",)


def test_answer_words_only_in_a_question_decide_nothing() -> None:
    result = read_invitation_answer("承認するにはどうすればよいですか？")
    assert result.intent is None
    assert read_invitation_answer("承認しますか?").intent is None


def test_conditionals_are_not_answers() -> None:
    assert read_invitation_answer("承認の場合は担当者を書けばよいのでしょうか").intent is None
    assert read_invitation_answer("非承認とした場合、先方に通知されますか").intent is None


def test_reasons_say_which_word_on_which_line() -> None:
    result = read_invitation_answer("お世話になっております。\n非承認でお願いします。")
    assert result.reasons == ("found '非承認' on line 2",)
    assert result.evidence == "非承認でお願いします。"


@pytest.mark.parametrize(
    ("reply", "contact"),
    [
        ("承認します。\n担当者：佐藤 花子", "佐藤 花子"),
        ("承認します。担当者：山田　太郎", "山田 太郎"),
        ("承認します\n担当: 佐藤", "佐藤"),
        ("承認します\n自社の担当者：鈴木 一郎 様", "鈴木 一郎"),
        ("承認します\n担当者は田中です。", "田中"),
        ("承認します\n弊社担当者：高橋（営業部）", "高橋(営業部)"),
        ("OK\nContact person: John Smith", "John Smith"),
        ("Approved.\ncontact: Jane Doe", "Jane Doe"),
        ("Approved.\nPerson in charge: Mr. Ken Sato <ken@partner.example>", "Ken Sato"),
        ("承認します", None),
        ("承認します\n担当者は後日ご連絡します", None),
        ("Please contact us if needed. We accept.", None),
    ],
)
def test_contact_person_is_read_from_a_labelled_line(reply: str, contact: str | None) -> None:
    assert read_invitation_answer(reply).contact_person == contact


def test_a_later_promise_in_the_contact_line_is_still_an_answer() -> None:
    result = read_invitation_answer("担当者は後日ご連絡します")
    assert result.intent == Intent.HOLD and result.contact_person is None


def test_the_contact_name_is_not_read_as_an_answer() -> None:
    result = read_invitation_answer("保留します\n担当者：承 認太郎")
    assert result.intent == Intent.HOLD


def test_full_width_answer_and_contact_are_understood() -> None:
    result = read_invitation_answer("承認します。担当者：山田　太郎")
    assert result.intent == Intent.APPROVE
    assert result.contact_person == "山田 太郎"
    assert read_invitation_answer("ＯＫ").intent == Intent.APPROVE
    assert read_invitation_answer("ＮＯ").intent == Intent.REJECT


def test_the_subject_does_not_answer_by_itself() -> None:
    result = read_invitation_answer("", subject="Re: 【ご招待】株式会社承認商事 様からお取引のご招待が届いています")
    assert result.intent is None
    assert read_invitation_answer("", subject="Re: Invitation from Approve Corp").intent is None


def test_an_edited_subject_answers_when_the_body_does_not() -> None:
    result = read_invitation_answer("よろしくお願いします", subject="Re: 承認")
    assert result.intent == Intent.APPROVE
    assert result.reasons == ("found '承認' in the subject",)
    assert read_invitation_answer("", subject="RE: Fw: 【保留】ご招待").intent == Intent.HOLD


def test_the_body_wins_over_the_subject() -> None:
    assert read_invitation_answer("非承認", subject="Re: 承認").intent == Intent.REJECT


@pytest.mark.parametrize(
    ("reply", "intent"),
    [
        ("承認は保留します", Intent.HOLD),
        ("承認するかどうか社内で検討しています", Intent.HOLD),
        ("承認の可否を確認中です", Intent.HOLD),
        ("We are considering whether to accept.", Intent.HOLD),
        ("We are still deciding whether we will accept", Intent.HOLD),
        ("Not OK.", Intent.REJECT),
        ("オッケーです", Intent.APPROVE),
        ("承認を見送ります", Intent.REJECT),
    ],
)
def test_an_approve_word_under_a_hold_or_refusal_is_not_an_approval(reply: str, intent: Intent) -> None:
    assert read_invitation_answer(reply).intent == intent


def test_a_promise_to_name_the_contact_later_does_not_spoil_an_approval() -> None:
    result = read_invitation_answer("承認します。\n担当者は後ほどご連絡します。")
    assert result.intent == Intent.APPROVE
    assert result.confidence >= 0.8
    assert result.contact_person is None
