"""Which product of a supplier's master a buyer meant by what it wrote (or what OCR read of it).

Buyers write product names their own way: ``ﾄﾏﾄ`` for ``トマト (桃太郎)``, ``たまねぎ`` for
``玉ねぎ 10kg``, ``長ネギ`` for ``長ねぎ``; fax OCR adds its own confusions (``ロ`` for
``口``, ``一`` for ``ー``, ``カ`` for ``力``). Each name is compared in two forms:

- its *key*: NFKC, katakana for hiragana, lower case, without spaces, punctuation and
  the bracketed or size part (``(桃太郎)``, ``10kg``, ``2L``), with OCR look-alikes folded
  into one character;
- its *reading*: the key with kanji turned into katakana by pykakasi (``玉ねぎ`` and
  ``たまねぎ`` both read ``タマネギ``);
- its key and reading without dakuten (``しめし`` for ``しめじ``, as fax OCR loses them), at ``VOICELESS``.

A buyer's remembered aliases (an operator's earlier corrections) are exact and win.
Otherwise the best fuzzy score (rapidfuzz) over both forms names the product; the
confidence is that score, lowered when another product scores almost as well,
because a name that fits two products is not a match to act on.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from parsers.normalize import fold_kana

__all__ = ["CatalogEntry", "ProductMatch", "alias_key", "item_key", "match_product", "SURE"]

SURE = 0.9  # a match at least this good, and clearly better than the next, is taken without review
RESEMBLES = 0.75  # below this a name is not taken for any product, only shown as the closest
_MARGIN = 0.08  # how much better than the runner-up a match must be to keep its score
# Fax OCR drops a dakuten now and then (しめじ read しめし, にんじん にんしん): names compared without them
# count a little less than the same name.
VOICELESS = 0.95

# Characters fax OCR and hurried writers swap: each group folds to its first member.
_LOOKALIKES = {
    "ー": "ー一－‐—―─-~〜",
    "ロ": "ロ口",
    "カ": "カ力",
    "エ": "エ工",
    "タ": "タ夕",
    "ト": "ト卜",
    "ハ": "ハ八",
    "ニ": "ニ二",
    "ヘ": "ヘへ",
    "束": "束東",
    "0": "0oO〇",
    "1": "1lI|",
    # Faint fax pixels lose the handakuten's circle and shrink small kana: compare them as their plain forms.
    "バ": "バパ", "ビ": "ビピ", "ブ": "ブプ", "ベ": "ベペ", "ボ": "ボポ",
    "ア": "アァ", "イ": "イィ", "ウ": "ウゥ", "オ": "オォ", "ツ": "ツッ", "ヤ": "ヤャ", "ユ": "ユュ", "ヨ": "ヨョ",
}
_FOLD = str.maketrans({ch: first for first, group in _LOOKALIKES.items() for ch in group})
_BRACKETED = re.compile(r"[(\[（【「<＜〔][^)\]）】」>＞〕]*[)\]）】」>＞〕]?")
_SIZE = re.compile(r"\d+(?:\.\d+)?\s*(?:kg|g|l|ml|cm|mm|個入り?|本入り?|枚入り?|入り?|p|pc|pcs)(?![a-z])", re.I)
_LEADERS = re.compile(r"^ー+|ー{2,}")
_NOT_NAME = re.compile(r"[\s・･.,、。:：;/／*＊#＃'\"“”‘’`_]+")


@dataclass(frozen=True)
class CatalogEntry:
    product_id: int
    name: str
    unit: str = ""
    unit_price: int | None = None


@dataclass(frozen=True)
class ProductMatch:
    product_id: int | None
    name: str  # the product's name in the master ("" when none)
    confidence: float  # 0..1
    via: str  # "alias", "name", "fuzzy" or "none"
    runner_up: str | None = None  # the next best product, when it was close
    reason: str | None = None  # why it is not sure

    def as_json(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "name": self.name, "confidence": round(self.confidence, 3),
                "via": self.via, "runner_up": self.runner_up, "reason": self.reason}


def item_key(text: str) -> str:
    """The form names are compared in: ``ﾄﾏﾄ（桃太郎）`` → ``トマト``; the empty string when nothing is left."""
    s = fold_kana(unicodedata.normalize("NFKC", text)).lower()
    stripped = _SIZE.sub("", _BRACKETED.sub("", s))
    s = stripped if _NOT_NAME.sub("", stripped) else s  # a name that is all brackets keeps them
    # no name starts with ー or holds two: what is left of a rule or a dotted leader between its words
    return _LEADERS.sub("", _NOT_NAME.sub("", s).translate(_FOLD))


def whole_key(text: str) -> str:
    """Like ``item_key`` but keeping what is bracketed and the sizes: tells ``トマト(中玉)`` from ``トマト(桃太郎)``."""
    return _NOT_NAME.sub("", fold_kana(unicodedata.normalize("NFKC", text)).lower()).translate(_FOLD)


def alias_key(text: str) -> str:
    """What a buyer's remembered alias is kept under: the whole name as written, brackets and sizes too, since
    an alias for 豆腐(絹) must not name the product for 豆腐(木綿)."""
    return whole_key(text)


_KAKASI_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    import pykakasi  # loads its dictionaries (~0.8 s): only when a name needs reading

    return pykakasi.kakasi()  # type: ignore[no-untyped-call]


@lru_cache(maxsize=4096)
def reading(key: str) -> str:
    """``key`` with kanji and hiragana as katakana: how the name sounds."""
    if all(not _is_kanji(ch) for ch in key):
        return key
    with _KAKASI_LOCK:  # pykakasi keeps state between calls
        parts = _kakasi().convert(key)
    return "".join(part["kana"] for part in parts).translate(_FOLD)


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _score(a: str, b: str) -> float:
    # No credit for one name inside another: プチトマト holds トマト and is not トマト (桃太郎).
    return fuzz.ratio(a, b) / 100 if a and b else 0.0


_TRAILING_UNIT = re.compile(r"(?:ケース|パック|ハコ|箱|束|玉|本|袋|個|枚|尾|cs|pk|kg|g|l)$")


def _forms(name: str) -> set[str]:
    """The keys a name is compared by: whole, without brackets and sizes, and without a trailing unit word."""
    whole, short = whole_key(name), item_key(name)
    forms = {whole, short}
    bare = _TRAILING_UNIT.sub("", short)
    if len(bare) >= 2:
        forms.add(bare)
    return {form for form in forms if form}


def _voiceless(key: str) -> str:
    """The key with every dakuten and handakuten dropped: シメジ → シメシ."""
    return unicodedata.normalize("NFC", "".join(ch for ch in unicodedata.normalize("NFD", key)
                                                if ch not in "\u3099\u309a"))


def _similarity(written: str, name: str) -> float:
    best = 0.0
    for w in _forms(written):
        for n in _forms(name):
            best = max(best, _score(w, n), _score(reading(w), reading(n)),
                       VOICELESS * _score(_voiceless(w), _voiceless(n)),
                       VOICELESS * _score(_voiceless(reading(w)), _voiceless(reading(n))))
    return best


def match_product(written: str, catalog: Sequence[CatalogEntry],
                  aliases: Mapping[str, int] | None = None) -> ProductMatch:
    """The product ``written`` names, with how sure that is; ``product_id`` None when none fits."""
    if not item_key(written):
        return ProductMatch(None, "", 0.0, "none", reason="no item name")
    by_id = {entry.product_id: entry for entry in catalog}
    key = alias_key(written)
    if aliases and key in aliases and aliases[key] in by_id:
        entry = by_id[aliases[key]]
        return ProductMatch(entry.product_id, entry.name, 1.0, "alias")
    # The name exactly as in the master (brackets and sizes included) is that product, however alike the others.
    exact = [entry for entry in catalog if whole_key(entry.name) == whole_key(written)]
    if len(exact) == 1:
        return ProductMatch(exact[0].product_id, exact[0].name, 1.0, "name")
    scored = sorted(((_similarity(written, entry.name), entry) for entry in catalog),
                    key=lambda pair: pair[0], reverse=True)
    if not scored or scored[0][0] < RESEMBLES:
        best = f" (closest: {scored[0][1].name})" if scored and scored[0][0] >= 0.5 else ""
        return ProductMatch(None, "", scored[0][0] if scored else 0.0, "none",
                            reason=f"{written!r} is not a product of this supplier{best}")
    score, entry = scored[0]
    runner = scored[1] if len(scored) > 1 else None
    via = "name" if score == 1.0 else "fuzzy"
    if runner is not None and score - runner[0] < _MARGIN:
        return ProductMatch(entry.product_id, entry.name, min(score, SURE - 0.15), via, runner[1].name,
                            f"{written!r} fits both {entry.name!r} and {runner[1].name!r}")
    reason = None if score >= SURE else f"{written!r} only resembles {entry.name!r} ({score:.2f})"
    return ProductMatch(entry.product_id, entry.name, score, via, reason=reason)
