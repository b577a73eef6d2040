"""strip_quoted / reply_text: only what the partner newly wrote is read, never our quoted invitation."""

from __future__ import annotations

from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from parsers.intent import Intent, read_invitation_answer
from parsers.mime.parse import parse_mail
from parsers.quotes import reply_text, strip_quoted

# Our invitation, as the partner's client quotes it: every answer word is in it.
INVITATION = """株式会社インフォ物産
山田 太郎 様

株式会社インフォ商会 の 鈴木 二郎 様から、
お取引先としてのご招待が届いています。

■ ご回答の方法
このメールにそのまま返信し、本文の最初の行に次のいずれかをお書きください。
  ・承認する（つながります）……「承認」または「済」
  ・承認しない（つながりません）……「非承認」または「非」
  ・保留する（あとで回答します）……「保留」または「未」
自社の担当者を決める場合は「担当者：氏名」と書き添えてください。

承認 / 非承認 / 保留 のいずれかをご返信ください。

招待番号：INV-42
返信先：reply+abc@torii.example

--
このメールは Torii から自動で送信されています。"""


def quoted(text: str, mark: str = "> ") -> str:
    return "\n".join(mark + line if line else mark.rstrip() for line in text.split("\n"))


def test_the_quoted_invitation_itself_reads_as_contradictory() -> None:
    # Why all of this matters: left in, the quote makes every reply unreadable.
    assert read_invitation_answer(INVITATION).intent is None


def test_top_posted_answer_above_a_quoted_invitation_is_all_that_is_left() -> None:
    reply = ("非承認でお願いします。\n\nOn Sat, Nov 21, 2026 at 10:00 AM Torii <reply@torii.example> wrote:\n"
             f"{quoted(INVITATION)}\n")
    assert strip_quoted(reply) == "非承認でお願いします。"
    assert read_invitation_answer(strip_quoted(reply)).intent == Intent.REJECT


def test_full_width_quote_marks_are_quotes_too() -> None:
    reply = f"保留でお願いします\n\n{quoted(INVITATION, '＞')}"
    assert strip_quoted(reply) == "保留でお願いします"


def test_japanese_gmail_attribution_line_is_removed() -> None:
    reply = f"承認します\n\n2026年11月21日(土) 10:00 山田 太郎 <x@y.example>:\n\n{quoted(INVITATION)}"
    assert strip_quoted(reply) == "承認します"


def test_attribution_wrapped_over_two_lines_is_removed() -> None:
    reply = ("承認します\n\nOn Sat, Nov 21, 2026 at 10:00 AM 株式会社インフォ商会 <\nreply@torii.example> wrote:\n\n"
             f"{quoted(INVITATION)}")
    assert strip_quoted(reply) == "承認します"


def test_outlook_original_message_block_without_quote_marks_is_removed() -> None:
    reply = ("保留でお願いします\n\n-----Original Message-----\nFrom: Torii <reply@torii.example>\n"
             "Sent: Saturday, November 21, 2026 10:00 AM\nTo: yamada@partner.example\nSubject: ご招待\n\n"
             f"{INVITATION}")
    assert strip_quoted(reply) == "保留でお願いします"


def test_japanese_outlook_header_block_without_a_separator_is_removed() -> None:
    reply = ("承認します。\n担当者：佐藤 花子\n\n差出人: 株式会社インフォ商会 <reply@torii.example>\n"
             "送信日時: 2026年11月20日 9:00\n宛先: yamada@partner.example\n件名: ご招待\n\n"
             f"{INVITATION}")
    assert strip_quoted(reply) == "承認します。\n担当者:佐藤 花子"


def test_japanese_original_message_separator_is_removed() -> None:
    reply = f"承認します\n\n-----元のメッセージ-----\n{INVITATION}"
    assert strip_quoted(reply) == "承認します"


def test_outlook_underscore_separator_is_removed() -> None:
    reply = f"承認します\n\n________________________________\nFrom: Torii\nSent: today\n\n{INVITATION}"
    assert strip_quoted(reply) == "承認します"


def test_bottom_posted_answer_below_the_quote_is_kept() -> None:
    reply = f"On Fri, Nov 20, 2026 at 9:00 AM Torii <reply@torii.example> wrote:\n{quoted(INVITATION)}\n\n保留します\n"
    assert strip_quoted(reply) == "保留します"


def test_interleaved_answers_are_kept_and_quotes_dropped() -> None:
    reply = "> 承認 / 非承認 / 保留 のいずれかをご返信ください。\n承認します\n> 担当者を決める場合は\n担当者：佐藤"
    assert strip_quoted(reply) == "承認します\n担当者:佐藤"


def test_ruled_signature_block_is_removed_and_its_words_are_not_read() -> None:
    reply = ("承認します。\n\n"
             "━━━━━━━━━━━━━━━━\n株式会社インフォ物産 営業部（非常勤）\n山田 太郎\n〒100-0001 東京都千代田区1-1\n"
             "TEL 03-1234-5678\n━━━━━━━━━━━━━━━━\n\n"
             f"2026年11月20日(金) 9:00 株式会社インフォ商会 <reply@torii.example>:\n{quoted(INVITATION)}")
    assert strip_quoted(reply) == "承認します。"
    result = read_invitation_answer(strip_quoted(reply))
    assert result.intent == Intent.APPROVE and result.confidence >= 0.9


def test_other_rules_and_a_dash_dash_line_start_a_signature() -> None:
    for rule in ("───────────", "＝＝＝＝＝＝＝＝", "-----------------", "************"):
        reply = f"保留します\n{rule}\n株式会社インフォ物産\nTEL: 03-1234-5678 / Mail: yamada@partner.example"
        assert strip_quoted(reply) == "保留します", rule
    assert strip_quoted("承認します\n-- \n山田 太郎\n非承認の件は別途") == "承認します"


def test_a_ruled_block_that_names_the_contact_is_kept() -> None:
    reply = "承認します\n-----\n担当者：佐藤 花子（営業部）"
    assert "担当者:佐藤 花子" in strip_quoted(reply)


def test_mobile_footer_ends_the_answer() -> None:
    assert strip_quoted("承認します\n\niPhoneから送信\n\n> 承認 / 非承認 / 保留") == "承認します"
    assert strip_quoted("Approved.\nSent from my iPhone") == "Approved."


def test_known_texts_remove_unmarked_copies_of_our_mail() -> None:
    # Some clients quote with no mark and no header at all.
    reply = f"非承認でお願いします。\n\n{INVITATION}"
    assert strip_quoted(reply, [INVITATION]).startswith("非承認でお願いします。")
    assert read_invitation_answer(strip_quoted(reply, [INVITATION])).intent == Intent.REJECT
    assert read_invitation_answer(strip_quoted(reply)).intent is None


def test_known_lines_match_across_full_width_spaces_and_quote_marks() -> None:
    reply = ("承認します\n＞ 承認 / 非承認 / 保留　のいずれかを　ご返信ください。\n"
             "承認／非承認／保留のいずれかをご返信ください。")
    assert strip_quoted(reply, [INVITATION]) == "承認します"


def test_short_known_lines_are_not_removed() -> None:
    assert strip_quoted("承認", ["承認\n非承認\n保留"]) == "承認"


def _html_reply(answer_html: str) -> bytes:
    html = (f'<div dir="ltr">{answer_html}</div><br><div class="gmail_quote"><div class="gmail_attr">'
            "2026年11月20日(金) 9:00 Torii &lt;reply@torii.example&gt;:</div>"
            '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid">'
            f'{INVITATION.replace(chr(10), "<br>")}</blockquote></div>')
    msg = MIMEText(html, "html", "utf-8")
    msg["From"] = "yamada@partner.example"
    msg["Subject"] = "Re: ご招待"
    return msg.as_bytes()


def test_reply_text_reads_an_html_only_reply_without_its_blockquote() -> None:
    mail = parse_mail(_html_reply("保留でお願いします<br>担当者：佐藤"))
    assert reply_text(mail) == "保留でお願いします\n担当者:佐藤"


def test_reply_text_prefers_the_plain_part() -> None:
    msg = MIMEMultipart("alternative")
    msg.attach(MIMEText(f"承認します\n\n{quoted(INVITATION)}", "plain", "utf-8"))
    msg.attach(MIMEText("<p>承認します</p><blockquote>非承認</blockquote>", "html", "utf-8"))
    assert reply_text(parse_mail(msg.as_bytes())) == "承認します"


def test_reply_text_drops_an_outlook_html_original() -> None:
    html = ('<html><body><p>承認します</p><div id="divRplyFwdMsg"><b>From:</b> Torii</div>'
            f'<div>{INVITATION.replace(chr(10), "<br>")}</div></body></html>')
    msg = MIMEText(html, "html", "utf-8")
    assert reply_text(parse_mail(msg.as_bytes())) == "承認します"


def test_other_attribution_styles_are_removed() -> None:
    for attribution in ("2026/11/20 9:00、株式会社インフォ商会 <reply@torii.example>のメール:",
                        "2026/11/20 9:00, Torii wrote:",
                        "On 2026/11/20 9:00, Torii wrote:",
                        "株式会社インフォ商会 <reply@torii.example> wrote:"):
        assert strip_quoted(f"保留します\n\n{attribution}\n{quoted(INVITATION)}") == "保留します", attribution


def test_a_dated_line_of_the_partners_own_is_kept() -> None:
    reply = "2026年11月25日までに回答します:\n保留でお願いします"
    assert strip_quoted(reply) == reply
