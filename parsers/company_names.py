"""Company names as the registration desk searches them: the name without its legal form.

Before a company applies for an ID it is looked up by name, and the manual counts all of 「株式会社　インフォ
商会」, 「(株)インフォ商会」, 「ｲﾝﾌｫ商会㈱」 and 「インフォ商会 株式会社」 as one name, as it does
"Info Shokai Co., Ltd." and "INFO SHOKAI INC". ``company_key`` is that one name:

- NFKC (``parsers.normalize``): full- and half-width are one, ㈱ is (株) and ㍿ 株式会社;
- Japanese legal forms (``JAPANESE_FORMS``) removed wherever they stand, written out or abbreviated in
  brackets: they are never part of an ordinary word;
- English ones (``ENGLISH_FORMS``) removed only as whole words at the end of the name, or for the
  romanized 株式会社 and its abbreviations also at the start: "Limited" and "Company" are ordinary
  words too, so "Info Corp. Japan" keeps its "corp";
- case folded; spaces, punctuation (the middle dot ・ included) and the long-vowel mark ー dropped, with
  every dash typed in its place: the search should find 「コンピューター」 under 「コンピュータ」 and
  「コ-ヒ-」 under 「コーヒー」, and one more name to look at costs the desk less than a duplicate ID.

Hiragana and katakana stay apart (さくら and サクラ can be two companies), and so do old and new kanji.
The key is empty for a name that is nothing but a legal form; it is a search key, not a display.
"""

from __future__ import annotations

import re
import unicodedata

from parsers.normalize import normalize_text

__all__ = ["ENGLISH_FORMS", "JAPANESE_FORMS", "company_key", "display_name", "legal_form"]

# Each form as registered, with the abbreviations written in brackets for it ((株), and ㈱, which NFKC
# makes (株)). Where one form ends another (社団法人, 一般社団法人) the longer one is removed first.
JAPANESE_FORMS: dict[str, tuple[str, ...]] = {
    "株式会社": ("株",),
    "有限会社": ("有",),
    "合同会社": ("同",),
    "合資会社": ("資",),
    "合名会社": ("名",),
    "相互会社": (),
    "一般社団法人": ("一社",),
    "一般財団法人": ("一財",),
    "公益社団法人": ("公社",),
    "公益財団法人": ("公財",),
    # The forms before 2008, still on letterheads; (社) and (財) (㈳, ㈶) say no more than these.
    "社団法人": ("社",),
    "財団法人": ("財",),
    "特定非営利活動法人": ("特非",),
    "NPO法人": (),
    "社会福祉法人": ("福",),
    "医療法人社団": (),
    "医療法人財団": (),
    "医療法人": ("医",),
    "学校法人": ("学",),
    "宗教法人": ("宗",),
    "農事組合法人": ("農",),
    "有限責任事業組合": (),
    "監査法人": ("監",),
    "弁護士法人": (),
    "税理士法人": (),
    "司法書士法人": (),
    "行政書士法人": (),
}

# English forms as written out, and the pattern each is read by in casefolded NFKC text. ``True`` where
# the form may also lead the name ("K.K. Info Shokai", "Kabushiki Kaisha Info Shokai").
ENGLISH_FORMS: tuple[tuple[str, str, bool], ...] = (
    ("Co., Ltd.", r"co\.?\s*,?\s*ltd\.?", False),
    ("Company Limited", r"company\s*,?\s*limited", False),
    ("Ltd.", r"ltd\.?", False),
    ("Limited", r"limited", False),
    ("Inc.", r"inc\.?", False),
    ("Incorporated", r"incorporated", False),
    ("Corp.", r"corp\.?", False),
    ("Corporation", r"corporation", False),
    ("Co.", r"co\.?", False),
    ("Company", r"company", False),
    ("LLC", r"l\.?\s*l\.?\s*c\.?", False),
    ("K.K.", r"k\.?\s*k\.?", True),
    ("G.K.", r"g\.?\s*k\.?", True),
    ("Y.K.", r"y\.?\s*k\.?", True),
    ("Kabushiki Kaisha", r"kabushiki\s*-?\s*[kg]aisha", True),
    ("Godo Kaisha", r"god(?:ou?|oh|ō)\s*-?\s*[kg]aisha", True),
    ("Yugen Kaisha", r"y(?:uu?|ū)gen\s*-?\s*[kg]aisha", True),
)


def _fold(s: str) -> str:
    # NFKC again after casefold, as name_key does: casefold can leave text NFKC would still change.
    return unicodedata.normalize("NFKC", normalize_text(s).casefold())


def _spelled(form: str) -> str:
    # Spaces may fall anywhere inside a form (「株式　会社」, 「( 株 )」), as they do between its characters.
    return r"\s*".join(re.escape(c) for c in _fold(form))


_JAPANESE_SPELLINGS = sorted(((_fold(spelling), form) for form, abbreviations in JAPANESE_FORMS.items()
                              for spelling in (form, *(f"({a})" for a in abbreviations))),
                             key=lambda pair: -len(pair[0]))
_JAPANESE = re.compile("|".join(f"(?P<j{i}>{_spelled(spelling)})"
                               for i, (spelling, _) in enumerate(_JAPANESE_SPELLINGS)))

# A whole word: no Latin letter or digit touching it on either side (Japanese text may, 「インフォ商会Inc.」),
# nor a letter's dot before it: the "K. K" in "G.K. K" is no K.K.
_LATIN = r"0-9a-z\u00c0-\u024f"
_ENGLISH_ALTERNATIVES = "|".join(f"(?P<e{i}>{pattern})" for i, (_, pattern, _) in enumerate(ENGLISH_FORMS))
_ENGLISH_LEADING_ALTERNATIVES = "|".join(f"(?P<e{i}>{pattern})" for i, (_, pattern, leads)
                                         in enumerate(ENGLISH_FORMS) if leads)
_ENGLISH_AT_END = re.compile(rf"(?<![{_LATIN}])(?<![{_LATIN}]\.)(?:{_ENGLISH_ALTERNATIVES})[\W_]*\Z")
_ENGLISH_AT_START = re.compile(rf"\A[\W_]*(?:{_ENGLISH_LEADING_ALTERNATIVES})(?![{_LATIN}])")

# ー and the dashes typed for it; punctuation (・ too), spaces and control characters go by category.
_LONG_VOWEL_MARKS = frozenset("ー−─━")
# A pass can join text into something a further pass changes (「In C」 becomes "inc", a legal form once
# the space is gone; a mark after a removed space composes with the letter before it). Real names
# settle in two; the bound only keeps a pathological text from looping.
_MAX_PASSES = 16


def company_key(name: str) -> str:
    """The name the desk searches by: 「ｲﾝﾌｫ商会㈱」 and 「株式会社　インフォ商会」 are both "インフォ商会"."""
    key = name
    for _ in range(_MAX_PASSES):
        folded = _one_pass(key)
        if folded == key:
            break
        key = folded
    return key


def legal_form(name: str) -> str | None:
    """The legal form in ``name`` as registered or written out ("株式会社" for ㈱, "Co., Ltd."), or None.

    A Japanese form wins over an English one (a bilingual name's registered form is the Japanese);
    of two Japanese ones the first, of two English ones the last (the one the name ends with).
    """
    folded = _fold(name)
    if match := _JAPANESE.search(folded):
        return _JAPANESE_SPELLINGS[_group_index(match)][1]
    if match := _ENGLISH_AT_END.search(folded) or _ENGLISH_AT_START.search(folded):
        return ENGLISH_FORMS[_group_index(match)][0]
    return None


def display_name(name: str) -> str:
    """``name`` to show: NFKC (ｲﾝﾌｫ is インフォ, ＡＢＣ is ABC, ㈱ is (株)), each run of spaces and line breaks
    one space, none at either end.

    Nothing else changes: the legal form stays as the company wrote it, where it wrote it.
    """
    return " ".join(normalize_text(name).split())


def _one_pass(s: str) -> str:
    # Forms become spaces, not nothing, so that "Info株式会社Inc." still ends in a word "inc".
    s = _JAPANESE.sub(" ", _fold(s))
    while True:
        stripped = _ENGLISH_AT_START.sub("", _ENGLISH_AT_END.sub("", s, count=1), count=1)
        if stripped == s:
            break
        s = stripped
    return "".join(c for c in s if not _dropped(c))


def _dropped(c: str) -> bool:
    category = unicodedata.category(c)
    return c in _LONG_VOWEL_MARKS or category[0] in "PZ" or category in ("Cc", "Cf")


def _group_index(match: re.Match[str]) -> int:
    assert match.lastgroup is not None  # every alternative is a named group
    return int(match.lastgroup[1:])
