"""Text normalization shared by every parser.

Partners type answers with whatever their input method produces: full-width
letters and digits, half-width katakana, ideographic spaces. Matching has to
see through all of that, so everything compared is first put in one form.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold_for_match", "normalize_text"]

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
    return _WHITESPACE.sub("", normalize_text(s).lower())
