"""The parser registry: the invitation reply parser is chosen for invitations and reads the answer."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from email.mime.text import MIMEText

from parsers.mime.parse import parse_mail
from parsers.registry import REGISTRY, InvitationReplyParser, ParseContext, Parser, ParseResult, choose

INVITATION = ("このメールにそのまま返信し、次のいずれかをお書きください。\n"
              "承認 / 非承認 / 保留 のいずれかをご返信ください。")


def context(body: str, object_type: str | None = "invitation", known: tuple[str, ...] = ()) -> ParseContext:
    msg = MIMEText(body, "plain", "utf-8")
    msg["Subject"] = "Re: 【ご招待】"
    return ParseContext(mail=parse_mail(msg.as_bytes()), object_type=object_type, known_texts=known,
                        written_on=date(2026, 11, 21))


def test_the_invitation_parser_is_chosen_for_an_invitation() -> None:
    assert isinstance(choose(context("承認します")), InvitationReplyParser)


def test_no_parser_is_chosen_for_an_unknown_object() -> None:
    assert choose(context("承認します", object_type=None)) is None
    assert choose(context("承認します", object_type="shipment")) is None


def test_a_registration_reply_is_the_application_or_the_wholesalers_answer() -> None:
    def read(body: str, awaiting: str) -> ParseResult:
        ctx = dataclasses.replace(context(body, object_type="registration"), awaiting=awaiting)
        parser = choose(ctx)
        assert parser is not None and parser.name == "registration_reply"
        return parser.parse(ctx)

    application = read("企業名：株式会社みどり\n代表JANメーカーコード：4512345", "application")
    assert application.data["intent"] == "apply" and application.confidence == 1.0
    assert application.data["fields"] == {"company_name": "株式会社みどり", "jan_maker_code": "4512345"}
    assert read("よろしくお願いします", "application").confidence < 0.5
    rejected = read("非承認\n取引がありません。", "approval")
    assert (rejected.data["intent"], rejected.data["reason"]) == ("reject", "取引がありません。")
    assert rejected.confidence >= 0.8
    held = read("保留でお願いします", "approval")
    assert held.data["intent"] is None and held.confidence == 0.0


def test_the_order_parser_is_chosen_for_an_order() -> None:
    parser = choose(context("承りました", object_type="order"))
    assert parser is not None and parser.name == "order_reply"


def test_parse_reads_intent_contact_and_the_new_text_only() -> None:
    body = f"保留でお願いします\n担当者：佐藤 花子様\n\n{INVITATION}"
    result = InvitationReplyParser().parse(context(body, known=(INVITATION,)))
    assert result.parser == "invitation_reply"
    assert result.data["intent"] == "hold"
    assert result.data["contact_person"] == "佐藤 花子"
    assert result.data["reply_text"] == "保留でお願いします\n担当者:佐藤 花子様"
    assert result.confidence >= 0.9
    json.dumps(dict(result.data))  # stored with the message as JSON


def test_an_unclear_reply_has_no_intent_and_low_confidence() -> None:
    result = InvitationReplyParser().parse(context("ご連絡ありがとうございます。"))
    assert result.data["intent"] is None
    assert result.confidence < 0.5
    assert result.reasons == ("no answer word found",)


@dataclass
class _Fixed:
    name: str
    fit: float

    def score(self, ctx: ParseContext) -> float:
        return self.fit

    def parse(self, ctx: ParseContext) -> ParseResult:
        return ParseResult(self.name, 1.0, (), {})


def test_choose_takes_the_highest_score_above_zero() -> None:
    low, high, none = _Fixed("low", 0.2), _Fixed("high", 0.7), _Fixed("none", 0.0)
    registry: list[Parser] = [low, high, none]
    assert choose(context("x"), registry) is high
    assert choose(context("x"), [none]) is None


def test_the_registry_lists_every_parser_explicitly() -> None:
    assert [p.name for p in REGISTRY] == ["invitation_reply", "order_reply", "registration_reply"]
