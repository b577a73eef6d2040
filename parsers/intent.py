"""Reading an answer to an invitation: approve, reject or hold, and the contact person.

Answer words overlap: 非承認, 未承認 and 承認しません all contain 承認, and
"cannot accept" contains "accept". Rules are therefore tried in a fixed order
(conditionals to ignore, single-character answers, negated forms, plain
words) and every match is masked before the next rule runs, so a longer form
always wins over the word inside it.

Decisions on the single-character answers the invitation offers (済 / 非 / 未):
they count only as a whole token — a line that is just the character (with
brackets or a polite ending like 「済です」), the character in brackets
anywhere (【済】, [未], 「非」), or after a label ("回答：済", "承認欄: 未").
Inside words they never count: 確認済み, 返済, 非常に, 未定, 未来 say nothing.

Japanese rules run on ``fold_for_match`` text (no whitespace, so "承 認" still
matches); English rules run on lower-cased text with single spaces, so word
boundaries survive ("ok" must not match "book"). Boundaries are ASCII letters
only: "OKです" is an OK.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from parsers.normalize import fold_for_match, normalize_text

__all__ = ["Intent", "IntentResult", "read_invitation_answer"]


class Intent(Enum):
    APPROVE = "approve"
    REJECT = "reject"
    HOLD = "hold"


@dataclass(frozen=True)
class IntentResult:
    intent: Intent | None
    confidence: float
    reasons: tuple[str, ...]
    contact_person: str | None
    evidence: str | None


# Weights: a clear keyword is STRONG; WEAK words decide only when nothing else is said.
STRONG = 0.9
WEAK = 0.8
VAGUE = 0.75  # below the gateway's default bar: a person looks at it
UNCLEAR = 0.3

_SINGLE = {"済": Intent.APPROVE, "非": Intent.REJECT, "未": Intent.HOLD}


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    intent: Intent | None  # None: mask only (conditionals, instructions)
    weight: float
    single_char: bool = False  # the intent comes from the captured 済 / 非 / 未


def _ja(pattern: str, intent: Intent | None, weight: float = 0.95, single_char: bool = False) -> _Rule:
    return _Rule(re.compile(pattern), intent, weight, single_char)


def _en(pattern: str, intent: Intent | None, weight: float = 0.95) -> _Rule:
    return _Rule(re.compile(rf"(?<![a-z])(?:{pattern})(?![a-z])"), intent, weight)


A, R, H = Intent.APPROVE, Intent.REJECT, Intent.HOLD
_OPEN, _CLOSE = r"[(「【\[『<〔]", r"[)」】\]』>〕]"
_APPROVE_VERB = r"(?:承認|承諾|了承|受諾|同意|参加|お受け|受け入れ|受入れ)"
_REFUSAL = (r"(?:いた|致)?(?:しません|しない|できません|できない|出来ません|出来ない|できかね|出来かね|しかね"
            r"|いたしかね|致しかね|かねます|いたしません|致しません|せず|しないこと|見送)")

_JA_RULES: tuple[_Rule, ...] = (
    # Conditionals and requests are no answer: "承認の場合は…", "非承認とした場合", "承認後".
    _ja(r"(?:(?:非|不|未)?承認|保留|辞退|お断り)(?:しない|されない|された|した|する|の|と|に|を)?"
        r"(?:場合|際|ときは?|時|なら(?:ば)?|すると|したら|すれば|しますと)", None),
    _ja(r"(?:非|不|未)?承認(?:いただけ|いただく|頂け|頂く|ください|下さい|依頼|申請|フロー|手続き?|方法|不要|者|権限"
        r"|後|前|作業|ボタン|画面|操作)", None),
    # The single-character answers, as whole tokens only.
    _ja(r"(?:回答|ご回答|返答|ご返答|返事|お返事|答え|承認欄|承認可否|可否|結果|ステータス|status|answer|reply|承認)"
        rf"[:=]{_OPEN}?([済非未]){_CLOSE}?(?=$|[。.、,!])", A, STRONG, True),
    _ja(rf"^{_OPEN}?([済非未]){_CLOSE}?(?:です|でお願い(?:いた|致)?します|でお願い申し上げます|とします|にします"
        r"|とさせていただきます|で)?[。.!]*$", A, STRONG, True),
    _ja(rf"{_OPEN}([済非未]){_CLOSE}", A, STRONG, True),
    # Holding the approval, or weighing whether to approve, is a hold: "承認は保留します".
    _ja(r"(?:承認|回答|返答|ご返事|お返事)(?:は|を|について)?(?:一旦|いったん|一時)?保留", H),
    _ja(r"(?:承認|参加|回答)(?:の可否|するか(?:どうか|否か)?|いたすか(?:どうか)?)(?:を|について|は)?[^。]{0,6}?"
        r"(?:検討|確認|協議|相談|判断)", H, STRONG),
    # Not approved *yet* is a hold, not a refusal.
    _ja(r"(?:まだ|未だ|いまだ)[^。!?]{0,8}?(?:承認|承諾|回答|返答|決定|判断|決め|確定)(?:して|でき|出来|され)?(?:い|おり)?"
        r"(?:ません|ない|ず)", H, STRONG),
    _ja(r"承認(?:して|いたして|致して)(?:い|おり)(?:ません|ない)", H, 0.85),
    _ja(r"未承認|承認待ち|承認(?:手続き|申請)?中", H),
    _ja(r"稟議中|申請中|確認中|調整中|協議中|検討中|審査中|精査中", H, STRONG),
    # Refusals, negated approvals first.
    _ja(r"非承認|不承認", R),
    _ja(rf"{_APPROVE_VERB}(?:は|を|について|すること(?:は|が)?)?{_REFUSAL}", R),
    _ja(r"受け入れ(?:られ|でき|出来)(?:ません|ない)|お?引き受け(?:でき|出来)(?:ません|ない)", R),
    _ja(r"(?:お|御)断り|(?<!判)断(?:り|ら|る|わ)", R),
    _ja(r"辞退|拒否|拒絶|却下|否認|不同意|不参加|承認不可|参加不可|不可です|不可とします", R),
    _ja(r"見送(?:り|ら|る|らせ)|(?:ご)?遠慮(?:させ|いた|致|します|申し上げ)", R, STRONG),
    _ja(r"見合わせ", R, VAGUE),
    # Holds.
    _ja(r"保留", H),
    _ja(r"検討(?:させ|いた|致|します|の上|しております|しています)", H, STRONG),
    _ja(r"(?:後日|後ほど|のちほど|追って|改めて)(?:ご|お)?(?:回答|返答|返信|返事)", H, STRONG),
    # "連絡" promises news of anything (often the contact person), so only a weak hold.
    _ja(r"(?:後日|後ほど|のちほど|追って|改めて)(?:ご|お)?連絡", H, WEAK),
    _ja(r"(?:少々|しばらく|今しばらく|暫く)(?:お)?待ち|待って(?:ください|下さい|いただけ|頂け)", H, STRONG),
    _ja(r"(?:お)?時間を?(?:いただ|頂|下さ|くださ)", H, WEAK),
    _ja(r"未定", H, VAGUE),
    # Approvals.
    _ja(r"承認|承諾|了承|受諾|同意", A),
    _ja(r"(?:お受け|お引き受け|引き受け|受け入れ|受入れ)(?:いた|致)?(?:します|しました|させて|ます)", A),
    _ja(r"参加(?:します|いたします|致します|させていただ|させて頂)|オー?ケー|オッケー", A, STRONG),
    _ja(r"了解|承知(?:しました|いたしました|致しました)|(?:問題|差し支え|差支え|異存|異議)(?:は)?(?:ありません|ございません"
        r"|ない|なし)|(?:構いません|かまいません)", A, VAGUE),
)

_NEGATION = (r"do not|don't|dont|does not|doesn't|cannot|can not|can't|cant|will not|won't|wont|would not"
             r"|wouldn't|could not|couldn't|unable to|not able to|not going to|never|must not|not")
_EN_RULES: tuple[_Rule, ...] = (
    _en(r"if (?:you|we|i|they|it is|it's) (?:[a-z']+ )?(?:approve|accept|agree|reject|decline|refuse|hold)[a-z]*",
        None),
    _en(r"(?:consider|considering|deciding|decide|thinking about|discussing|reviewing|checking) (?:[a-z']+ ){0,2}?"
        r"(?:whether|if) (?:[a-z']+ ){0,3}?(?:approve|accept|agree|join)[a-z]*"
        r"|whether (?:or not )?(?:to|we (?:will|should|can|would)) (?:approve|accept|agree|join)[a-z]*", H, STRONG),
    _en(r"not yet (?:[a-z']+ ){0,2}?(?:approv|accept|agree|decid)[a-z]*|(?:yet|still) to (?:decide|approve|accept)"
        r"|not (?:yet|decided)|(?:have not|haven't|has not|hasn't|did not|didn't)(?: yet)? "
        r"(?:decided|approved|accepted|agreed)|undecided|not sure yet", H, STRONG),
    _en(rf"(?:{_NEGATION}) (?:[a-z']+ ){{0,2}}?(?:approve|accept|agree|join|connect|proceed)[a-z]*", R),
    _en(r"declin(?:e|es|ed|ing)|reject(?:s|ed|ing)?|refus(?:e|es|ed|ing)|disapprov[a-z]*|den(?:y|ied|ies)"
        r"|disagree[a-z]*|not interested|no,? thanks?(?: you)?|not (?:ok|okay)", R),
    _en(r"^no[.!]*$", R, STRONG),
    _en(r"on hold|hold(?: off)?|pending|postpon[a-z]*|defer(?:s|red|ring)?", H),
    _en(r"later", H, WEAK),
    _en(r"under (?:consideration|review)|considering|reviewing|need (?:some |more )?time|get back to you"
        r"|let you know|please wait|wait a (?:bit|while|moment)|tbd|to be decided", H, WEAK),
    _en(r"approv(?:e|es|ed|ing)|accept(?:s|ed|ing)?|agree(?:s|d)?", A),
    _en(r"ok|okay", A, STRONG),
    _en(r"^(?:yes|yes please|sure)[.!]*$", A, STRONG),
    _en(r"sounds good|count us in|fine with (?:us|me)|happy to (?:join|connect)", A, VAGUE),
)

_QUESTION = re.compile(r"(?:\?|ですか|ますか|でしょうか|ませんか|よろしいか)[。.]*$")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|vs|tr|wg|返信|転送)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)
# An answer typed into the subject stands at its very start (after "Re:" and an opening bracket).
_SUBJECT_START = 1

_CONTACT = re.compile(
    r"(?:^|(?<=[\s。、,.;!)]))"
    r"(?P<label>(?:自社の|弊社の|当社の|こちらの|弊社|当社|自社)?(?:ご)?担当者?(?:名|様|氏名)?|担当窓口|窓口担当|窓口"
    r"|contact(?:\s+person)?(?:\s+name)?|person\s+in\s+charge|responsible\s+person|representative)"
    r"\s*(?P<sep>[:=]|は|→)\s*(?P<value>[^。;\n]*)",
    re.I)
_NAME_SUFFIX = re.compile(
    r"(?:\s*(?:です|でございます|となります|になります|と申します|とします|でお願いします|でお願いいたします|にお願いします"
    r"|宛て?|まで|にて|で))+$")
_HONORIFIC = re.compile(r"(?:\s*(?:様|さま|さん|殿|氏|君))+$")
_TITLE = re.compile(r"^(?:mr|ms|mrs|miss|dr)\.?\s+", re.I)
_NAME_STRIP = " \t\"'「」『』[]【】:,、.。!"
_NOT_A_NAME = re.compile(r"します|しました|ください|下さい|連絡|後日|未定|決まり|検討|不要|なし|いない|おりません"
                         r"|tbd|n/a|^-+$|^none$|^未$", re.I)


@dataclass(frozen=True)
class _Hit:
    intent: Intent
    weight: float
    word: str
    line_no: int
    line: str
    question: bool


def _scan(text: str, rules: tuple[_Rule, ...]) -> list[tuple[int, Intent, float, str]]:
    """(position, intent, weight, matched text) of every answer word, in text order."""
    found: list[tuple[int, Intent, float, str]] = []
    for rule in rules:
        spans = list(rule.pattern.finditer(text))
        if not spans:
            continue
        for match in spans:
            if rule.intent is not None:
                intent = _SINGLE[match.group(1)] if rule.single_char else rule.intent
                found.append((match.start(), intent, rule.weight, match.group(0).strip("\x00")))
        # Mask what matched so shorter words inside it ("承認" in "非承認") are not seen again.
        text = rule.pattern.sub(lambda m: "\x00" * len(m.group(0)), text)
    return sorted(found, key=lambda f: f[0])


def _scan_line(line: str) -> list[tuple[Intent, float, str]]:
    folded = fold_for_match(line)
    spaced = " ".join(normalize_text(line).lower().split())
    return [(intent, weight, word) for _, intent, weight, word in
            _scan(folded, _JA_RULES) + _scan(spaced, _EN_RULES)]


def _clean_name(value: str) -> str | None:
    name = re.sub(r"<[^<>]*>", "", value)  # "John Smith <john@example.com>"
    name = " ".join(name.split()).strip(_NAME_STRIP)
    for _ in range(3):
        name = _NAME_SUFFIX.sub("", name)
        name = _HONORIFIC.sub("", name).strip(_NAME_STRIP)
    name = _TITLE.sub("", name).strip()
    # Brackets go only when unbalanced: "高橋(営業部)" keeps its own.
    if name.endswith(")") and "(" not in name:
        name = name[:-1].strip()
    if name.startswith("(") and ")" not in name:
        name = name[1:].strip()
    if not name or len(name) > 60 or _NOT_A_NAME.search(name):
        return None
    if not re.search(r"\w", name):
        return None
    return name


def _contact(line: str) -> tuple[str | None, tuple[int, int] | None]:
    for match in _CONTACT.finditer(line):
        label = match.group("label")
        # English labels need a colon: "contact us is easy" names nobody.
        if re.match(r"[a-z]", label, re.I) and match.group("sep") not in (":", "="):
            continue
        name = _clean_name(match.group("value"))
        return name, match.span()
    return None, None


def _summary(hits: list[_Hit]) -> str:
    words = list(dict.fromkeys(f"'{h.word}'" for h in hits))[:3]
    return ", ".join(words)


def read_invitation_answer(reply: str, subject: str = "") -> IntentResult:
    """What the partner answered in ``reply`` (already stripped of quotes); the subject only as a last resort."""
    lines = normalize_text(reply or "").split("\n")
    hits: list[_Hit] = []
    contact: str | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        name, span = _contact(line)
        if name is not None and span is not None:
            contact = contact or name
            line = line[:span[0]] + " " + line[span[1]:]  # a name is not an answer
        question = bool(_QUESTION.search(line.strip()))
        for intent, weight, word in _scan_line(line):
            hits.append(_Hit(intent, weight, word, number, lines[number - 1].strip(), question))

    answers = [h for h in hits if not h.question]
    if not answers and hits:
        reason = f"answer words only in a question: {_summary(hits)} on line {hits[0].line_no}"
        return IntentResult(None, UNCLEAR, (reason,), contact, hits[0].line)
    if not answers:
        from_subject = _subject_hits(subject)
        if from_subject:
            result = _decide(from_subject, where="in the subject")
            confidence = min(result.confidence, 0.85) if result.intent else result.confidence
            return IntentResult(result.intent, confidence, result.reasons, contact, subject.strip())
        return IntentResult(None, 0.0, ("no answer word found",), contact, None)
    result = _decide(answers, where=None)
    return IntentResult(result.intent, result.confidence, result.reasons, contact, result.evidence)


def _subject_hits(subject: str) -> list[_Hit]:
    cleaned = normalize_text(_REPLY_PREFIX.sub("", subject or "")).strip()
    if not cleaned:
        return []
    # Only the start counts: the rest of "Re: 【ご招待】…" is our wording and the issuer's name.
    found = _scan(fold_for_match(cleaned), _JA_RULES) + _scan(" ".join(cleaned.lower().split()), _EN_RULES)
    return [_Hit(intent, weight, word, 0, cleaned, False)
            for start, intent, weight, word in found if start <= _SUBJECT_START]


def _decide(hits: list[_Hit], where: str | None) -> IntentResult:
    by_intent: dict[Intent, list[_Hit]] = {}
    for hit in hits:
        by_intent.setdefault(hit.intent, []).append(hit)

    def place(hit: _Hit) -> str:
        return where or f"on line {hit.line_no}"

    if len(by_intent) == 1:
        intent, found = next(iter(by_intent.items()))
        best = max(found, key=lambda h: h.weight)
        confidence = min(0.99, best.weight + 0.02 * (len(found) - 1))
        reasons = tuple(dict.fromkeys(f"found '{h.word}' {place(h)}" for h in found))[:5]
        if best.weight < WEAK:
            reasons += (f"'{best.word}' alone is a vague answer",)
        return IntentResult(intent, confidence, reasons, None, best.line)

    strong = {intent: found for intent, found in by_intent.items() if any(h.weight >= STRONG for h in found)}
    if len(strong) == 1:
        # One clear answer beside weaker words ("We accept. Details later."): take it, less sure.
        intent, found = next(iter(strong.items()))
        best = max(found, key=lambda h: h.weight)
        others = [h for h in hits if h.intent != intent]
        reasons = (f"found '{best.word}' {place(best)}",
                   f"weaker {others[0].intent.value} word(s) {_summary(others)} outweighed")
        return IntentResult(intent, min(best.weight - 0.1, 0.85), reasons, None, best.line)

    parts = [f"{intent.value} ({_summary(found)})" for intent, found in by_intent.items()]
    reason = "contradictory: " + " and ".join(parts)
    first = hits[0]
    return IntentResult(None, UNCLEAR, (reason,), None, first.line)
