"""The words and forms an answer is read by: answer words per kind, in Japanese and English, and quantities.

Order matters: rules are tried top to bottom and each match is masked before the
next, so a longer or negated form must stand before the words inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.order_reply.answer import CERTAIN, STRONG, VAGUE, WEAK
from parsers.order_reply.tokens import K, Kind
from parsers.units import NUMBER_PATTERN, UNIT_PATTERN


@dataclass(frozen=True)
class _Rule:
    kind: Kind
    pattern: re.Pattern[str]
    weight: float


def _ja(kind: Kind, pattern: str, weight: float = CERTAIN) -> _Rule:
    return _Rule(kind, re.compile(pattern), weight)


def _en(kind: Kind, pattern: str, weight: float = CERTAIN) -> _Rule:
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
QUIET_RULES = tuple(rule for rule in _RULES if rule.kind is K.MASK)
WORD_RULES = tuple(rule for rule in _RULES if rule.kind is not K.MASK)

# Quantities, read on text whose items are masked; the "N of M" forms first.
_NUM = rf"(?<![\d.,/])(?:{NUMBER_PATTERN})"
ARROW = r"(?:→|->|=>|⇒|➡)"
_KANJI_NUM = r"(?<![一二三四五六七八九十百千〇])[一二三四五六七八九十百千]+(?=[^ -~])"
QTY_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?P<n>{_NUM}) ?(?P<u>{UNIT_PATTERN})? ?(?:out )?of(?: the| your)? ?"
               rf"(?P<m>{_NUM}) ?(?P<mu>{UNIT_PATTERN})"),
    re.compile(rf"(?P<m>{_NUM})(?P<mu>{UNIT_PATTERN})?(?:のうち|の内|中)(?P<n>{_NUM})(?P<u>{UNIT_PATTERN})?"),
    # "5ケース → 3ケース": ordered, then what can be delivered (as our own confirmation mails write it).
    re.compile(rf"(?P<m>{_NUM}) ?(?P<mu>{UNIT_PATTERN})? ?{ARROW} ?(?P<n>{_NUM}) ?(?P<u>{UNIT_PATTERN})?"),
    re.compile(rf"(?P<n>{_NUM}|{_KANJI_NUM}) ?(?P<u>{UNIT_PATTERN})"),
    re.compile(rf"(?P<n>{_NUM})(?=のみ|だけ|しか)"),
)
POSITION_REF = re.compile(r"(?<![a-z])(?:no\.? ?|#|(?:line|item) )(?P<p>\d{1,3})(?!\d)"
                          r"|(?<!\d)(?P<p2>\d{1,3})番(?:目)?")
