"""Text normalization shared by every parser.

Partners type answers with whatever their input method produces: full-width
letters and digits, half-width katakana, ideographic spaces. Matching has to
see through all of that, so everything compared is first put in one form.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_compact", "fold_for_match", "fold_kana", "name_key", "normalize_text"]

# NFKC maps most odd spaces to U+0020 already; these are the ones it leaves
# alone (or that arrive after it ran on already-normalized text).
_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                                    "\u2007\u2008\u2009\u200a\u202f\u205f\u3000"), " ")
# Invisible characters that split keywords ("承\u200b認") without showing.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TRAILING_SPACE = re.compile(r"[ ]+$", re.MULTILINE)
_WHITESPACE = re.compile(r"\s+")


def normalize_text(s: str) -> str:
    """NFKC, ``\\n`` line endings, ASCII spaces, no trailing spaces on any line."""
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = unicodedata.normalize("NFKC", s)
    s = s.translate(_ODD_SPACES).translate(_INVISIBLE)
    return _TRAILING_SPACE.sub("", s)


def fold_for_match(s: str) -> str:
    """normalize_text, lower case, and no whitespace at all: the form keywords are matched in."""
    return _recompose(_WHITESPACE.sub("", normalize_text(s).lower()))


def _recompose(s: str) -> str:
    # A mark that followed a removed space now follows a letter ("ｶ ﾞ" → "カ\u3099"), and lower() can
    # decompose ("İ"): NFKC once more, so that folding folded text changes nothing.
    return unicodedata.normalize("NFKC", s)


def name_key(s: str) -> str:
    """The identity of a name people type: NFKC, no whitespace at all, case-folded.

    ``ﾄﾏﾄ　Ｍサイズ`` and ``トマト mサイズ`` have one key, so registering either overwrites
    the other (products are managed by name). NFKC also folds ``①`` into ``1``.
    """
    return unicodedata.normalize("NFKC", _WHITESPACE.sub("", normalize_text(s)).casefold())


# Hiragana ぁ..ゖ and the iteration marks ゝゞ sit exactly 0x60 below their katakana.
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in (*range(0x3041, 0x3097), 0x309D, 0x309E)}
_ASCII_WORD_CHAR = re.compile(r"[a-z0-9]")


def fold_kana(s: str) -> str:
    """Hiragana as katakana (とまと → トマト), one character for one, so positions stay the same."""
    return s.translate(_HIRAGANA_TO_KATAKANA)


def fold_compact(s: str) -> str:
    """normalize_text and lower case, with whitespace kept only where it separates two ASCII words.

    The one form for text mixing Japanese and English: 「トマト ３ケース」 becomes "トマト3ケース" and
    「承 認」 "承認", while "only 3 cases" keeps its spaces, so English words and numbers keep their
    boundaries. Lines become spaces too (callers split lines first if lines matter).
    """
    text = normalize_text(s).lower()

    def space(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        return " " if _ASCII_WORD_CHAR.match(before) and _ASCII_WORD_CHAR.match(after) else ""

    return _recompose(_WHITESPACE.sub(space, text))

