"""From everything read to one answer: the intent, its confidence, the quantities per line and the reasons."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from parsers.order_reply.answer import ASKS, STRONG, UNCLEAR, VAGUE, WEAK, LineRef, OrderAnswer, OrderIntent
from parsers.order_reply.reading import Hit, Reading, amount_text
from parsers.order_reply.tokens import Sentence
from parsers.units import plain


def decide(reading: Reading, order: Mapping[int, LineRef]) -> OrderAnswer:
    delivery, date_reasons, date_doubt = _delivery_date(reading)
    evidence = _evidence(reading.evidence)
    if reading.empty():
        if reading.questions:
            asked = reading.questions[0]
            return OrderAnswer(None, UNCLEAR, (f"only a question: '{asked.said}' on line {asked.line_no}",), {},
                               None, asked.line)
        return OrderAnswer(None, 0.0, ("no answer word found",), {}, None, None)
    for position, word, sentence in reading.lacks:
        if not any(not said.explicit or said.amount == 0 for said in reading.stated.get(position, [])):
            line = order[position]
            reading.problems.append(f"line {position} {line.product_name}: '{word}' says there is not enough, "
                                    f"not how much (line {sentence.line_no})")
    if reading.problems:
        return OrderAnswer(None, UNCLEAR, tuple(dict.fromkeys(reading.problems)), {}, delivery, evidence)
    quantities, conflicts, line_reasons = _quantities_per_line(reading, order)
    if conflicts:
        return OrderAnswer(None, UNCLEAR, tuple(conflicts), {}, delivery, evidence)
    short = sorted(p for p, q in quantities.items() if q < order[p].quantity)

    strong_yes = [hit for hit in reading.confirms + reading.no_shorts if hit[0].weight >= STRONG]
    if reading.declines and strong_yes:
        (said_yes, at_yes), (said_no, at_no) = strong_yes[0], reading.declines[0]
        reason = (f"contradictory: confirm ('{said_yes.word}' on line {at_yes.line_no}) and decline "
                  f"('{said_no.word}' on line {at_no.line_no})")
        return OrderAnswer(None, UNCLEAR, (reason,), {}, delivery, evidence)
    if reading.no_shorts and short:
        no_short, at = reading.no_shorts[0]
        reason = (f"contradictory: no shortfall ('{no_short.word}' on line {at.line_no}) and "
                  f"{line_reasons[short[0]]}")
        return OrderAnswer(None, UNCLEAR, (reason,), {}, delivery, evidence)

    reasons: list[str] = []
    out: dict[int, Decimal] = {}
    if reading.declines:
        intent = OrderIntent.DECLINE
        confidence = _sureness(reading.declines)
        reasons += _found(reading.declines)
        if reading.confirms:
            confidence = min(confidence - 0.1, WEAK)
            reasons.append(f"weaker confirm word(s) {_words(reading.confirms)} outweighed")
    elif short and len(short) == len(order) and all(quantities[p] == 0 for p in short):
        intent, confidence = OrderIntent.DECLINE, STRONG
        reasons += [line_reasons[p] for p in short]
        reasons.append("no line can be delivered")
    elif short:
        intent, out = OrderIntent.PARTIAL, dict(sorted(quantities.items()))
        reasons += [line_reasons[p] for p in short]
        explicit = reading.limits or reading.confirms or any(
            said.explicit for saids in reading.stated.values() for said in saids)
        confidence = STRONG
        if not explicit:
            confidence = VAGUE
            reasons.append("a smaller quantity is stated without saying it is all that can be delivered")
    elif reading.confirms or reading.no_shorts or reading.stated or reading.rest:
        intent = OrderIntent.CONFIRM
        yes = reading.confirms + reading.no_shorts
        confidence = _sureness(yes) if yes else WEAK
        reasons += _found(yes)
        if yes and max(hit[0].weight for hit in yes) < VAGUE + 0.01:
            reasons.append(f"{_words(yes)} alone is a vague answer")
        if reading.stated:
            reasons.append("every stated quantity is the quantity ordered")
    elif reading.pendings:
        waiting, at = reading.pendings[0]
        return OrderAnswer(None, UNCLEAR, (f"no answer yet: '{waiting.word}' on line {at.line_no}",), {},
                           delivery, evidence)
    elif reading.dates:
        intent, confidence = OrderIntent.CONFIRM, VAGUE
        reasons.append("only a delivery date is stated")
    else:  # only limits: 「在庫が不足しております」
        limit, at = reading.limits[0]
        return OrderAnswer(None, UNCLEAR, (f"'{limit.word}' on line {at.line_no} names no item and no quantity",),
                           {}, delivery, evidence)

    reasons += date_reasons
    caps = [(VAGUE, doubt) for doubt in reading.doubts]
    if date_doubt:
        caps.append((VAGUE, date_doubt))
    if reading.pendings:
        waiting, at = reading.pendings[0]
        caps.append((VAGUE, f"also says it will check: '{waiting.word}' on line {at.line_no}"))
    if reading.questions:
        asked = reading.questions[0]
        caps.append((ASKS, f"also asks: '{asked.said}' on line {asked.line_no}"))
    for cap, why in caps:
        confidence = min(confidence, cap)
        reasons.append(why)
    return OrderAnswer(intent, round(confidence, 2), tuple(dict.fromkeys(reasons)), out, delivery, evidence)


def _quantities_per_line(reading: Reading, order: Mapping[int, LineRef]
                         ) -> tuple[dict[int, Decimal], list[str], dict[int, str]]:
    """Every line's deliverable quantity, conflicts between statements, and a reason per stated line."""
    quantities: dict[int, Decimal] = {}
    conflicts: list[str] = []
    reasons: dict[int, str] = {}
    for position, line in order.items():
        saids = reading.stated.get(position) or reading.rest[:1]
        if not saids:
            quantities[position] = line.quantity
            continue
        if len({said.amount for said in saids}) > 1:
            told = ", ".join(f"'{said.word}' (line {said.sentence.line_no})" for said in saids)
            conflicts.append(f"line {position} {line.product_name}: different quantities {told}")
            continue
        said = saids[0]
        quantities[position] = plain(said.amount)
        ordered = amount_text(line.quantity, line.unit)
        told = f"none of {ordered}" if said.amount == 0 else f"{amount_text(said.amount, line.unit)} of {ordered}"
        reasons[position] = (f"line {position} {line.product_name}: {told} "
                             f"('{said.word}' on line {said.sentence.line_no})")
    return quantities, conflicts, reasons


def _delivery_date(reading: Reading) -> tuple[date | None, list[str], str | None]:
    """The delivery date, the reasons saying so, and a doubt about it (several dates, a wrong weekday)."""
    if not reading.dates:
        return None, [], None
    values = list(dict.fromkeys(value for value, _, _, _ in reading.dates))
    if len(values) > 1:
        return None, [], "several delivery dates: " + ", ".join(value.isoformat() for value in values)
    value, text, sentence, _ = reading.dates[0]
    notes = [note for _, _, _, note in reading.dates if note]
    return value, [f"delivery date {value.isoformat()} ('{text}' on line {sentence.line_no})"], \
        (notes[0] if notes else None)


def _sureness(hits: list[Hit]) -> float:
    best = max(token.weight for token, _ in hits)
    return min(0.99, best + 0.02 * (len(hits) - 1))


def _found(hits: list[Hit]) -> list[str]:
    return list(dict.fromkeys(f"found '{token.word}' on line {at.line_no}" for token, at in hits))[:5]


def _words(hits: list[Hit]) -> str:
    return ", ".join(list(dict.fromkeys(f"'{token.word}'" for token, _ in hits))[:3])


def _evidence(sentences: list[Sentence]) -> str | None:
    lines = list(dict.fromkeys(s.line for s in sentences))
    return "\n".join(lines) if lines else None
