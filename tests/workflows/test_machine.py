from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from workflows.errors import TransitionRefused
from workflows.invitation import MACHINE as INVITATION
from workflows.machine import Machine, Refusal, Transition


@dataclass
class Thing:
    state: str
    log: list[str] = field(default_factory=list)


def note(what: str):  # type: ignore[no-untyped-def]
    return lambda ctx: ctx.log.append(what)


DOOR: Machine[Thing] = Machine(
    name="door",
    states=("closed", "open", "welded"),
    initial="closed",
    final=frozenset({"welded"}),
    transitions=(
        Transition("open", frozenset({"closed"}), "open", (note("opened"),)),
        Transition("close", frozenset({"open"}), "closed"),
        Transition("weld", frozenset({"closed"}), "welded"),
    ),
    refusals=(Refusal("open", frozenset({"welded"}), "the door is welded shut", (note("complained"),)),),
)


def test_fire_moves_the_state_and_runs_effects() -> None:
    door = Thing("closed")
    DOOR.fire(door, "open", door)
    assert door.state == "open" and door.log == ["opened"]


def test_a_known_refusal_runs_its_effects_and_changes_nothing() -> None:
    door = Thing("welded")
    with pytest.raises(TransitionRefused) as refused:
        DOOR.fire(door, "open", door)
    assert refused.value.reason == "the door is welded shut"
    assert door.state == "welded" and door.log == ["complained"]


def test_an_event_not_in_the_table_is_refused_with_a_reason() -> None:
    door = Thing("open")
    with pytest.raises(TransitionRefused, match="'weld' is not allowed when the door is 'open'"):
        DOOR.fire(door, "weld", door)
    with pytest.raises(TransitionRefused, match="unknown event 'paint'"):
        DOOR.fire(door, "paint", door)
    assert door.state == "open"


def test_a_table_that_leaves_a_final_state_is_rejected() -> None:
    with pytest.raises(ValueError, match="final state"):
        Machine(name="bad", states=("a", "b"), initial="a", final=frozenset({"b"}),
                transitions=(Transition("x", frozenset({"b"}), "a"),))


def test_a_table_naming_unknown_states_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown states"):
        Machine(name="bad", states=("a",), initial="a", final=frozenset(),
                transitions=(Transition("x", frozenset({"a"}), "zz"),))


def test_approved_invitations_are_final() -> None:
    assert "approved" in INVITATION.final
    for trigger in ("reject", "hold", "approve"):
        assert not INVITATION.allows("approved", trigger)
        assert INVITATION.refusal_for("approved", trigger) is not None


def test_held_and_rejected_invitations_can_still_be_answered() -> None:
    assert INVITATION.allows("held", "approve") and INVITATION.allows("held", "reject")
    assert INVITATION.allows("rejected", "approve")


def test_the_invitation_diagram_comes_from_the_table() -> None:
    diagram = INVITATION.mermaid()
    assert "held --> rejected: reject" in diagram
    assert "approved --> [*]" in diagram
