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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum, StrEnum

from parsers.dates import find_dates
from parsers.normalize import fold_compact, fold_kana, normalize_text
from parsers.units import NUMBER_PATTERN, UNIT_PATTERN, Unit, convert, parse_number, plain, unit_of

__all__ = ["OrderIntent", "LineRef", "OrderAnswer", "read_order_answer"]


class OrderIntent(StrEnum):
    CONFIRM = "confirm"
    PARTIAL = "partial"
    DECLINE = "decline"


@dataclass(frozen=True)
class LineRef:
    """One line of the order, as the parser needs it."""

    position: int  # 1-based line number on the order sheet
    product_name: str
    quantity: Decimal
    unit: str  # as ordered: "ケース", "kg", "本"


@dataclass(frozen=True)
class OrderAnswer:
    intent: OrderIntent | None  # None: unclear
    confidence: float  # 0..1; the pipeline sends < 0.8 to human review
    reasons: tuple[str, ...]
    quantities: Mapping[int, Decimal]  # PARTIAL only: every line's deliverable quantity; empty otherwise
    delivery_date: date | None  # a delivery date the supplier states
    evidence: str | None  # the words the answer was read from


# Weights: a clear word is CERTAIN or STRONG; WEAK words pass the pipeline's bar (0.8) alone;
# VAGUE ones (and readings that want a person's look) stay under it.
CERTAIN = 0.95
STRONG = 0.9
WEAK = 0.85
VAGUE = 0.75
ASKS = 0.7  # an answer that also asks something
UNCLEAR = 0.3
# Lines matching one mention within this score of the best are equally good: the mention is ambiguous.
_MATCH_MARGIN = 0.1
_HEAD_SCORE = 0.85  # a name matched by its last word only


class _Kind(Enum):
    MASK = "mask"  # says nothing: cushions, conditionals, requests
    ALL_OUT = "all out of stock"
    NO_SHORT = "no shortfall"
    DECLINE = "decline"
    FULL = "everything as ordered"
    SHORT = "shortfall"
    LACK = "not enough"
    PENDING = "will answer later"
    LIMIT = "limit"
    REST = "the rest"
    EXCEPT = "exception"
    CONFIRM = "confirm"
    ITEM = "item"
    QTY = "quantity"


K = _Kind
_POSITIVE = frozenset({K.CONFIRM, K.FULL, K.NO_SHORT})
# Words after items that say what becomes of them: 「トマトのみ欠品」 is no "only tomatoes".
_SAYS_HOW = (K.QTY, K.SHORT, K.DECLINE, K.ALL_OUT, K.EXCEPT, K.LACK)
_NEGATIVE = frozenset({K.SHORT, K.DECLINE, K.ALL_OUT})


@dataclass(frozen=True)
class _Rule:
    kind: _Kind
    pattern: re.Pattern[str]
    weight: float


def _ja(kind: _Kind, pattern: str, weight: float = CERTAIN) -> _Rule:
    return _Rule(kind, re.compile(pattern), weight)


def _en(kind: _Kind, pattern: str, weight: float = CERTAIN) -> _Rule:
    return _Rule(kind, re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])"), weight)


_STOCKOUT = r"(?:欠品|品切れ|品切|在庫切れ|在庫(?:が|は)?(?:ありません|ございません|なし|無し))"
_EN_STOCKOUT = r"(?:out[ -]of[ -]stock|sold out|unavailable|not available)"
_ORDER_VERB = (r"(?:受注|お受け|お引き?受け|引き?受け|ご対応|対応|手配|納品|納入|出荷|発送|ご用意|用意|準備"
               r"|供給|お届け|ご提供|提供)")
_CANNOT = (r"(?:は|が|を|すること(?:は|が)?|いたすこと(?:は|が)?)?(?:いた|致)?"
           r"(?:しかね|できかね|出来かね|でき(?:ません|ない|ず)|出来(?:ません|ない|ず)|いたしかね|致しかね"
           r"|かねます|しません|いたしません|致しません)")
_EN_NOT = (r"cannot|can['’]?t|can not|could not|couldn['’]?t|unable to|not able to|will not|won['’]?t"
           r"|do not|don['’]?t|are not able to")
_ALL_JA = (r"(?:全て|すべて|全部|全品|全商品|全品目|いずれも|どれも"
           r"|ご注文(?:の)?(?:商品|品)?(?:は|が)?(?:全て|すべて|全部))")

_RULES: tuple[_Rule, ...] = (
    # Cushions, conditionals and requests say nothing.
    _ja(K.MASK, r"(?:大変|誠に)?(?:申し訳|もうしわけ)(?:ございません|ありません|ない|なく)"
        r"(?:が|けど|けれど(?:も)?|のですが|ですが)?|恐れ入りますが|恐縮ですが|あいにく(?:ですが)?"
        r"|残念(?:ながら|ですが)|すみません(?:が)?|すいません(?:が)?|ごめんなさい"),
    _ja(K.MASK, r"(?:欠品|品切れ|在庫切れ|不足|変更|キャンセル|遅延|遅れ)(?:等|など)?(?:が|の)?"
        r"(?:出|出る|出た|発生し?|あり|ある|あっ|あれ|ござい|し|する)?"
        r"(?:場合|際|とき|時|なら(?:ば)?|ようでしたら|ようなら|ましたら|ました場合|たら|ば)"),
    _ja(K.MASK, r"ご?(?:確認|検討|回答|返信|連絡)(?:を|の)?(?:ください|下さい|のほど|お願い|いただけ|頂け|願い)"),
    _en(K.MASK, r"(?:we are |we're |i am |i'm )?(?:very |so )?sorry|unfortunately"
        r"|we regret(?: to inform you)?(?: that)?|regretfully|apolog(?:ies|ise|ize)(?: for the inconvenience)?"),
    _en(K.MASK, r"if (?:any |an |the |some )?(?:items? |products? |anything )?(?:is |are |goes |go |becomes? )?"
        rf"(?:{_EN_STOCKOUT}|short)|in case of (?:a )?(?:shortage|stockout|stock-out)"
        r"|please (?:confirm|check|let us know|reply)"),
    # Everything out of stock is a decline.
    _ja(K.ALL_OUT, rf"{_ALL_JA}(?:の(?:商品|品目|品))?(?:が|は|とも|共)?(?:現在|ただいま|只今)?{_STOCKOUT}"),
    _en(K.ALL_OUT, r"(?:all|every)(?: of)?(?: the| your| our)?(?: items?| products?| lines?| goods| of them)?"
        rf"(?: is| are)?(?: currently| now)? {_EN_STOCKOUT}"
        rf"|everything (?:you ordered )?(?:is )?(?:currently )?{_EN_STOCKOUT}"
        r"|nothing (?:is )?(?:in stock|available)|none of the (?:items|products) (?:is|are) (?:in stock|available)"),
    # A negated shortfall is a confirm.
    _ja(K.NO_SHORT, r"(?:欠品|品切れ|在庫切れ|不足)(?:等|など)?(?:は|が|も)?(?:一切|特に|全く|まったく)?"
        r"(?:ありません|ございません|なし|無し|ないです|ない|しておりません|していません|出ておりません)"
        rf"|{_ALL_JA}(?:とも|共)?在庫(?:は|が)?(?:あり|有り|ございます|あります)"),
    _en(K.NO_SHORT, r"(?:no|none of the|not any|none of your) (?:items?|products?|lines?)(?: is| are)?"
        rf"(?: currently)? (?:{_EN_STOCKOUT}|missing|short)|nothing (?:is )?(?:{_EN_STOCKOUT}|missing|short)"
        r"|no (?:shortages?|stockouts?|missing items?)"
        r"|(?:all|every)(?: the)? (?:items?|products?) (?:is |are )?(?:in stock|available)"
        r"|everything is (?:in stock|available)"),
    # 「2ケースしかご用意できません」 is a limit, not a refusal: read before the refusals.
    _ja(K.LIMIT, r"しか[^\x00。]{0,12}?(?:ません|ない|ず)"),
    # A negated acceptance is a decline: of the order, or of the items it names.
    _ja(K.DECLINE, rf"{_ORDER_VERB}{_CANNOT}|承(?:れ|ること(?:が)?でき)(?:ません|ない|ず)|お?受けられ(?:ません|ない)"),
    _ja(K.DECLINE, r"辞退|お断り|(?:ご)?遠慮(?:させ|いた|致|します)|見送(?:り|ら|る)"
        rf"|キャンセル(?:させ|いた|致|します|と)|{_ORDER_VERB}?不可(?!欠|能)|無理(?!な|に)"),
    _en(K.DECLINE, rf"(?:{_EN_NOT}) (?:be able to )?(?:[a-z]+ )??(?:accept|fulfil|fulfill|supply|deliver|ship"
        r"|provide|handle|take|process|meet|complete)[a-z]*|declin(?:e|es|ed|ing)|reject(?:s|ed|ing)?"
        r"|refus(?:e|es|ed|ing)|turn(?:ing)? down"),
    # Everything as ordered.
    _ja(K.FULL, rf"{_ALL_JA}(?:とも|共)?(?:ok|オッケー|オーケー|大丈夫|可能|対応可能|手配可能|納品可能"
        r"|問題(?:は)?(?:ありません|ございません|なし|ない))|(?:ご)?(?:注文|発注|依頼|指定)(?:の)?(?:通り|どおり)"
        r"|全数(?:納品|出荷|手配|ご用意|対応)"),
    _en(K.FULL, r"all (?:ok|okay|good|fine|confirmed|available|in stock|set)|as ordered|in full|full order"
        r"|(?:can|could|will) (?:deliver|ship|supply|fulfil|fulfill) (?:all|everything"
        r"|the (?:whole|full|entire) order)|everything (?:is )?(?:ok|okay|fine|available|confirmed)"),
    # Shortfalls of the items they name.
    _ja(K.SHORT, r"欠品|品切れ|品切|在庫切れ|在庫(?:が|は)?(?:ありません|ございません|なし|無し|ない|ゼロ|切らして)"
        r"|入荷(?:が|は)?(?:ありません|ございません|なし|無し|できません|できず|出来ません|未定|しない|しません|待ち)"
        r"|生産終了|販売終了|終売|取り?扱い?(?:が|は)?(?:ありません|ございません|なし|無し|終了)|出荷(?:が)?停止"
        r"|入手(?:が)?(?:できません|困難|不可)|入荷(?:して)?(?:おらず|おりません|いません|いない)|抜き(?=で|にて|の)"),
    _en(K.SHORT, rf"{_EN_STOCKOUT}|no (?:more )?stock|not in stock|discontinued|(?:is|are) missing"
        r"|(?:cannot|can['’]?t|could not|couldn['’]?t|unable to) (?:get|source|find|obtain)"
        r"|(?:are|were|'re|is|ran|run|running) out of(?! stock)"),
    # Not enough, without saying how much: a person has to ask.
    _ja(K.LACK, r"足りません|足りない|足らず|不足(?:して(?:おり|い)(?:ます)?|です|しております)?|品薄"),
    _en(K.LACK, r"(?:is|are|running|run) (?:short|low)(?: on)?|not enough|insufficient|shortage"),
    # "We will check": no answer yet.
    _ja(K.PENDING, r"確認(?:中|後|いたします|致します|します|して(?:から|後|の上|ご連絡|折り返し)|させて|の上"
        r"|でき次第|取れ次第)|検討(?:中|します|いたします|致します|させて)|調整中|後ほど|追って"
        r"|改めて(?:ご)?連絡|折り返し|(?:少々|しばらく)お待ち"),
    _en(K.PENDING, r"(?:will|to|let me|i['’]ll|we['’]ll) (?:check|look into|get back)|get back to you"
        r"|let you know|(?:are |am )?checking|looking into|under review|will revert"
        r"|will confirm (?:later|shortly|soon|tomorrow)"),
    # Limits: evidence of a partial answer; のみ / だけ / only with items alone mean "only these items".
    _ja(K.LIMIT, r"のみ|だけ|しか(?:ありません|ございません|ない|なく|ご?用意(?:でき|出来)(?:ません|ない)"
        r"|手配(?:でき|出来)(?:ません|ない)|(?:でき|出来)(?:ません|ない))?"
        r"|なら(?:ば)?(?:可能|出荷可能|手配可能|納品可能|お届け可能|対応可能|ご?用意(?:でき|出来)ます|ご?用意可能"
        r"|(?:でき|出来)ます|大丈夫|ok)"
        r"|まで(?:なら(?:ば)?)?(?:は)?(?:可能|対応(?:可能|でき)|手配(?:可能|でき)|出荷(?:可能|でき)"
        r"|納品(?:可能|でき)|ご?用意(?:可能|でき))|が(?:限度|上限|精一杯|最大|限界)|(?:に|へ)(?:減|変更)"),
    _en(K.LIMIT, r"only|just|at most|up to|no more than"
        r"|(?:we )?can (?:only )?(?:ship|deliver|supply|provide|send|offer|do)|we have|available"
        r"|partial(?:ly)?|instead of"),
    # "The rest": the lines not named otherwise.
    _ja(K.REST, r"(?:その)?他(?:の(?:商品|品目|品物|もの|分|品|ご注文))?(?:は|につきましては|については)"
        r"|それ以外(?:の(?:商品|品目|もの))?は|残り(?:の(?:商品|品目|もの|分))?(?:は)?|上記以外(?:は)?"
        r"|ほか(?:の(?:商品|品目|もの))?は"),
    _en(K.REST, r"the rest(?: of (?:the|your) order)?|(?:all )?(?:the )?(?:other|remaining) (?:items?|products?"
        r"|lines?)|everything else|all others|the remainder"),
    _ja(K.EXCEPT, r"以外(?:は)?|を除(?:き|いて|く)|除く"),
    _en(K.EXCEPT, r"except(?: for)?|apart from|other than|excluding"),
    # Plain acceptances.
    _ja(K.CONFIRM, r"承りました|承ります|うけたまわりました|受注(?:いた|致)?し(?:ます|ました)|お?受け(?:いた|致)?します"
        r"|お?引き?受け(?:いた|致)?します|手配(?:いた|致)?し(?:ます|ました)|手配済み?|手配させて"
        r"|かしこまりました|了承(?:いたしました|致しました|しました)"),
    _ja(K.CONFIRM, r"オッケー|オーケー", STRONG),  # "OK" is an English word: "OKです" yes, "Tokyo" no
    _ja(K.CONFIRM, r"ご?用意(?:いた|致)?します|ご?用意(?:でき|出来)ます"
        r"|(?:出荷|発送|納品|お届け|対応)(?:いた|致)?します|お届けに(?:上がり|あがり)ます|(?:対応|手配|納品|出荷|ご用意)可能"
        r"|承知(?:いたしました|致しました|しました)|大丈夫です", WEAK),
    _en(K.CONFIRM, r"confirm(?:s|ed|ing)?|accept(?:s|ed|ing)?|go ahead"),
    _en(K.CONFIRM, r"ok|okay", STRONG),
    _en(K.CONFIRM, r"will (?:deliver|ship|send|supply|prepare|arrange|dispatch)|no problem"
        r"|will be (?:shipped|delivered|dispatched)", WEAK),
    _en(K.CONFIRM, r"shipping|delivering|dispatching", VAGUE),
    _en(K.CONFIRM, r"(?:is|are) (?:fine|ok|okay|good|in stock)|noted", VAGUE),
    # Weak acceptances last: 問題ありません is a confirm, 了解 alone may only acknowledge receipt.
    _ja(K.CONFIRM, r"問題(?:は)?(?:ありません|ございません|ないです|ない|なし)", WEAK),
    _ja(K.CONFIRM, r"了解(?:しました|いたしました|致しました|です)?|確認(?:しました|いたしました|致しました)", VAGUE),
)
_QUIET_RULES = tuple(rule for rule in _RULES if rule.kind is K.MASK)
_WORD_RULES = tuple(rule for rule in _RULES if rule.kind is not K.MASK)
# Dates are only masked in sentences (their value is read separately), so any reference day will do.
_ANY_DAY = date(2000, 1, 1)

# Clauses end at these (read with cushions masked, so 申し訳ありませんが is no end).
_BREAK = re.compile(r"(?:です|ます|ません|でした|ました)が|けれど(?:も)?|けど|ただし|但し|一方|しかし|なお|;"
                    r"|(?<![a-z])(?:but|however|although|though|whereas|while)(?![a-z])")
_QUESTION = re.compile(r"(?:\?|ですか|ますか|でしょうか|ませんか|ですかね|いかが(?:でしょう|ですか)?)[。.!]*$")
_SENTENCE = re.compile(r"[^。!?]+[。!?]*|[。!?]+")
_EN_STOP = re.compile(r"(?<![0-9])(?<!no)\.(?=\s)", re.I)
_DELIVERY = re.compile(r"納品|納入|お届け|届け|届き|配送|配達|発送|出荷|着|納期|deliver|delivery|ship|arriv|dispatch")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|返信|転送)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
_SUBJECT_START = 1  # an answer typed into the subject stands at its very start

# Quantities, read on text whose items are masked; the "N of M" forms first.
_NUM = rf"(?<![\d.,/])(?:{NUMBER_PATTERN})"
_ARROW = r"(?:→|->|=>|⇒|➡)"
_KANJI_NUM = r"(?<![一二三四五六七八九十百千〇])[一二三四五六七八九十百千]+(?=[^ -~])"
_QTY_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?P<n>{_NUM}) ?(?P<u>{UNIT_PATTERN})? ?(?:out )?of(?: the| your)? ?"
               rf"(?P<m>{_NUM}) ?(?P<mu>{UNIT_PATTERN})"),
    re.compile(rf"(?P<m>{_NUM})(?P<mu>{UNIT_PATTERN})?(?:のうち|の内|中)(?P<n>{_NUM})(?P<u>{UNIT_PATTERN})?"),
    # "5ケース → 3ケース": ordered, then what can be delivered (as our own confirmation mails write it).
    re.compile(rf"(?P<m>{_NUM}) ?(?P<mu>{UNIT_PATTERN})? ?{_ARROW} ?(?P<n>{_NUM}) ?(?P<u>{UNIT_PATTERN})?"),
    re.compile(rf"(?P<n>{_NUM}|{_KANJI_NUM}) ?(?P<u>{UNIT_PATTERN})"),
    re.compile(rf"(?P<n>{_NUM})(?=のみ|だけ|しか)"),
)
_POSITION_REF = re.compile(r"(?<![a-z])(?:no\.? ?|#|(?:line|item) )(?P<p>\d{1,3})(?!\d)"
                           r"|(?<!\d)(?P<p2>\d{1,3})番(?:目)?")

# What may stand between a word and the item it takes after it: "欠品: キャベツ", "cannot supply the cabbage".
_FORWARD_GAP = re.compile(r"^(?:\s|[:=→\-]|は|が|なのは|の商品は|の品目は"
                          r"|the|for|of|on|in|items?|products?|is|are|with)*$")
_QTY_FORWARD_GAP = re.compile(r"^\s?(?:of(?: the| your)?|for(?: the)?|の)\s?$")
# What joins the items of one list: "キャベツ、トマト", "cabbage and tomatoes".
_LIST_GAP = re.compile(r"^(?:\s|[、,・/&+]|と|や|及び|および|and|or)*$")
# Between items and のみ / だけ when they mean "only these items": 「トマトのみ」, 「トマトだけは」.
_ONLY_GAP = re.compile(r"^(?:は|が)?$")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]")
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309f]+$")
# After a shortfall word, only a label form names the item: "欠品: ピーマン", 「欠品はピーマンです」.
_LABEL = re.compile(r"^\x00*(?:[:=→\-]|は|is |are )")
_PARTICLES = re.compile(r"^(?:[\s:=→\-、,.。]|は|が|の|も|を|に|について|につきましては|です|でございます"
                        r"|the |our |your )+"
                        r"|(?:[\s:=→\-、,.。]|は|が|の|も|を|ですが|については|につきましては|です|でございます"
                        r"|が現在|は現在| is| are| was| were| currently| now| all)+$")
_FILLER_NAME = re.compile(r"^(?:現在|ただいま|只今|今回|今回は|一部|ご注文|ご注文の|注文|商品|品物"
                          r"|the|some|one|an?|is|are|currently|now|item|items|product|products)?$")


@dataclass
class _Token:
    kind: _Kind
    start: int
    end: int
    word: str
    weight: float = CERTAIN
    clause: int = 0
    lines: tuple[int, ...] = ()  # items: the lines the mention may be; empty for a position not on the order
    amount: Decimal | None = None  # quantities
    unit: Unit | None = None
    unit_word: str = ""
    total: Decimal | None = None  # "2 of the 5 boxes": 5
    total_unit: Unit | None = None
    taken: list[_Token] = field(default_factory=list)  # the items (or "the rest") this word speaks of
    claimed: bool = False  # items: taken by a word
    bound: bool = False  # the answer word that gives an exception its sense; no answer by itself
    others_out: bool = False  # exceptions: "all out of stock except X" (the others are out, not X)


@dataclass(frozen=True)
class _Sentence:
    line_no: int
    line: str  # the whole normalized line, for evidence
    said: str  # the sentence as written (normalized), for reasons
    text: str  # fold_compact of the sentence: what is scanned
    question: bool


@dataclass(frozen=True)
class _Scan:
    tokens: list[_Token]
    quiet: str  # the sentence with cushions, conditionals and dates masked: where gaps and unknown names are read


@dataclass(frozen=True)
class _Key:
    variant: str
    pattern: re.Pattern[str]
    score: float
    katakana_edges: bool


@dataclass(frozen=True)
class _Said:
    """What the text says one line (or the rest of the order) will get."""

    amount: Decimal  # in the ordered unit
    word: str
    sentence: _Sentence
    explicit: bool  # a shortfall word, not just a smaller number


_Hit = tuple[_Token, _Sentence]


@dataclass
class _Reading:
    """Everything read from the text, before deciding."""

    confirms: list[_Hit] = field(default_factory=list)
    declines: list[_Hit] = field(default_factory=list)
    no_shorts: list[_Hit] = field(default_factory=list)
    pendings: list[_Hit] = field(default_factory=list)
    limits: list[_Hit] = field(default_factory=list)
    lacks: list[tuple[int, str, _Sentence]] = field(default_factory=list)  # "not enough" of a line, no quantity
    stated: dict[int, list[_Said]] = field(default_factory=dict)
    rest: list[_Said] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the answer cannot be applied
    doubts: list[str] = field(default_factory=list)  # readings that want a person's look
    questions: list[_Sentence] = field(default_factory=list)
    dates: list[tuple[date, str, _Sentence, str | None]] = field(default_factory=list)
    evidence: list[_Sentence] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.confirms or self.declines or self.no_shorts or self.pendings or self.stated
                    or self.rest or self.problems or self.dates or self.lacks or self.limits)

    def state(self, position: int, said: _Said) -> None:
        self.stated.setdefault(position, []).append(said)


def read_order_answer(text: str, lines: Sequence[LineRef], *, written_on: date, subject: str = "") -> OrderAnswer:
    """What the supplier answered in ``text`` (quotes already removed) to the order of ``lines``.

    ``written_on`` is the day the answer was written, in Japan: relative and year-less dates
    (明日, 12/1) are resolved against it. The subject is read only when the body says nothing,
    and only at its start.
    """
    order = {line.position: line for line in lines}
    keys = {line.position: _keys(line) for line in lines}
    reading = _Reading()
    for line_no, raw_line in enumerate(normalize_text(text or "").split("\n"), start=1):
        line = raw_line.strip()
        for piece in _sentences(line):
            compact = fold_compact(piece).strip()
            if not compact:
                continue
            sentence = _Sentence(line_no, line, piece.strip(), compact, bool(_QUESTION.search(compact)))
            if sentence.question:
                reading.questions.append(sentence)  # its words decide nothing
                continue
            scan = _scan_sentence(sentence, keys, order)
            _take_items(scan)
            _read_tokens(scan, sentence, order, reading)
            _read_dates(piece, sentence, written_on, reading)
    if reading.empty() and not reading.questions:
        from_subject = _subject_reading(subject, order)
        if from_subject is not None:
            return from_subject
    return _decide(reading, order)


# ---------------------------------------------------------------------------------------------
# Scanning a sentence into tokens

def _sentences(line: str) -> list[str]:
    out: list[str] = []
    for part in _SENTENCE.findall(line):
        out.extend(p for p in _EN_STOP.split(part) if p.strip())
    return out


def _keys(line: LineRef) -> list[_Key]:
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
    return [_Key(variant, _key_pattern(variant), score,
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


def _scan_sentence(sentence: _Sentence, keys: Mapping[int, list[_Key]], order: Mapping[int, LineRef]) -> _Scan:
    """Items first (a product name is a name, whatever words are in it), then dates and cushions, quantities, words."""
    text = sentence.text
    tokens = _items(text, keys, order)
    masked = _mask(text, [(t.start, t.end) for t in tokens])
    hidden = [(d.start, d.end) for d in find_dates(masked, _ANY_DAY)]
    for rule in _QUIET_RULES:
        hidden += [m.span() for m in rule.pattern.finditer(_mask(masked, hidden))]
    quiet = _mask(text, hidden)
    masked = _mask(masked, hidden)
    tokens += _quantities(masked)
    masked = _mask(masked, [(t.start, t.end) for t in tokens])
    for rule in _WORD_RULES:
        for match in rule.pattern.finditer(masked):
            word = match.group(0).strip("\x00 ")
            if word:
                tokens.append(_Token(rule.kind, match.start(), match.end(), word, rule.weight))
        # Mask what matched so shorter words inside it ("受注" in "受注できません") are not seen again.
        masked = rule.pattern.sub(lambda m: "\x00" * len(m.group(0)), masked)
    tokens.sort(key=lambda t: t.start)
    ends = [m.end() for m in _BREAK.finditer(quiet)]
    for token in tokens:
        token.clause = sum(1 for end in ends if end <= token.start)
    return _Scan(tokens, quiet)


def _mask(text: str, spans: Iterable[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


def _items(text: str, keys: Mapping[int, list[_Key]], order: Mapping[int, LineRef]) -> list[_Token]:
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
    for match in _POSITION_REF.finditer(text):
        position = int(match.group("p") or match.group("p2"))
        found.setdefault(match.span(), {})[position] = 1.0 if position in order else 0.0
    tokens: list[_Token] = []
    taken: list[tuple[int, int]] = []
    for (start, end), scores in sorted(found.items(), key=lambda f: (f[0][0] - f[0][1], f[0][0])):
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        best = max(scores.values())
        lines = tuple(sorted((p for p, s in scores.items() if s > best - _MATCH_MARGIN and s > 0),
                             key=lambda p: (-scores[p], p)))
        tokens.append(_Token(K.ITEM, start, end, text[start:end], lines=lines))
    return tokens


def _inside_katakana_word(text: str, start: int, end: int) -> bool:
    """A katakana name inside a longer katakana word: トマト in トマトジュース or in ミニトマト."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return bool((_KATAKANA.match(text[start]) and before and _KATAKANA.match(before))
                or (_KATAKANA.match(text[end - 1]) and after and _KATAKANA.match(after)))


def _quantities(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for pattern in _QTY_RULES:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            amount = parse_number(groups["n"])
            if amount is None:
                continue
            unit_word = groups.get("u") or groups.get("mu") or ""
            token = _Token(K.QTY, match.start(), match.end(), match.group(0), amount=amount,
                           unit=unit_of(unit_word) if unit_word else None, unit_word=unit_word)
            if groups.get("m"):
                token.total = parse_number(groups["m"])
                token.total_unit = unit_of(groups["mu"]) if groups.get("mu") else token.unit
            tokens.append(token)
        text = pattern.sub(lambda m: "\x00" * len(m.group(0)), text)
    return tokens


# ---------------------------------------------------------------------------------------------
# Which items each word speaks of

def _take_items(scan: _Scan) -> None:
    """Give each shortfall, quantity, decline, exception and "only" the items it speaks of."""
    tokens, text = scan.tokens, scan.quiet
    pending: list[_Token] = []  # items written since the last word, not yet spoken for
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


def _after_arrow(tokens: list[_Token], i: int, text: str) -> bool:
    before = tokens[i - 1] if i else None
    return bool(before is not None and before.kind is K.QTY and before.taken and before.clause == tokens[i].clause
                and re.fullmatch(rf"\s?{_ARROW}\s?", text[before.end:tokens[i].start]))


def _next_is(tokens: list[_Token], i: int, *kinds: _Kind) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1].kind in kinds and tokens[i + 1].clause == tokens[i].clause


def _following(tokens: list[_Token], i: int, text: str, gap: re.Pattern[str], *, as_list: bool) -> list[_Token]:
    """The unclaimed item(s) right after token i, joined to it by ``gap`` (and to each other as a list)."""
    out: list[_Token] = []
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


def _bind_exceptions(tokens: list[_Token]) -> None:
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


# ---------------------------------------------------------------------------------------------
# From tokens to what was said of each line

def _read_tokens(scan: _Scan, sentence: _Sentence, order: Mapping[int, LineRef], reading: _Reading) -> None:
    used = False
    for token in scan.tokens:
        kind = token.kind
        if kind is K.ITEM or kind is K.REST:
            continue
        used = True
        if kind is K.CONFIRM or kind is K.FULL:
            reading.confirms.append((token, sentence))
            items = [item for item in token.taken if item.kind is K.ITEM]
            for position in (_lines_of(token, items, scan, sentence, order, reading) or ()) if items else ():
                reading.state(position, _Said(order[position].quantity, token.word, sentence, explicit=False))
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
            items = [item for item in token.taken if item.kind is K.ITEM]
            if not items:
                reading.limits.append((token, sentence))  # 「在庫不足のため、…」: why the quantities are smaller
            for position in (_lines_of(token, items, scan, sentence, order, reading) or ()) if items else ():
                reading.lacks.append((position, token.word, sentence))
        elif token.bound:
            continue  # the sense of an exception, already read there
        elif kind is K.ALL_OUT or (kind is K.DECLINE and not token.taken):
            reading.declines.append((token, sentence))
        else:
            _shortfall(token, scan, sentence, order, reading)
    if used:
        reading.evidence.append(sentence)


def _lines_of(token: _Token, items: Sequence[_Token], scan: _Scan, sentence: _Sentence,
              order: Mapping[int, LineRef], reading: _Reading) -> list[int] | None:
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


def _guess_name(token: _Token, scan: _Scan) -> str | None:
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


def _in_ordered_unit(token: _Token, line: LineRef, amount: Decimal, unit: Unit | None, sentence: _Sentence,
                     reading: _Reading) -> Decimal | None:
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
            f"{_amount(line.quantity, line.unit)} ordered (line {sentence.line_no})")
    return converted


def _quantity(token: _Token, scan: _Scan, sentence: _Sentence, order: Mapping[int, LineRef],
              reading: _Reading) -> None:
    assert token.amount is not None
    if token.bound:
        return  # 「3ケース → 欠品」: the shortfall after the arrow says it
    if any(item.kind is K.REST for item in token.taken):
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
                    f"{_amount(line.quantity, line.unit)} were ordered (line {sentence.line_no})")
                continue
        if amount > line.quantity:
            reading.problems.append(
                f"line {position} {line.product_name}: '{token.word}' is more than the "
                f"{_amount(line.quantity, line.unit)} ordered (line {sentence.line_no})")
            continue
        # "0ケース", "2 of the 5", "5ケース→3ケース" say plainly what comes; a smaller number alone might be
        # a typo or a restatement.
        explicit = amount == 0 or token.total is not None
        reading.state(position, _Said(amount, token.word, sentence, explicit=explicit))


def _shortfall(token: _Token, scan: _Scan, sentence: _Sentence, order: Mapping[int, LineRef],
               reading: _Reading) -> None:
    """A shortfall word (or a decline that took items): the lines it names get nothing."""
    if any(item.kind is K.REST for item in token.taken):
        reading.rest.append(_Said(Decimal(0), token.word, sentence, explicit=True))
    items = [item for item in token.taken if item.kind is K.ITEM]
    if token.taken and not items:
        return  # only "the rest"
    if not items and any(t.kind in (K.DECLINE, K.ALL_OUT) and not t.taken and not t.bound for t in scan.tokens):
        return  # 「在庫切れのため対応できません」: the shortfall is why the whole order is declined
    for position in _lines_of(token, items, scan, sentence, order, reading) or ():
        reading.state(position, _Said(Decimal(0), token.word, sentence, explicit=True))


def _exception(token: _Token, scan: _Scan, sentence: _Sentence, order: Mapping[int, LineRef],
               reading: _Reading) -> None:
    items = [item for item in token.taken if item.kind is K.ITEM]
    positions = _lines_of(token, items, scan, sentence, order, reading)
    if positions is None:
        return
    names = ", ".join(order[p].product_name for p in positions)
    if token.others_out:
        _only_these(positions, token, sentence, order, reading)
    else:
        for position in positions:
            reading.state(position, _Said(Decimal(0), token.word, sentence, explicit=True))
        reading.doubts.append(f"'{token.word}' read as: {names} not delivered (line {sentence.line_no})")


def _only(token: _Token, scan: _Scan, sentence: _Sentence, order: Mapping[int, LineRef], reading: _Reading) -> None:
    positions = _lines_of(token, token.taken, scan, sentence, order, reading)
    if positions is not None:
        _only_these(positions, token, sentence, order, reading)


def _only_these(positions: list[int], token: _Token, sentence: _Sentence, order: Mapping[int, LineRef],
                reading: _Reading) -> None:
    for position in positions:
        reading.state(position, _Said(order[position].quantity, token.word, sentence, explicit=True))
    reading.rest.append(_Said(Decimal(0), token.word, sentence, explicit=True))
    names = ", ".join(order[p].product_name for p in positions)
    reading.doubts.append(f"'{token.word}' read as: only {names} delivered (line {sentence.line_no})")


def _read_dates(piece: str, sentence: _Sentence, reference: date, reading: _Reading) -> None:
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


# ---------------------------------------------------------------------------------------------
# Deciding

def _decide(reading: _Reading, order: Mapping[int, LineRef]) -> OrderAnswer:
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


def _quantities_per_line(reading: _Reading, order: Mapping[int, LineRef]
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
        ordered = _amount(line.quantity, line.unit)
        told = f"none of {ordered}" if said.amount == 0 else f"{_amount(said.amount, line.unit)} of {ordered}"
        reasons[position] = (f"line {position} {line.product_name}: {told} "
                             f"('{said.word}' on line {said.sentence.line_no})")
    return quantities, conflicts, reasons


def _delivery_date(reading: _Reading) -> tuple[date | None, list[str], str | None]:
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


def _sureness(hits: list[_Hit]) -> float:
    best = max(token.weight for token, _ in hits)
    return min(0.99, best + 0.02 * (len(hits) - 1))


def _found(hits: list[_Hit]) -> list[str]:
    return list(dict.fromkeys(f"found '{token.word}' on line {at.line_no}" for token, at in hits))[:5]


def _words(hits: list[_Hit]) -> str:
    return ", ".join(list(dict.fromkeys(f"'{token.word}'" for token, _ in hits))[:3])


def _evidence(sentences: list[_Sentence]) -> str | None:
    lines = list(dict.fromkeys(s.line for s in sentences))
    return "\n".join(lines) if lines else None


def _amount(value: Decimal, unit: str = "") -> str:
    """3ケース, 2.5kg, "3 case": a space only before a unit written in letters."""
    space = " " if unit[:1].isascii() and unit[:1].isalpha() and unit not in ("kg", "g", "l", "L", "ml", "mL") else ""
    return f"{plain(value)}{space}{unit}"


def _subject_reading(subject: str, order: Mapping[int, LineRef]) -> OrderAnswer | None:
    """An answer typed at the very start of the subject when the body says nothing: "Re: 承りました"."""
    cleaned = normalize_text(_REPLY_PREFIX.sub("", subject or "")).strip()
    if not cleaned:
        return None
    sentence = _Sentence(0, cleaned, cleaned, fold_compact(cleaned), False)
    # Only the start counts: the rest of "Re: 【発注書】…" is our own wording and the order's lines.
    tokens = [t for t in _scan_sentence(sentence, {}, order).tokens
              if t.start <= _SUBJECT_START and t.kind in (K.CONFIRM, K.FULL, K.DECLINE, K.ALL_OUT, K.NO_SHORT)]
    if not tokens:
        return None
    token = tokens[0]
    intent = OrderIntent.DECLINE if token.kind in (K.DECLINE, K.ALL_OUT) else OrderIntent.CONFIRM
    return OrderAnswer(intent, min(token.weight, WEAK), (f"found '{token.word}' in the subject",), {}, None, cleaned)
