"""Temporary credentials (仮ID・仮パスワード) as partners write them: alphabet, normal form, finding them.

For invitations sent on paper, after manual 000.
A partner without email gets a postcard or a FAX letter carrying a temporary ID
and a temporary password, each 8 half-width alphanumerics (半角英数字8文字).
The partner reads them off paper, possibly off a fax of a fax, and types them
into a mail; our OCR may read them off a faxed-back page. So the alphabet
leaves out every character that paper, fax or OCR turns into another one, and
:func:`normalize_credential` turns the look-alikes a reader may still produce
back into the character we printed.

The alphabet (24 symbols, 8 of them give 24**8 ≈ 1.1e11 ≈ 36.7 bits each):

    digits   2 3 4 5 6 7 8 9
    letters  A C E F H J K M N P R T U W X Y

left out, and why:

    0 O D Q      round shapes: a fax or OCR confuses all four; none of them is kept,
                 so an O (or 0, D, Q) in what a partner typed makes the value invalid
    1 I L        strokes: confused with each other (and with l, |); none kept
    S → 5        5 is kept; S is read back as 5
    Z → 2        2 is kept; Z is read back as 2
    B → 8        8 is kept; B is read back as 8
    G → 6        6 is kept; G is read back as 6
    V → U        U is kept; at fax resolution the two differ by one corner

Digits are kept over their letter twins because OCR engines, told nothing,
prefer digits in a mixed run, and a digit survives a fax's lost pixels better.

:func:`find_credentials` pulls (ID, password) candidates out of a
partner's mail, whatever its layout. How they are generated and stored is
``workflows.credentials``'s.
"""

from __future__ import annotations

import bisect
import logging
import re
import unicodedata
from dataclasses import dataclass

from parsers.normalize import normalize_text
from parsers.quotes import strip_quoted

__all__ = ["ALPHABET", "LENGTH", "LOOK_ALIKES", "find_credentials", "is_well_formed", "normalize_credential"]

log = logging.getLogger(__name__)

ALPHABET = "23456789ACEFHJKMNPRTUWXY"
LENGTH = 8

# Look-alikes left out of ALPHABET, read as the twin that was kept.
LOOK_ALIKES = {"S": "5", "Z": "2", "B": "8", "G": "6", "V": "U"}
_LOOK_ALIKE_TABLE = str.maketrans(LOOK_ALIKES)
# What people and input methods put between groups: spaces and every kind of dash,
# including the katakana prolonged sound mark a Japanese IME types for "-".
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\ufe63"
_SEPARATORS = re.compile(rf"[\s{_DASHES}]+")

def normalize_credential(text: str) -> str:
    """What a partner typed, in the form we printed: NFKC, upper case, no spaces or dashes, look-alikes mapped.

    The result is not necessarily well formed (see :func:`is_well_formed`): an O, 0, 1, I
    or L has no twin in the alphabet and stays as it is.
    """
    text = unicodedata.normalize("NFKC", text).upper()
    return _SEPARATORS.sub("", text).translate(_LOOK_ALIKE_TABLE)


def is_well_formed(value: str) -> bool:
    """True for exactly 8 ALPHABET characters (a normalized credential)."""
    return len(value) == LENGTH and all(ch in ALPHABET for ch in value)



# --- finding credentials in a partner's mail -------------------------------------------------

_ALNUM = "[A-Za-z0-9]"
_SEP = rf"(?:[ \t]?[{_DASHES}][ \t]?|[ \t])?"
# 8 alphanumerics, with at most one separator between any two, that are not part of a
# longer word or of a longer dashed code (a phone number, our own reference).
# Matched inside a lookahead, so that every start is tried, overlapping or not.
_TOKEN_AT = re.compile(
    rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9][{_DASHES}])"
    rf"(?=({_ALNUM}(?:{_SEP}{_ALNUM}){{{LENGTH - 1}}})"
    rf"(?![A-Za-z0-9])(?![ \t]?[{_DASHES}][ \t]?[A-Za-z0-9]))"
)
_ID_LABEL = re.compile(
    r"仮\s*ID|(?:ログイン|ユーザー?|利用者)\s*ID|ID\s*番号"
    r"|(?<![A-Za-z])(?:temp(?:orary)?\.?\s*|login\s*|user\s*)?ID(?![A-Za-z])"
    r"|(?<![A-Za-z])user\s*name(?![A-Za-z])",
    re.IGNORECASE,
)
_PASSWORD_LABEL = re.compile(
    r"仮\s*パスワード|パスワード|暗証番号|(?<![A-Za-z])(?:temp(?:orary)?\.?\s*)?pass\s*-?\s*word(?![A-Za-z])"
    r"|(?<![A-Za-z])(?:passwd|pwd|pw|pass|pin)(?![A-Za-z])",
    re.IGNORECASE,
)
# Only so much of a mail is read: credentials stand near its top, and reading costs ~10 µs a character.
MAX_SCAN = 100_000
# How far before a value its label may stand: this line and the one above, at most this many characters.
_LABEL_REACH = 60


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    line: int
    value: str  # normalized, well formed
    label: str  # "", "id", "password", "id+password", "password+id"
    plain: bool  # typed as printed: groups of 8 or 4+4, every character in ALPHABET, a real digit among them


def _label(gap: str) -> str:
    ids = [m.start() for m in _ID_LABEL.finditer(gap)]
    passwords = [m.start() for m in _PASSWORD_LABEL.finditer(gap)]
    if ids and passwords:
        return "id+password" if ids[0] < passwords[0] else "password+id"
    if ids:
        return "id"
    if passwords:
        return "password"
    return ""


def _tokens(text: str) -> list[_Token]:
    """Well-formed values in ``text``, in order, none overlapping another.

    Every start is tried (a value may hide behind a word glued to it: "WITH KP4M 7RTX");
    where candidates overlap, the one typed as printed wins, then the earlier one.
    """
    candidates: list[tuple[bool, int, int, str, str]] = []
    for match in _TOKEN_AT.finditer(text):
        raw = match.group(1)
        value = normalize_credential(raw)
        if not is_well_formed(value):
            continue
        compact = _SEPARATORS.sub("", raw)
        groups = [len(group) for group in _SEPARATORS.split(raw)]
        plain = (groups in ([8], [4, 4]) and all(ch in ALPHABET for ch in compact.upper())
                 and any(ch.isdigit() for ch in compact))
        candidates.append((plain, match.start(), match.start() + len(raw), raw, value))
    taken = bytearray(len(text))
    chosen: list[tuple[bool, int, int, str, str]] = []
    for candidate in sorted(candidates, key=lambda c: (not c[0], c[1])):
        _, start, end, _, _ = candidate
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            chosen.append(candidate)
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    tokens: list[_Token] = []
    previous_end = 0
    for plain, start, end, _raw, value in sorted(chosen, key=lambda c: c[1]):
        line = bisect.bisect_left(newlines, start)  # newlines before start = the line's index
        above_start = newlines[line - 2] + 1 if line >= 2 else 0
        gap = text[max(previous_end, above_start, start - _LABEL_REACH):start]
        tokens.append(_Token(start, end, line, value, _label(gap), plain))
        previous_end = end
    return tokens


def _pairs(tokens: list[_Token]) -> dict[tuple[str, str], tuple[float, int]]:
    """Every plausible (id, password) pair with its score and position; higher scores are likelier."""
    found: dict[tuple[str, str], tuple[float, int]] = {}

    def add(first: _Token, second: _Token, score: float) -> None:
        if not (first.plain and second.plain):
            score -= 2.0 if not (first.label or second.label) else 0.5
        key = (first.value, second.value)
        position = min(first.start, second.start)
        if key not in found or found[key][0] < score:
            found[key] = (score, position)

    for i, token in enumerate(tokens):
        following = tokens[i + 1:i + 4]
        if token.label == "id":
            for distance, other in enumerate(following):
                if other.label == "password":
                    add(token, other, 10.0 - distance)
                    break
                if other.label == "id":
                    break
            else:
                if following and not following[0].label and following[0].line - token.line <= 1:
                    add(token, following[0], 6.0)
        elif token.label in ("id+password", "password+id") and following and not following[0].label:
            if token.label == "id+password":
                add(token, following[0], 9.0)
            else:
                add(following[0], token, 8.0)
        elif token.label == "password" and following and following[0].label == "id":
            add(following[0], token, 7.0)
        if following and not token.label and not following[0].label:
            distance = following[0].line - token.line
            if distance <= 1:
                add(token, following[0], 5.0 - distance)
    return found


def find_credentials(text: str) -> list[tuple[str, str]]:
    """(temporary ID, temporary password) candidates in a partner's mail, likeliest first; never raises.

    Reads labelled values ("仮ID：KP4M-7RTX", "Password: …", a label on the line above),
    two values on one line ("KP4M7RTX / HN9WE3AC"), full-width characters, spaces and
    dashes inside. What the partner newly wrote ranks above quoted history. Values are
    returned normalized; every one is well formed, but whether it exists is for the caller.
    Only the first ``MAX_SCAN`` characters are read.
    """
    try:
        if not isinstance(text, str) or not text:
            return []
        full = normalize_text(text[:MAX_SCAN])
        scored: dict[tuple[str, str], tuple[float, int]] = {}
        # The partner's own words first, then the whole mail (quotes, signature) as a fallback.
        for bonus, part in ((100.0, strip_quoted(full)), (0.0, full)):
            for key, (score, position) in _pairs(_tokens(part)).items():
                if key not in scored or scored[key][0] < score + bonus:
                    scored[key] = (score + bonus, position)
        ranked = sorted(scored.items(), key=lambda item: (-item[1][0], item[1][1]))
        return [key for key, _ in ranked]
    except Exception:  # a parser never takes a worker down: log it and find nothing
        log.exception("find_credentials failed on a %d-character text", len(text) if isinstance(text, str) else -1)
        return []
