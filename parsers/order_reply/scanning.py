"""Sentences of an answer, and the tokens of a sentence: items, masked cushions and dates, quantities, words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

from parsers.dates import find_dates
from parsers.order_reply.answer import LineRef
from parsers.order_reply.items import Key, find_items
from parsers.order_reply.tokens import K, Scan, Sentence, Token
from parsers.order_reply.vocabulary import QTY_RULES, QUIET_RULES, WORD_RULES
from parsers.units import parse_number, unit_of

# Dates are only masked in sentences (their value is read separately), so any reference day will do.
_ANY_DAY = date(2000, 1, 1)

# Clauses end at these (read with cushions masked, so 申し訳ありませんが is no end).
_BREAK = re.compile(r"(?:です|ます|ません|でした|ました)が|けれど(?:も)?|けど|ただし|但し|一方|しかし|なお|;"
                    r"|(?<![a-z])(?:but|however|although|though|whereas|while)(?![a-z])")
_SENTENCE = re.compile(r"[^。!?]+[。!?]*|[。!?]+")
_EN_STOP = re.compile(r"(?<![0-9])(?<!no)\.(?=\s)", re.I)


def sentences(line: str) -> list[str]:
    out: list[str] = []
    for part in _SENTENCE.findall(line):
        out.extend(p for p in _EN_STOP.split(part) if p.strip())
    return out


def scan_sentence(sentence: Sentence, keys: Mapping[int, list[Key]], order: Mapping[int, LineRef]) -> Scan:
    """Items first (a product name is a name, whatever words are in it), then dates and cushions, quantities, words."""
    text = sentence.text
    tokens = find_items(text, keys, order)
    masked = _mask(text, [(t.start, t.end) for t in tokens])
    hidden = [(d.start, d.end) for d in find_dates(masked, _ANY_DAY)]
    for rule in QUIET_RULES:
        hidden += [m.span() for m in rule.pattern.finditer(_mask(masked, hidden))]
    quiet = _mask(text, hidden)
    masked = _mask(masked, hidden)
    tokens += _quantities(masked)
    masked = _mask(masked, [(t.start, t.end) for t in tokens])
    for rule in WORD_RULES:
        for match in rule.pattern.finditer(masked):
            word = match.group(0).strip("\x00 ")
            if word:
                tokens.append(Token(rule.kind, match.start(), match.end(), word, rule.weight))
        # Mask what matched so shorter words inside it ("受注" in "受注できません") are not seen again.
        masked = rule.pattern.sub(_blank, masked)
    tokens.sort(key=lambda t: t.start)
    ends = [m.end() for m in _BREAK.finditer(quiet)]
    for token in tokens:
        token.clause = sum(1 for end in ends if end <= token.start)
    return Scan(tokens, quiet)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


def _blank(match: re.Match[str]) -> str:
    return "\x00" * len(match.group(0))


def _quantities(text: str) -> list[Token]:
    tokens: list[Token] = []
    for pattern in QTY_RULES:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            amount = parse_number(groups["n"])
            if amount is None:
                continue
            unit_word = groups.get("u") or groups.get("mu") or ""
            token = Token(K.QTY, match.start(), match.end(), match.group(0), amount=amount,
                          unit=unit_of(unit_word) if unit_word else None, unit_word=unit_word)
            if groups.get("m"):
                token.total = parse_number(groups["m"])
                token.total_unit = unit_of(groups["mu"]) if groups.get("mu") else token.unit
            tokens.append(token)
        text = pattern.sub(_blank, text)
    return tokens
