"""Finding the order's items in a sentence: by name (folded, without notes, pack sizes, origins), head word or position.

A product name is matched before any other word, so how a name may be written
(its keys) and where it stands (its mentions) are one concept of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from parsers.normalize import fold_compact, fold_kana
from parsers.order_reply.answer import LineRef
from parsers.order_reply.tokens import K, Token
from parsers.order_reply.vocabulary import POSITION_REF
from parsers.units import NUMBER_PATTERN, UNIT_PATTERN

# Lines matching one mention within this score of the best are equally good: the mention is ambiguous.
_MATCH_MARGIN = 0.1
_HEAD_SCORE = 0.85  # a name matched by its last word only
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]")


@dataclass(frozen=True)
class Key:
    variant: str
    pattern: re.Pattern[str]
    score: float
    katakana_edges: bool


def item_keys(line: LineRef) -> list[Key]:
    """How a line's product may be written, best first: full name, without notes, pack size, origin, head word."""
    name = fold_kana(fold_compact(line.product_name)).strip()
    variants: dict[str, float] = {}

    def add(variant: str, score: float) -> None:
        variant = variant.strip(" -・/")
        if variant and variant not in variants and (len(variant) >= 2 or variant == name):
            variants[variant] = score

    add(name, 1.0)
    bare = re.sub(r"[(\[【「『〔<][^)\]】」』〕>]*[)\]】」』〕>]", "", name).strip()
    add(bare, 0.95)
    sized = re.sub(rf"\s?(?:{NUMBER_PATTERN})\s?(?:{UNIT_PATTERN})?(?:入り?|[x×*]\d+)*$", "", bare).strip()
    add(sized, 0.95)
    plain_name = sized or bare or name
    add(re.sub(r"^(?:国産|[\u4e00-\u9fff]{1,4}産|[a-z]+産)", "", plain_name), 0.9)
    head = re.search(r"[\u30a1-\u30fa\u30fc]{3,}$", plain_name)
    if head and head.group(0) != plain_name:
        add(head.group(0), _HEAD_SCORE)
    words = line.product_name.split()
    if len(words) > 1:
        add(fold_kana(fold_compact(words[-1])), _HEAD_SCORE)
    return [Key(variant, _key_pattern(variant), score,
                bool(_KATAKANA.match(variant[0]) or _KATAKANA.match(variant[-1])))
            for variant, score in variants.items()]


def _key_pattern(variant: str) -> re.Pattern[str]:
    """Japanese names match anywhere; English ones as words, singular or plural (tomato, tomatoes)."""
    if not re.fullmatch(r"[a-z0-9 '&.-]+", variant):
        return re.compile(re.escape(variant))
    stem, last = variant.rsplit(" ", 1) if " " in variant else ("", variant)
    if last.endswith("ies"):
        last = re.escape(last[:-3]) + "(?:y|ies)"
    elif last.endswith(("oes", "ches", "shes", "xes", "sses")):
        last = re.escape(last[:-2]) + "(?:es)?"
    elif last.endswith("s") and not last.endswith("ss"):
        last = re.escape(last[:-1]) + "s?"
    elif last.endswith("y"):
        last = re.escape(last[:-1]) + "(?:y|ies)"
    elif last[-1:].isalpha():
        last = re.escape(last) + "(?:es|s)?"
    else:
        last = re.escape(last)
    prefix = re.escape(stem + " ") if stem else ""
    return re.compile(rf"(?<![a-z0-9]){prefix}{last}(?![a-z])")


def find_items(text: str, keys: Mapping[int, list[Key]], order: Mapping[int, LineRef]) -> list[Token]:
    """Mentions of the order's items: longest span first, then the best-scoring lines for it."""
    folded = fold_kana(text)
    found: dict[tuple[int, int], dict[int, float]] = {}
    for position, line_keys in keys.items():
        for key in line_keys:
            for match in key.pattern.finditer(folded):
                start, end = match.span()
                if key.katakana_edges and _inside_katakana_word(text, start, end):
                    continue
                scores = found.setdefault((start, end), {})
                scores[position] = max(scores.get(position, 0.0), key.score)
    # A mention another line's name ends with may be that line too: トマト for 大玉トマト and ミニトマト.
    for (start, end), scores in found.items():
        mention = folded[start:end]
        for position, line_keys in keys.items():
            if position not in scores and len(mention) >= 2 and any(k.variant.endswith(mention) for k in line_keys):
                scores[position] = _HEAD_SCORE
    for match in POSITION_REF.finditer(text):
        position = int(match.group("p") or match.group("p2"))
        found.setdefault(match.span(), {})[position] = 1.0 if position in order else 0.0
    tokens: list[Token] = []
    taken: list[tuple[int, int]] = []
    for (start, end), scores in sorted(found.items(), key=lambda f: (f[0][0] - f[0][1], f[0][0])):
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        best = max(scores.values())
        lines = tuple(sorted((p for p, s in scores.items() if s > best - _MATCH_MARGIN and s > 0),
                             key=lambda p: (-scores[p], p)))
        tokens.append(Token(K.ITEM, start, end, text[start:end], lines=lines))
    return tokens


def _inside_katakana_word(text: str, start: int, end: int) -> bool:
    """A katakana name inside a longer katakana word: トマト in トマトジュース or in ミニトマト."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return bool((_KATAKANA.match(text[start]) and before and _KATAKANA.match(before))
                or (_KATAKANA.match(text[end - 1]) and after and _KATAKANA.match(after)))
