"""What the sender newly wrote: no quoted history, no signature.

This matters more than it looks: our invitation lists every answer word as an
instruction ("承認 / 非承認 / 保留 のいずれかを…"), so any copy of it left in
a reply reads as a contradictory answer. Quotes are removed by shape
(``>`` lines, attribution lines, Outlook header blocks and separators) and,
for clients that quote without any mark, by comparing lines against the texts
of the mails we sent (``known_texts``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from parsers.mime.html_text import html_to_text
from parsers.mime.parsed_mail import ParsedMail
from parsers.normalize import normalize_text

__all__ = ["strip_quoted", "reply_text"]

# A known line must be at least this long (normalized) to be removed: "承認" alone must stay.
MIN_KNOWN_LINE = 6
# Fragments of our text re-wrapped by the partner's client are removed from this length on.
MIN_KNOWN_FRAGMENT = 16
# A ruled block is taken for a signature only this close to the end.
MAX_SIGNATURE_LINES = 12

_QUOTED = re.compile(r"^[ \t]*>")
_LEADING_MARKS = re.compile(r"^[\s>|]+")
_SPACES = re.compile(r"\s+")

_SEPARATOR = re.compile(
    r"^[ \t]*(?:"
    r"-{2,}[ \t]*(?:original message|元のメッセージ|オリジナル ?メッセージ|forwarded message|転送メッセージ"
    r"|転送されたメッセージ|reply message|message d'origine|ursprüngliche nachricht|mensaje original)[ \t]*-{2,}"
    r"|_{8,}"
    r"|(?:begin forwarded message|転送されたメッセージ|以下転送|forwarded message)[ \t]*:?"
    r")[ \t]*$",
    re.I,
)
_HEADER_FROM = re.compile(r"^[ \t]*\*?(?:from|差出人|送信者|送信元|発信者)\*?[ \t]*:", re.I)
_HEADER_OTHER = re.compile(
    r"^[ \t]*\*?(?:sent|date|to|cc|subject|送信日時|送信日|日時|日付|宛先|件名|cc)\*?[ \t]*:", re.I)

_ON_WROTE = re.compile(
    r"^[ \t]*(?:on|le|am|el|il|em|op|den)\b.{4,300}?(?:wrote|a écrit|schrieb|escribió|scrisse|escreveu|schreef|skrev)"
    r"[ \t]*:?[ \t]*$", re.I)
_DATE_ATTRIBUTION = re.compile(
    r"^[ \t]*(?:\d{2,4}[年/.-][ \t]*\d{1,2}[月/.-][ \t]*\d{1,2}日?|\d{1,2}/\d{1,2}/\d{2,4}).{0,300}"
    r"(?::|wrote:|のメッセージ:|のメール:|さんは書きました:|は書きました:|書きました:|wrote)[ \t]*$", re.I)
_NAME_WROTE = re.compile(
    r"^.{1,300}(?:@|様|さん).{0,100}(?:wrote|書きました|のメッセージ|のメール|からのメール)[ \t]*:[ \t]*$", re.I)
_TIME_OR_ADDRESS = re.compile(r"\d{1,2}:\d{2}|@")
_STARTS_ON = re.compile(r"^[ \t]*(?:on|le|am|el)\b", re.I)

_DASHDASH = re.compile(r"^--[ \t]*$")
_MOBILE_FOOTER = re.compile(
    r"^[ \t]*(?:sent from my \w+|sent from (?:outlook|mail) for \w+|get outlook for \w+"
    r"|(?:iphone|ipad|android|galaxy|xperia|aquos)\s*から送信|(?:iphone|ipad|android)\s*から送っています)",
    re.I)
_RULE_CHARS = set("-=_*~#+・･━─═–—┅┈┉▬■□◆◇●○☆★※")
_SIGNATURE_CLUE = re.compile(
    r"tel|fax|電話|携帯|〒|e-?mail|mail\s*:|url|https?://|www\.|@|株式会社|\(株\)|有限会社|合同会社|\binc\b|co\.,?\s*ltd"
    r"|corporation|\bcorp\b|住所|mobile|phone", re.I)
_CONTACT_LABEL = re.compile(r"担当|contact|person in charge", re.I)


def _fold(line: str) -> str:
    """The form lines are compared in: NFKC, no quote marks, no whitespace, case folded."""
    line = unicodedata.normalize("NFKC", line)
    line = _LEADING_MARKS.sub("", line)
    return _SPACES.sub("", line).casefold()


class _Known:
    def __init__(self, texts: Sequence[str]) -> None:
        self.lines: set[str] = set()
        blobs = []
        for text in texts:
            folded_lines = [_fold(line) for line in normalize_text(text or "").split("\n")]
            self.lines.update(f for f in folded_lines if len(f) >= MIN_KNOWN_LINE)
            blobs.append("".join(folded_lines))
        self.blob = "\n".join(blobs)

    def __contains__(self, line: str) -> bool:
        folded = _fold(line)
        if len(folded) < MIN_KNOWN_LINE:
            return False
        return folded in self.lines or (len(folded) >= MIN_KNOWN_FRAGMENT and folded in self.blob)


def _is_header_block(lines: list[str], i: int) -> bool:
    """An Outlook-style "From: / Sent: / To: / Subject:" block starts at line i."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1:i + 8] if line.strip()][:5]
    return sum(1 for line in following if _HEADER_OTHER.match(line)) >= 2


def _attribution_length(lines: list[str], i: int) -> int:
    """How many lines an attribution ("On … wrote:", "2026年11月21日(土) … <x@y>:") at line i takes."""
    line = lines[i]
    if not line.strip():
        return 0
    if _ON_WROTE.match(line) or _NAME_WROTE.match(line):
        return 1
    # A dated line of the partner's own ("2026年11月25日までに回答します:") has no time or address.
    if _DATE_ATTRIBUTION.match(line) and _TIME_OR_ADDRESS.search(line):
        return 1
    # Clients wrap long attributions: "On …, Name <" / "x@y> wrote:".
    if _STARTS_ON.match(line) or re.match(r"^[ \t]*\d{2,4}[年/.-]", line):
        joined = line
        for extra in (1, 2):
            if i + extra >= len(lines) or not lines[i + extra].strip():
                break
            joined = f"{joined} {lines[i + extra].strip()}"
            if _ON_WROTE.match(joined) or (_DATE_ATTRIBUTION.match(joined) and _TIME_OR_ADDRESS.search(joined)):
                return extra + 1
    return 0


def _is_rule(line: str) -> bool:
    stripped = line.replace(" ", "").replace("\t", "")
    return len(stripped) >= 3 and all(ch in _RULE_CHARS for ch in stripped)


def _cut_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if _DASHDASH.match(line) or _MOBILE_FOOTER.match(line):
            return lines[:i]
    content = [i for i, line in enumerate(lines) if line.strip()]
    for i in content:
        if not _is_rule(lines[i]):
            continue
        block = [line for line in lines[i + 1:] if line.strip() and not _is_rule(line)]
        if not block or len(block) > MAX_SIGNATURE_LINES:
            continue
        text = "\n".join(block)
        # A ruled block with a phone number or company is a signature; one naming a contact is not.
        if _SIGNATURE_CLUE.search(text) and not _CONTACT_LABEL.search(text):
            return lines[:i]
    return lines


def strip_quoted(text: str, known_texts: Sequence[str] = ()) -> str:
    """Only what the sender newly wrote: the top-posted answer or the interleaved new lines."""
    lines = normalize_text(text or "").split("\n")
    known = _Known(known_texts)
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _SEPARATOR.match(line) or _is_header_block(lines, i):
            break  # the original follows unquoted (Outlook): nothing after this is new
        span = _attribution_length(lines, i)
        if span:
            after = i + span
            while after < n and not lines[after].strip():
                after += 1
            if after < n and _QUOTED.match(lines[after]):
                i += span  # the quote below goes line by line; new lines after it stay
                continue
            break  # an attribution over an unquoted original: the rest is history
        if not _QUOTED.match(line) and line not in known:
            out.append(line)
        i += 1
    out = _cut_signature(out)
    return _tidy(out)


def _tidy(lines: list[str]) -> str:
    tidy: list[str] = []
    for line in lines:
        if not line.strip() and (not tidy or not tidy[-1].strip()):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip()


def reply_text(mail: ParsedMail, known_texts: Sequence[str] = ()) -> str:
    """The new text of a reply: from the text/plain part, else from the HTML without its quotes."""
    from_html = False
    if mail.html is not None:
        # ParsedMail.text falls back to the HTML; then read the HTML again, without its quotes.
        from_html = not mail.text.strip() or mail.text == normalize_text(html_to_text(mail.html)).strip("\n")
    if from_html and mail.html is not None:
        return strip_quoted(html_to_text(mail.html, drop_quotes=True), known_texts)
    answer = strip_quoted(mail.text, known_texts)
    if not answer and mail.html is not None:
        # Some clients put only the quote in text/plain; the HTML may still hold the answer.
        return strip_quoted(html_to_text(mail.html, drop_quotes=True), known_texts)
    return answer
