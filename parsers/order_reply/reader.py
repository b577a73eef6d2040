"""Reading a supplier's answer to an order sheet: confirm, partial (quantities per line) or decline.

The supplier answers in its own words, in Japanese or English. What it says is
read sentence by sentence on ``fold_compact`` text (full-width and half-width
folded, spaces only between ASCII words: 「ト マ ト ３ ｹｰｽ」 is "トマト3ケース" and
"out of stock" keeps its spaces), in this order, each match masked before the
next step so that a longer form always wins over a word inside it:

1. **Items**: the order's product names, on kana-folded text (とまと = トマト = ﾄﾏﾄ),
   also without a bracketed note (キャベツ（国産） → キャベツ), a trailing pack size
   (牛乳 1L → 牛乳) or an origin (北海道産 → …), by the head word (大玉トマト → トマト,
   "whole milk" → "milk"), with English plurals. A katakana name never matches inside
   a longer katakana word (トマト is not トマトジュース; ミニトマト is not 大玉トマト); a
   mention that fits several lines about equally is ambiguous. ``No.2`` / ``2番`` /
   "item 2" name a line by its position. Items come first: a name is a name, whatever
   words are in it.
2. **Dates, cushions and conditionals** say nothing (申し訳ありませんが, 欠品の場合は,
   "if any item is out of stock", "please confirm").
3. **Quantities**: a number with a unit (``parsers.units``): "3ケース", "5 kg", and the
   forms that also name the quantity ordered: "2 of the 5 boxes", 「5箱のうち2箱」,
   "5ケース → 3ケース"; a bare number only right before のみ / だけ / しか.
4. **Words**, negative forms before the words inside them: "all out of stock"
   (全て欠品) → decline; a negated shortfall (欠品はありません, "no items are out of
   stock") → confirm; 「しか…ません」 → a limit; a negated acceptance (お受けできません,
   受注できません, "cannot accept") → decline; "everything as ordered" (全部OK, "as
   ordered"); shortfalls (欠品, 品切れ, "out of stock"); "not enough" (不足, "short")
   without a quantity; "will check" (確認します); limits (のみ, なら可能, "only"); "the
   rest" (他は); exceptions (以外, "except"); acceptances (承りました, 手配します,
   "confirmed"), the weak ones last (問題ありません, 了解しました).

Then each word takes the items it speaks of within its clause (a clause ends at a
sentence end and at ですが / "but"; a clause of items only runs on into the next, as
in 「ご注文のキャベツですが、欠品です」): the items written before it and not yet spoken
for, or else the item right after it written as a label or object ("欠品: キャベツ",
"3 cases of tomatoes", "cannot supply the cabbage"). A decline that takes items
declines those lines only; a shortfall taking "the rest" empties the lines not
named; 「トマトのみ」 / "only tomatoes" and 「キャベツ以外は手配します」 are read as such
but sent to review. Words in a question (「…ですか？」) decide nothing. A delivery
date (``parsers.dates``) is read from a sentence that speaks of delivery (納品,
お届け, 出荷, "deliver", …), from the clause with that word when there are several.

Deciding: a stated quantity equal to the one ordered is no shortfall; a line not
mentioned comes as ordered; all lines 0 is a decline, all in full a confirm.
Anything that leaves a line's quantity in doubt (an item not on the order, an
ambiguous match, a unit that does not convert, more than ordered, two quantities
for one line, a shortfall naming no item, "not enough" without a number) gives no
intent and says why; so does a confirm beside a decline. An answer that also asks
a question, promises to check, or names several delivery dates keeps its intent
below the review bar.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from parsers.normalize import fold_compact, normalize_text
from parsers.order_reply.answer import WEAK, LineRef, OrderAnswer, OrderIntent
from parsers.order_reply.binding import take_items
from parsers.order_reply.deciding import decide
from parsers.order_reply.items import item_keys
from parsers.order_reply.reading import Reading, read_dates, read_tokens
from parsers.order_reply.scanning import scan_sentence, sentences
from parsers.order_reply.tokens import K, Sentence

__all__ = ["read_order_answer"]

_QUESTION = re.compile(r"(?:\?|ですか|ますか|でしょうか|ませんか|ですかね|いかが(?:でしょう|ですか)?)[。.!]*$")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|返信|転送)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
_SUBJECT_START = 1  # an answer typed into the subject stands at its very start


def read_order_answer(text: str, lines: Sequence[LineRef], *, written_on: date, subject: str = "") -> OrderAnswer:
    """What the supplier answered in ``text`` (quotes already removed) to the order of ``lines``.

    ``written_on`` is the day the answer was written, in Japan: relative and year-less dates
    (明日, 12/1) are resolved against it. The subject is read only when the body says nothing,
    and only at its start.
    """
    order = {line.position: line for line in lines}
    keys = {line.position: item_keys(line) for line in lines}
    reading = Reading()
    for line_no, raw_line in enumerate(normalize_text(text or "").split("\n"), start=1):
        line = raw_line.strip()
        for piece in sentences(line):
            compact = fold_compact(piece).strip()
            if not compact:
                continue
            sentence = Sentence(line_no, line, piece.strip(), compact, bool(_QUESTION.search(compact)))
            if sentence.question:
                reading.questions.append(sentence)  # its words decide nothing
                continue
            scan = scan_sentence(sentence, keys, order)
            take_items(scan)
            read_tokens(scan, sentence, order, reading)
            read_dates(piece, sentence, written_on, reading)
    if reading.empty() and not reading.questions:
        from_subject = _subject_reading(subject, order)
        if from_subject is not None:
            return from_subject
    return decide(reading, order)


def _subject_reading(subject: str, order: Mapping[int, LineRef]) -> OrderAnswer | None:
    """An answer typed at the very start of the subject when the body says nothing: "Re: 承りました"."""
    cleaned = normalize_text(_REPLY_PREFIX.sub("", subject or "")).strip()
    if not cleaned:
        return None
    sentence = Sentence(0, cleaned, cleaned, fold_compact(cleaned), False)
    # Only the start counts: the rest of "Re: 【発注書】…" is our own wording and the order's lines.
    tokens = [t for t in scan_sentence(sentence, {}, order).tokens
              if t.start <= _SUBJECT_START and t.kind in (K.CONFIRM, K.FULL, K.DECLINE, K.ALL_OUT, K.NO_SHORT)]
    if not tokens:
        return None
    token = tokens[0]
    intent = OrderIntent.DECLINE if token.kind in (K.DECLINE, K.ALL_OUT) else OrderIntent.CONFIRM
    return OrderAnswer(intent, min(token.weight, WEAK), (f"found '{token.word}' in the subject",), {}, None, cleaned)
