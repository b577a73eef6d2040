"""Which items each answer word speaks of: those written before it in its clause, or the one right after it."""

from __future__ import annotations

import re

from parsers.order_reply.tokens import K, Kind, Scan, Token
from parsers.order_reply.vocabulary import ARROW

_POSITIVE = frozenset({K.CONFIRM, K.FULL, K.NO_SHORT})
# Words after items that say what becomes of them: 「トマトのみ欠品」 is no "only tomatoes".
_SAYS_HOW = (K.QTY, K.SHORT, K.DECLINE, K.ALL_OUT, K.EXCEPT, K.LACK)
_NEGATIVE = frozenset({K.SHORT, K.DECLINE, K.ALL_OUT})

# What may stand between a word and the item it takes after it: "欠品: キャベツ", "cannot supply the cabbage".
_FORWARD_GAP = re.compile(r"^(?:\s|[:=→\-]|は|が|なのは|の商品は|の品目は"
                          r"|the|for|of|on|in|items?|products?|is|are|with)*$")
_QTY_FORWARD_GAP = re.compile(r"^\s?(?:of(?: the| your)?|for(?: the)?|の)\s?$")
# What joins the items of one list: "キャベツ、トマト", "cabbage and tomatoes".
_LIST_GAP = re.compile(r"^(?:\s|[、,・/&+]|と|や|及び|および|and|or)*$")
# Between items and のみ / だけ when they mean "only these items": 「トマトのみ」, 「トマトだけは」.
_ONLY_GAP = re.compile(r"^(?:は|が)?$")


def take_items(scan: Scan) -> None:
    """Give each shortfall, quantity, decline, exception and "only" the items it speaks of."""
    tokens, text = scan.tokens, scan.quiet
    pending: list[Token] = []  # items written since the last word, not yet spoken for
    clause, clause_said = 0, False
    for i, token in enumerate(tokens):
        if token.clause != clause:
            if clause_said:
                pending = []  # a clause of items only runs on into the next: 「キャベツですが、欠品です」
            clause, clause_said = token.clause, False
        if token.kind in (K.ITEM, K.REST):
            if not token.claimed:
                pending.append(token)
            continue
        clause_said = True
        if token.kind is K.QTY:
            # "3 cases of tomatoes" names its item after it; 「トマト3ケース」 before it.
            after = _following(tokens, i, text, _QTY_FORWARD_GAP, as_list=False)
            token.taken = after or pending
            if not after:
                pending = []
        elif token.kind is K.LACK:
            # "Not enough" says no quantity: the items stay open for one (「キャベツが不足しており、1ケースのみ」).
            token.taken = pending or _following(tokens, i, text, _FORWARD_GAP, as_list=True)
            continue
        elif token.kind in (K.SHORT, K.DECLINE) and not pending and _after_arrow(tokens, i, text):
            # 「キャベツ 3ケース → 欠品」: the arrow replaces the quantity ordered by the shortfall.
            before = tokens[i - 1]
            token.taken, before.bound = before.taken, True
        elif token.kind in (K.SHORT, K.DECLINE, K.EXCEPT):
            token.taken = pending or _following(tokens, i, text, _FORWARD_GAP, as_list=True)
            pending = []
        elif token.kind is K.LIMIT:
            if token.word in ("のみ", "だけ") and pending and not _next_is(tokens, i, *_SAYS_HOW) \
                    and _ONLY_GAP.match(text[pending[-1].end:token.start]):
                token.taken, pending = pending, []  # 「トマトのみ手配可能」, but not 「トマトのみ欠品」
            elif "only" in token.word and _next_is(tokens, i, K.ITEM):
                after = _following(tokens, i, text, _FORWARD_GAP, as_list=True)
                if after and not _next_is(tokens, i + len(after), *_SAYS_HOW):
                    token.taken = after  # "we can only supply tomatoes", but not "only cabbage is out of stock"
        elif token.kind in (K.CONFIRM, K.FULL):
            token.taken, pending = pending, []  # 「トマトは手配します」: トマト as ordered
        else:
            pending = []  # spoken for
        for item in token.taken:
            item.claimed = True
    _bind_exceptions(tokens)


def _after_arrow(tokens: list[Token], i: int, text: str) -> bool:
    before = tokens[i - 1] if i else None
    return bool(before is not None and before.kind is K.QTY and before.taken and before.clause == tokens[i].clause
                and re.fullmatch(rf"\s?{ARROW}\s?", text[before.end:tokens[i].start]))


def _next_is(tokens: list[Token], i: int, *kinds: Kind) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].kind in kinds and tokens[i + 1].clause == tokens[i].clause


def _following(tokens: list[Token], i: int, text: str, gap: re.Pattern[str], *, as_list: bool) -> list[Token]:
    """The unclaimed item(s) right after token i, joined to it by ``gap`` (and to each other as a list)."""
    out: list[Token] = []
    end = tokens[i].end
    for j in range(i + 1, len(tokens)):
        nxt = tokens[j]
        if nxt.kind not in (K.ITEM, K.REST) or nxt.claimed or nxt.clause != tokens[i].clause \
                or (out and nxt.kind is K.REST):
            break
        if not (gap if not out else _LIST_GAP).match(text[end:nxt.start].replace("\x00", "")):
            break
        if out and j + 1 < len(tokens) and tokens[j + 1].kind in (K.QTY, K.SHORT, K.DECLINE, K.LIMIT) \
                and tokens[j + 1].clause == nxt.clause and not _LIST_GAP.match(text[nxt.end:tokens[j + 1].start]):
            break  # "欠品: キャベツ、トマトは3ケース": トマト has its own word
        if out and j + 1 < len(tokens) and tokens[j + 1].kind in (K.QTY, K.SHORT, K.DECLINE) \
                and not text[nxt.end:tokens[j + 1].start]:
            break  # "欠品: キャベツ、トマト3ケース"
        out.append(nxt)
        end = nxt.end
        if not as_list:
            break
    return out


def _bind_exceptions(tokens: list[Token]) -> None:
    """An exception takes its sense from the answer word of its clause.

    「キャベツ以外は手配します」 / "all OK except cabbage": cabbage is not delivered;
    「キャベツ以外は欠品です」 / "all out of stock except cabbage": only cabbage is.
    """
    for token in tokens:
        if token.kind is not K.EXCEPT:
            continue
        same = [t for t in tokens if t.clause == token.clause and (t.kind in _POSITIVE or t.kind in _NEGATIVE)
                and not t.taken and t is not token]
        after = [t for t in same if t.start > token.start]
        before = [t for t in same if t.start < token.start]
        word = after[0] if after else (before[-1] if before else None)
        if word is not None:
            word.bound = True
            token.others_out = word.kind in _NEGATIVE
