"""Is the sender of a reply the one its object expects? Before anything it says is applied.

The expected sender (or its domain) comes from the object's workflow; failed DKIM or
Authentication-Results and a sender locked out for guessing tokens are refused first.
"""

from __future__ import annotations

from workflows.inbound.correlation import CREDENTIALS, unknown_tokens_within_hour
from workflows.inbound.step import Step
from workflows.registry import WORKFLOWS, load_object


def _locked_out(step: Step) -> bool:
    count = unknown_tokens_within_hour(step.session, step.mail.from_addr, by_envelope=False)
    return count >= step.settings.token_guess_limit


def _domain(address: str | None) -> str:
    return (address or "").rpartition("@")[2].lower()


def authenticate(step: Step) -> str | None:
    """Is the sender who the object expects? A reason when not, None when it is."""
    if step.mail.from_addr and _locked_out(step):
        return f"sender {step.mail.from_addr} is locked out after too many unknown tokens"
    if step.sender is not None and step.sender.failed:
        return "sender authentication failed: " + "; ".join(step.sender.reasons)
    corr = step.correlation
    spec = WORKFLOWS.get(corr.object_type or "")
    if spec is None or corr.object_id is None:
        return None
    # Right temporary credentials are the proof for paper invitations, whatever the address.
    if corr.via == CREDENTIALS:
        return None
    sender = step.mail.from_addr
    if sender is None:
        return "the reply has no readable From address"
    obj = load_object(step.session, spec.object_type, corr.object_id)
    expected = spec.expected_sender(step.session, obj) if obj is not None else None
    if not expected:
        return f"{sender} wrote about {spec.object_type} {corr.object_id}, which expects no answer by mail"
    if sender != expected.lower() and _domain(sender) != _domain(expected):
        return f"sender {sender} is not {spec.answerer} ({expected})"
    return None
