"""The shared real-world corpus: every mail parses, Japanese decodes right, bounces and auto-replies are known.

The corpus is read where it lies (``../shared/corpus/mail``, read-only) and never copied into the repo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.automatic import MailKind, classify_automatic
from parsers.mime.parse import parse_mail
from parsers.mime.parsed_mail import ParsedMail

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "mail"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file()) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not FILES, reason=f"the shared mail corpus is not at {CORPUS}")

_parsed: dict[Path, ParsedMail] = {}


def parsed(path: Path) -> ParsedMail:
    if path not in _parsed:
        _parsed[path] = parse_mail(path.read_bytes())
    return _parsed[path]


def named(*fragments: str) -> list[Path]:
    return [p for p in FILES if any(f in p.name for f in fragments)]


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_mail_parses_to_text_or_says_why_not(path: Path) -> None:
    mail = parse_mail(path.read_bytes())
    assert mail.text.strip() or mail.defects, f"{path.name}: no text and no defect"


# Plain personal Japanese mails, and a word seen in each (decoded by hand from the bytes).
JAPANESE = {
    "jpmobile__au-attached.eml": ("カレンダー", "題名"),
    "jpmobile__au-decomail.eml": ("テストです", "テスト"),
    "jpmobile__au-kigou.eml": ("(株)(有)(代)明治大正昭和", "test"),  # NEC row 13 in ISO-2022-JP, NFKC'd
    "jpmobile__docomo-gmail-sjis.eml": ("テストです", "テスト"),
    "jpmobile__iphone-unicode-emoji.eml": ("🎄", "絵文字🎅"),
    "jpmobile__pc-mail-attached-without-subject.eml": ("本文です", ""),
    "jpmobile__pc-mail-multi.eml": ("本文です", "タイトルの長いメールの場合の対処を実装する"),
    "jpmobile__pc-mail-single.eml": ("本文です", "件名であるサブジェクト部分"),
    "jpmobile__softbank-gmail-utf8.eml": ("テストです", "テストです"),
    "jpmobile__bounce_with_utf8_part.eml": ("とりあえずHTMLの本文で", "【NurseryMail】"),
    "mailgem__example14.eml": ("Hello", "テストテスト"),
    "mailgem__japanese_iso_2022.eml": ("すみません。", "まみむめも"),
    "mimekit__japanese.txt": ("日本語が\n正常に\n送れているか", "日本語メールテスト"),
    "phpmmp__issue116": ("toto", "ЖД№41 от 28.09.2016"),  # Cyrillic from JIS row 7
}
# jpmobile__iphone-mail3.eml is personal too, but its UTF-8 body carries literal U+FFFD (EF BF BD)
# bytes: the replacement characters are in the source, so it is only spot-checked for its words.


@needs_corpus
@pytest.mark.parametrize("name", sorted(JAPANESE))
def test_japanese_personal_mail_decodes_without_replacement_characters(name: str) -> None:
    mail = parsed(CORPUS / "ja" / name)
    word, subject_part = JAPANESE[name]
    assert word in mail.text
    assert subject_part in mail.subject
    assert "\ufffd" not in mail.text + mail.subject


@needs_corpus
def test_iphone_reply_with_literal_replacement_bytes_still_decodes() -> None:
    mail = parsed(CORPUS / "ja" / "jpmobile__iphone-mail3.eml")
    assert mail.text.startswith("iPhoneから送信")
    assert mail.subject == "Re: 【NKSC】test"


@needs_corpus
def test_mislabelled_japanese_bounce_text_is_read() -> None:
    # Labelled iso-2022-jp, written in EUC-JP.
    mail = parsed(CORPUS / "ja" / "sisimai__lhost-ezweb-02.eml")
    assert "送信できませんでした" in mail.text
    assert any("8-bit" in d for d in mail.defects)


BOUNCE_NAMES = ("lhost-", "rfc3464", "bounce", "bounced", "delivery-status", "multipart_report", "report_")
# Named like a bounce, but not one: jpmobile's "bounce_with_utf8_part" is an iPhone forward
# ("Fwd: 【NurseryMail】…", a text/plain and a text/html part); "bounce" names their test case.
NOT_A_BOUNCE = {"jpmobile__bounce_with_utf8_part.eml"}
BOUNCES = [p for p in named(*BOUNCE_NAMES) if p.name not in NOT_A_BOUNCE]


@needs_corpus
@pytest.mark.parametrize("path", BOUNCES, ids=lambda p: p.name)
def test_bounce_samples_are_bounces(path: Path) -> None:
    verdict = classify_automatic(parsed(path))
    assert verdict.kind == MailKind.BOUNCE, verdict.reason


@needs_corpus
@pytest.mark.parametrize("path", named("rfc3834"), ids=lambda p: p.name)
def test_rfc3834_samples_are_auto_replies_even_with_a_null_sender(path: Path) -> None:
    assert classify_automatic(parsed(path)).kind == MailKind.AUTO_REPLY
    assert classify_automatic(parsed(path), "").kind == MailKind.AUTO_REPLY


@needs_corpus
def test_named_samples_are_what_their_names_say() -> None:
    assert named("rfc3834"), "the corpus has no RFC 3834 sample"
    assert len(BOUNCES) >= 10
    assert classify_automatic(parsed(CORPUS / "ja" / "jpmobile__bounce_with_utf8_part.eml")).kind == MailKind.PERSONAL
    assert classify_automatic(parsed(CORPUS / "torture" / "flanker__disposition-notification.eml")).kind \
        == MailKind.AUTO_REPLY
    assert classify_automatic(parsed(CORPUS / "torture" / "sisimai__arf-01.eml")).kind == MailKind.AUTO_REPLY


@needs_corpus
@pytest.mark.parametrize("name", sorted(JAPANESE))
def test_personal_japanese_mail_is_personal(name: str) -> None:
    assert classify_automatic(parsed(CORPUS / "ja" / name)).kind == MailKind.PERSONAL
