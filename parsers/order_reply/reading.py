"""From a sentence's bound tokens to what it says of each order line: quantities, shortfalls, limits, dates.

Everything is collected in a ``Reading``; nothing is decided here, so that a later
sentence can still contradict an earlier one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from parsers.dates import find_dates
from parsers.normalize import fold_compact, fold_kana, normalize_text
from parsers.order_reply.answer import LineRef
from parsers.order_reply.tokens import K, Scan, Sentence, Token
from parsers.units import Unit, convert, plain, unit_of

_DELIVERY = re.compile(r"納品|納入|お届け|届け|届き|配送|配達|発送|出荷|着|納期|deliver|delivery|ship|arriv|dispatch")
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309f]+$")
# After a shortfall word, only a label form names the item: "欠品: ピーマン", 「欠品はピーマンです」.
_LABEL = re.compile(r"^\x00*(?:[:=→\-]|は|is |are )")
_PARTICLES = re.compile(r"^(?:[\s:=→\-、,.。]|は|が|の|も|を|に|について|につきましては|です|でございます"
                        r"|the |our |your )+"
                        r"|(?:[\s:=→\-、,.。]|は|が|の|も|を|ですが|については|につきましては|です|でございます"
                        r"|が現在|は現在| is| are| was| were| currently| now| all)+$")
_FILLER_NAME = re.compile(r"^(?:現在|ただいま|只今|今回|今回は|一部|ご注文|ご注文の|注文|商品|品物"
                          r"|the|some|one|an?|is|are|currently|now|item|items|product|products)?$")


@dataclass(frozen=True)
class Said:
    """What the text says one line (or the rest of the order) will get."""

    amount: Decimal  # in the ordered unit
    word: str
    sentence: Sentence
    explicit: bool  # a shortfall word, not just a smaller number


Hit = tuple[Token, Sentence]


@dataclass
class Reading:
    """Everything read from the text, before deciding."""

    confirms: list[Hit] = field(default_factory=list)
    declines: list[Hit] = field(default_factory=list)
    no_shorts: list[Hit] = field(default_factory=list)
    pendings: list[Hit] = field(default_factory=list)
    limits: list[Hit] = field(default_factory=list)
    lacks: list[tuple[int, str, Sentence]] = field(default_factory=list)  # "not enough" of a line, no quantity
    stated: dict[int, list[Said]] = field(default_factory=dict)
    rest: list[Said] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the answer cannot be applied
    doubts: list[str] = field(default_factory=list)  # readings that want a person's look
    questions: list[Sentence] = field(default_factory=list)
    dates: list[tuple[date, str, Sentence, str | None]] = field(default_factory=list)
    evidence: list[Sentence] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.confirms or self.declines or self.no_shorts or self.pendings or self.stated
                    or self.rest or self.problems or self.dates or self.lacks or self.limits)

    def state(self, position: int, said: Said) -> None:
        self.stated.setdefault(position, []).append(said)


def read_tokens(scan: Scan, sentence: Sentence, order: Mapping[int, LineRef], reading: Reading) -> None:
    used = False
    for token in scan.tokens:
        kind = token.kind
        if kind is K.ITEM or kind is K.REST:
            continue
        used = True
        if kind is K.CONFIRM or kind is K.FULL:
            reading.confirms.append((token, sentence))
            items = token.taken_items()
            for position in _named_lines(token, items, scan, sentence, order, reading):
                reading.state(position, Said(order[position].quantity, token.word, sentence, explicit=False))
        elif kind is K.NO_SHORT:
            reading.no_shorts.append((token, sentence))
        elif kind is K.PENDING:
            reading.pendings.append((token, sentence))
        elif kind is K.LIMIT:
            reading.limits.append((token, sentence))
            if token.taken:
                _only(token, scan, sentence, order, reading)
        elif kind is K.QTY:
            _quantity(token, scan, sentence, order, reading)
        elif kind is K.EXCEPT:
            _exception(token, scan, sentence, order, reading)
        elif kind is K.LACK:
            items = token.taken_items()
            if not items:
                reading.limits.append((token, sentence))  # 「在庫不足のため、…」: why the quantities are smaller
            for position in _named_lines(token, items, scan, sentence, order, reading):
                reading.lacks.append((position, token.word, sentence))
        elif token.bound:
            continue  # the sense of an exception, already read there
        elif kind is K.ALL_OUT or (kind is K.DECLINE and not token.taken):
            reading.declines.append((token, sentence))
        else:
            _shortfall(token, scan, sentence, order, reading)
    if used:
        reading.evidence.append(sentence)


def _nothing(token: Token, sentence: Sentence) -> Said:
    """What a shortfall word says a line (or the rest) gets: plainly nothing."""
    return Said(Decimal(0), token.word, sentence, explicit=True)


def _named_lines(token: Token, items: Sequence[Token], scan: Scan, sentence: Sentence,
                 order: Mapping[int, LineRef], reading: Reading) -> list[int]:
    """The lines of the items a word names; none when it names no item (it then speaks of the whole answer)."""
    return (_lines_of(token, items, scan, sentence, order, reading) or []) if items else []


def _lines_of(token: Token, items: Sequence[Token], scan: Scan, sentence: Sentence,
              order: Mapping[int, LineRef], reading: Reading) -> list[int] | None:
    """The order lines of the items a word took; None (the problem noted) when one is unknown or ambiguous."""
    positions: list[int] = []
    for item in items:
        if item.kind is K.REST:
            continue
        if not item.lines:
            reading.problems.append(f"'{item.word}' is not on the order ('{token.word}' on line {sentence.line_no})")
            return None
        if len(item.lines) > 1:
            options = " or ".join(f"line {p} ({order[p].product_name})" for p in item.lines)
            reading.problems.append(f"'{item.word}' could be {options} (line {sentence.line_no})")
            return None
        positions.append(item.lines[0])
    if items:
        return positions
    name = _guess_name(token, scan)
    if len(order) == 1 and name is None:
        return list(order)  # a one-line order: 「欠品です」 can only mean that line
    if name:
        reading.problems.append(f"'{name}' is not on the order ('{token.word}' on line {sentence.line_no})")
    else:
        reading.problems.append(f"'{token.word}' on line {sentence.line_no} does not say which item")
    return None


def _guess_name(token: Token, scan: Scan) -> str | None:
    """The words a shortfall or quantity speaks of when they are no ordered item: 「ピーマン欠品」 → ピーマン."""
    tokens, text = scan.tokens, scan.quiet
    index = tokens.index(token)
    previous = max((t.end for t in tokens[:index] if t.clause == token.clause), default=0)
    following = min((t.start for t in tokens[index + 1:] if t.clause == token.clause), default=len(text))
    before, after = text[previous:token.start], text[token.end:following]
    regions = [(before, -1)] + ([(after, 0)] if _LABEL.match(after) else [])
    for region, which in regions:
        parts = [p for p in re.split(r"[\x00、,。.!:;()「」]+", region) if p.strip()]
        if not parts:
            continue
        candidate = parts[which]
        for _ in range(3):
            candidate = _PARTICLES.sub("", candidate).strip()
        if candidate and len(candidate) <= 20 and not _FILLER_NAME.match(candidate) \
                and not _HIRAGANA_ONLY.match(candidate):
            return candidate
    return None


def _in_ordered_unit(token: Token, line: LineRef, amount: Decimal, unit: Unit | None, sentence: Sentence,
                     reading: Reading) -> Decimal | None:
    """``amount`` in the unit ordered; None (the problem noted) when the units do not convert."""
    if unit is None:
        return amount  # a bare number counts in the unit ordered
    ordered_unit = unit_of(line.unit)
    if ordered_unit is not None:
        converted = convert(amount, unit, ordered_unit)
    elif fold_kana(fold_compact(line.unit)) == fold_kana(fold_compact(token.unit_word)):
        converted = amount
    else:
        converted = None
    if converted is None:
        reading.problems.append(
            f"line {line.position} {line.product_name}: '{token.word}' cannot be compared with the "
            f"{amount_text(line.quantity, line.unit)} ordered (line {sentence.line_no})")
    return converted


def _quantity(token: Token, scan: Scan, sentence: Sentence, order: Mapping[int, LineRef],
              reading: Reading) -> None:
    assert token.amount is not None
    if token.bound:
        return  # 「3ケース → 欠品」: the shortfall after the arrow says it
    if token.takes_rest():
        reading.problems.append(f"a quantity for the rest of the order: '{token.word}' (line {sentence.line_no})")
        return
    for position in _lines_of(token, token.taken, scan, sentence, order, reading) or ():
        line = order[position]
        amount = _in_ordered_unit(token, line, token.amount, token.unit, sentence, reading)
        if amount is None:
            continue
        if token.total is not None:
            total = _in_ordered_unit(token, line, token.total, token.total_unit or token.unit, sentence, reading)
            if total is not None and total != line.quantity:
                reading.problems.append(
                    f"line {position} {line.product_name}: '{token.word}' but "
                    f"{amount_text(line.quantity, line.unit)} were ordered (line {sentence.line_no})")
                continue
        if amount > line.quantity:
            reading.problems.append(
                f"line {position} {line.product_name}: '{token.word}' is more than the "
                f"{amount_text(line.quantity, line.unit)} ordered (line {sentence.line_no})")
            continue
        # "0ケース", "2 of the 5", "5ケース→3ケース" say plainly what comes; a smaller number alone might be
        # a typo or a restatement.
        explicit = amount == 0 or token.total is not None
        reading.state(position, Said(amount, token.word, sentence, explicit=explicit))


def _shortfall(token: Token, scan: Scan, sentence: Sentence, order: Mapping[int, LineRef],
               reading: Reading) -> None:
    """A shortfall word (or a decline that took items): the lines it names get nothing."""
    if token.takes_rest():
        reading.rest.append(_nothing(token, sentence))
    items = token.taken_items()
    if token.taken and not items:
        return  # only "the rest"
    if not items and any(t.kind in (K.DECLINE, K.ALL_OUT) and not t.taken and not t.bound for t in scan.tokens):
        return  # 「在庫切れのため対応できません」: the shortfall is why the whole order is declined
    for position in _lines_of(token, items, scan, sentence, order, reading) or ():
        reading.state(position, _nothing(token, sentence))


def _exception(token: Token, scan: Scan, sentence: Sentence, order: Mapping[int, LineRef],
               reading: Reading) -> None:
    items = token.taken_items()
    positions = _lines_of(token, items, scan, sentence, order, reading)
    if positions is None:
        return
    names = ", ".join(order[p].product_name for p in positions)
    if token.others_out:
        _only_these(positions, token, sentence, order, reading)
    else:
        for position in positions:
            reading.state(position, _nothing(token, sentence))
        reading.doubts.append(f"'{token.word}' read as: {names} not delivered (line {sentence.line_no})")


def _only(token: Token, scan: Scan, sentence: Sentence, order: Mapping[int, LineRef], reading: Reading) -> None:
    positions = _lines_of(token, token.taken, scan, sentence, order, reading)
    if positions is not None:
        _only_these(positions, token, sentence, order, reading)


def _only_these(positions: list[int], token: Token, sentence: Sentence, order: Mapping[int, LineRef],
                reading: Reading) -> None:
    for position in positions:
        reading.state(position, Said(order[position].quantity, token.word, sentence, explicit=True))
    reading.rest.append(_nothing(token, sentence))
    names = ", ".join(order[p].product_name for p in positions)
    reading.doubts.append(f"'{token.word}' read as: only {names} delivered (line {sentence.line_no})")


def read_dates(piece: str, sentence: Sentence, reference: date, reading: Reading) -> None:
    """Dates in a sentence that speaks of delivery: 「11/25納品」, 「明日お届けします」, "deliver on Nov 25".

    In a sentence of several clauses, the clause with the delivery word has the date
    (「本日は定休日のため、明後日の納品になります」); a date elsewhere counts only when that clause has none.
    """
    if not _DELIVERY.search(sentence.text):
        return
    found = find_dates(piece, reference)
    text = normalize_text(piece)
    clauses = [m.span() for m in re.finditer(r"[^、,]+", text) if _DELIVERY.search(m.group(0).lower())]
    in_clause = [d for d in found if any(start <= d.start < end for start, end in clauses)]
    found = tuple(in_clause) or found
    for each in found:
        reading.dates.append((each.value, each.text, sentence, each.note))
    if found and sentence not in reading.evidence:
        reading.evidence.append(sentence)


def amount_text(value: Decimal, unit: str = "") -> str:
    """3ケース, 2.5kg, "3 case": a space only before a unit written in letters."""
    space = " " if unit[:1].isascii() and unit[:1].isalpha() and unit not in ("kg", "g", "l", "L", "ml", "mL") else ""
    return f"{plain(value)}{space}{unit}"
