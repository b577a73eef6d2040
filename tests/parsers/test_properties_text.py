"""Properties of the text readers on any text: quotes and signatures, answer intent, normalization, company
names, JAN codes. None raises on what a partner can type (``read_maker_code`` raises only its own
``InvalidJanCode``, a ParserError); and what a partner newly wrote survives the history quoted below it."""

from __future__ import annotations

import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from fuzzing import FUZZ, JAPANESE, typed_text
from parsers.company_names import company_key, display_name, legal_form
from parsers.errors import ParserError
from parsers.intent import Intent, read_invitation_answer
from parsers.jan import check_digit, is_valid_gtin, read_maker_code
from parsers.normalize import fold_compact, fold_for_match, fold_kana, name_key, normalize_text
from parsers.quotes import strip_quoted

# Our invitation mail as a partner's client quotes it: every answer word is in it.
INVITATION = """株式会社インフォ物産
山田 太郎 様

株式会社インフォ商会 の 鈴木 二郎 様から、お取引先としてのご招待が届いています。
このメールにそのまま返信し、本文の最初の行に次のいずれかをお書きください。
  ・承認する（つながります）……「承認」または「済」
  ・承認しない（つながりません）……「非承認」または「非」
  ・保留する（あとで回答します）……「保留」または「未」
承認 / 非承認 / 保留 のいずれかをご返信ください。
You can also answer in English: approve, reject or hold."""

ANSWERS = {
    Intent.APPROVE: ["承認します。", "承認", "済", "【済】", "承諾いたします。", "We accept.", "Approved", "OKです"],
    Intent.REJECT: ["非承認", "非承認とさせていただきます。", "辞退いたします。", "お断りします。", "We decline.",
                    "【非】"],
    Intent.HOLD: ["保留", "保留でお願いします。", "検討させてください。", "未", "Please put it on hold."],
}
answers = st.sampled_from([(intent, text) for intent, texts in ANSWERS.items() for text in texts])
# Lines of courtesy that carry no answer.
COURTESY = ["お世話になっております。", "いつもありがとうございます。", "よろしくお願いいたします。", "Best regards,",
            "山田", "株式会社インフォ物産 営業部", ""]
QUOTE_STYLES = ["gmail", "outlook", "jp_client", "bare_quote", "unquoted_known"]


def quoted(style: str, original: str) -> str:
    """The original below a reply, the way each family of clients writes it."""
    if style == "gmail":
        return "2026年11月21日(土) 10:30 Torii <reply+abc@torii.test>:\n\n" + \
            "\n".join(f"> {line}" for line in original.split("\n"))
    if style == "outlook":
        return "-----Original Message-----\nFrom: Torii\nSent: Saturday, November 21, 2026 10:30 AM\n" \
               "To: 山田 太郎\nSubject: 【ご招待】\n\n" + original
    if style == "jp_client":
        return "----- 元のメッセージ -----\n" + original
    if style == "bare_quote":
        return "\n".join(f">{line}" for line in original.split("\n"))
    return original  # quoted without any mark: known by comparing with what we sent


@FUZZ
@given(typed_text, st.lists(typed_text, max_size=3))
def test_strip_quoted_takes_any_text(text: str, known: list[str]) -> None:
    out = strip_quoted(text, known)
    assert isinstance(out, str)
    # It only removes: every line left is a line of the input (as normalized; the first and last trimmed).
    lines = {line.strip() for line in normalize_text(text).split("\n")}
    assert all(line.strip() in lines for line in out.split("\n") if line.strip())


@FUZZ
@given(answers, st.lists(st.sampled_from(COURTESY), max_size=3), st.sampled_from(QUOTE_STYLES))
def test_the_new_answer_is_read_whatever_the_quoted_history_says(answer: tuple[Intent, str], courtesy: list[str],
                                                                 style: str) -> None:
    intent, text = answer
    reply = "\n".join([*courtesy[:1], text, *courtesy[1:]]) + "\n\n" + quoted(style, INVITATION)
    new = strip_quoted(reply, [INVITATION])
    assert text.strip() in new
    assert "いずれか" not in new
    assert read_invitation_answer(new).intent == intent


@FUZZ
@given(typed_text, st.text(max_size=80))
def test_reading_an_answer_takes_any_text(reply: str, subject: str) -> None:
    result = read_invitation_answer(reply, subject)
    assert 0.0 <= result.confidence <= 1.0
    assert result.reasons
    if result.contact_person is not None:
        assert result.contact_person.strip() and len(result.contact_person) <= 60


def _full_width(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}).replace(" ", "\u3000")


@FUZZ
@given(answers, st.booleans(), st.sampled_from(["", " ", "\u3000", "\u200b"]))
def test_an_answer_means_the_same_however_it_is_typed(answer: tuple[Intent, str], wide: bool, pad: str) -> None:
    intent, text = answer
    typed = pad + (_full_width(text) if wide else text) + pad
    assert read_invitation_answer(typed).intent == intent


@FUZZ
@given(answers, st.sampled_from(["もし", "If you", "承認の場合は"]))
def test_an_answer_inside_a_question_is_not_taken(answer: tuple[Intent, str], _: str) -> None:
    _intent, text = answer
    asked = text.rstrip("。.!") + "でよろしいでしょうか？"
    assert read_invitation_answer(asked).intent is None


@FUZZ
@given(typed_text)
@example("a \u0301")  # found: a mark after a removed space composed only on the second folding
@example("ｶ ﾞ")
def test_normalization_is_idempotent_and_keeps_positions_where_it_promises(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    assert fold_for_match(fold_for_match(text)) == fold_for_match(text)
    assert fold_compact(fold_compact(text)) == fold_compact(text)
    assert name_key(name_key(text)) == name_key(text)
    assert len(fold_kana(text)) == len(text)  # one character for one: positions stay


@FUZZ
@given(typed_text)
def test_company_names_take_any_text(name: str) -> None:
    key = company_key(name)
    assert key == company_key(key)
    form = legal_form(name)
    assert form is None or form.strip()
    shown = display_name(name)
    assert shown == shown.strip() and "\n" not in shown


@FUZZ
@given(st.text(alphabet=JAPANESE, min_size=1, max_size=20).filter(lambda n: company_key(n)),
       st.sampled_from(["株式会社", "(株)", "㈱", "有限会社", "合同会社"]), st.booleans())
def test_a_japanese_name_is_found_with_its_legal_form_anywhere(name: str, form: str, before: bool) -> None:
    formed = f"{form}{name}" if before else f"{name}{form}"
    assert company_key(formed) == company_key(name)
    assert legal_form(formed) is not None


@FUZZ
@given(typed_text)
def test_jan_readers_raise_only_the_parsers_own_error(text: str) -> None:
    try:
        read_maker_code(text)
    except ParserError as refused:
        assert str(refused)
    assert is_valid_gtin(text) in (True, False)
    try:
        check_digit(text)
    except ParserError:
        pass


@FUZZ
@given(st.sampled_from(["45", "49"]), st.text(alphabet="0123456789", min_size=10, max_size=10), st.booleans(),
       st.booleans())
def test_a_jan_code_with_its_check_digit_reads_back_as_its_maker_code(prefix: str, rest: str, wide: bool,
                                                                       hyphens: bool) -> None:
    payload = prefix + rest
    jan = payload + str(check_digit(payload))
    assert is_valid_gtin(jan)
    written = f"{jan[:2]}-{jan[2:9]}-{jan[9:]}" if hyphens else jan
    if wide:
        written = unicodedata.normalize("NFC", _full_width(written))
    try:
        code = read_maker_code(written)
    except ParserError as refused:
        assert jan.startswith("491"), refused  # a magazine code: refused with its reason
    else:
        assert code.full_code == jan and code.digits == jan[:9]
