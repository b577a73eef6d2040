"""State machines declared as tables.

A machine is data: its states, its final states, the transitions
``trigger: sources -> dest`` with their effects, and the refusals it knows a
reason (and maybe a consequence) for. ``fire`` is the only way a state changes.
An event the table does not allow raises ``TransitionRefused`` after running
the refusal's effects; nothing of the transition itself is applied.
Effects run inside the caller's database transaction, so an effect that fails
rolls the whole event back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from workflows.errors import TransitionRefused

C = TypeVar("C")

Effect = Callable[[C], None]


class Stateful(Protocol):
    state: str


@dataclass(frozen=True)
class Transition(Generic[C]):
    trigger: str
    sources: frozenset[str]
    dest: str
    effects: tuple[Effect[C], ...] = ()


@dataclass(frozen=True)
class Refusal(Generic[C]):
    """An event known to be wrong in some states: why, and what to do about it."""

    trigger: str
    sources: frozenset[str]
    reason: str
    effects: tuple[Effect[C], ...] = ()


@dataclass(frozen=True)
class Machine(Generic[C]):
    name: str
    states: tuple[str, ...]
    initial: str
    final: frozenset[str]
    transitions: tuple[Transition[C], ...]
    refusals: tuple[Refusal[C], ...] = ()
    _index: dict[tuple[str, str], Transition[C]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        known = set(self.states)
        index: dict[tuple[str, str], Transition[C]] = {}
        for t in self.transitions:
            unknown = (t.sources | {t.dest}) - known
            if unknown:
                raise ValueError(f"{self.name}: transition {t.trigger!r} names unknown states {unknown}")
            for source in t.sources:
                if source in self.final:
                    raise ValueError(f"{self.name}: final state {source!r} cannot be left by {t.trigger!r}")
                if (source, t.trigger) in index:
                    raise ValueError(f"{self.name}: two transitions for {t.trigger!r} from {source!r}")
                index[(source, t.trigger)] = t
        object.__setattr__(self, "_index", index)

    @property
    def triggers(self) -> frozenset[str]:
        return frozenset(t.trigger for t in self.transitions)

    def allows(self, state: str, trigger: str) -> bool:
        return (state, trigger) in self._index

    def refusal_for(self, state: str, trigger: str) -> Refusal[C] | None:
        for refusal in self.refusals:
            if refusal.trigger == trigger and state in refusal.sources:
                return refusal
        return None

    def fire(self, obj: Stateful, trigger: str, ctx: C) -> Transition[C]:
        """Move ``obj`` by ``trigger`` and run the transition's effects, or refuse."""
        transition = self._index.get((obj.state, trigger))
        if transition is None:
            refusal = self.refusal_for(obj.state, trigger)
            if refusal is None:
                if trigger not in self.triggers:
                    reason = f"unknown event {trigger!r}"
                else:
                    reason = f"{trigger!r} is not allowed when the {self.name} is {obj.state!r}"
                raise TransitionRefused(self.name, obj.state, trigger, reason)
            for effect in refusal.effects:
                effect(ctx)
            raise TransitionRefused(self.name, obj.state, trigger, refusal.reason)
        obj.state = transition.dest
        for effect in transition.effects:
            effect(ctx)
        return transition

    def mermaid(self) -> str:
        """The table drawn as a Mermaid state diagram (the diagram is the contract)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for t in self.transitions:
            for source in sorted(t.sources):
                lines.append(f"    {source} --> {t.dest}: {t.trigger}")
        for state in sorted(self.final):
            lines.append(f"    {state} --> [*]")
        return "\n".join(lines)
