"""What is happening to a medication: taking, started, stopped, changed or conditional.

The nearest cue before the drug name in its sentence decides ("stop the norvasc and put you on
hydrochlorothiazide": norvasc stopped, hydrochlorothiazide started); a few cues follow the name ("the
prozac, i stopped it"). Past use the patient reports ("i weaned myself off") is stopped *and* historical:
no longer a current medication, unlike a drug the clinician stops today.
"""

from __future__ import annotations

from typing import Any, cast

from nlp.types import MedicationStatus

_LOOKBACK = 10
_LOOKAHEAD = 8
# (cue tokens, status, historical). Longer cues first so "stopped taking" beats "taking".
_BEFORE: tuple[tuple[tuple[str, ...], MedicationStatus, bool], ...] = tuple(
    (tuple(c.split()), cast(MedicationStatus, s), h)
    for c, s, h in sorted(
        (
            ("used to take", "stopped", True),
            ("used to be on", "stopped", True),
            ("was taking", "taking", False),
            ("was on", "taking", False),
            ("stopped taking", "stopped", True),
            ("quit taking", "stopped", True),
            ("weaned myself off", "stopped", True),
            ("weened myself off", "stopped", True),
            ("came off", "stopped", True),
            ("went off", "stopped", True),
            ("stop", "stopped", False),
            ("stopping", "stopped", False),
            ("discontinue", "stopped", False),
            ("discontinuing", "stopped", False),
            ("come off", "stopped", False),
            ("get off", "stopped", False),
            ("get you off", "stopped", False),
            ("take you off", "stopped", False),
            ("hold", "stopped", False),
            ("holding", "stopped", False),
            ("wean", "stopped", False),
            ("taper off", "stopped", False),
            ("no longer", "stopped", True),
            ("increase", "changed", False),
            ("increasing", "changed", False),
            ("increased", "changed", False),
            ("decrease", "changed", False),
            ("decreasing", "changed", False),
            ("decreased", "changed", False),
            ("reduce", "changed", False),
            ("lower", "changed", False),
            ("raise", "changed", False),
            ("bump up", "changed", False),
            ("bump", "changed", False),
            ("double", "changed", False),
            ("change", "changed", False),
            ("changing", "changed", False),
            ("switch", "changed", False),
            ("switch you to", "started", False),
            ("adjust", "changed", False),
            ("go up on", "changed", False),
            ("titrate", "changed", False),
            ("start", "started", False),
            ("starting", "started", False),
            ("prescribe", "started", False),
            ("prescribing", "started", False),
            ("put you on", "started", False),
            ("put you on some", "started", False),
            ("add", "started", False),
            ("adding", "started", False),
            ("try", "started", False),
            ("trial of", "started", False),
            ("give you", "started", False),
            ("giving you", "started", False),
            ("send in", "started", False),
            ("recommend", "started", False),
            ("begin", "started", False),
            ("initiate", "started", False),
            ("continue", "taking", False),
            ("continuing", "taking", False),
            ("keep", "taking", False),
            ("take", "taking", False),
            ("taking", "taking", False),
            ("takes", "taking", False),
            ("on", "taking", False),
            ("using", "taking", False),
            ("use", "taking", False),
            ("refill", "taking", False),
            ("refills", "taking", False),
        ),
        key=lambda x: -len(x[0].split()),
    )
)
_AFTER: tuple[tuple[tuple[str, ...], MedicationStatus, bool], ...] = (
    (("was", "stopped"), "stopped", True),
    (("i", "stopped"), "stopped", True),
    (("stopped",), "stopped", True),
    (("discontinued",), "stopped", True),
    (("was", "discontinued"), "stopped", True),
    (("weaned",), "stopped", True),
    (("weened",), "stopped", True),
)


def _match_at(toks: list[str], i: int, cue: tuple[str, ...]) -> bool:
    return tuple(toks[i : i + len(cue)]) == cue


def medication_status(doc: Any, span: Any, cats: set[str]) -> tuple[MedicationStatus, bool]:
    """(status, historical) for the drug mention `span` of a spaCy `doc`."""
    sent = span.sent
    lo = max(sent.start, span.start - _LOOKBACK)
    for e in doc.ents:  # do not read past the previous drug's cue
        if e.label_ == span.label_ and lo < e.end <= span.start and e != span:
            lo = e.end
    before = [t.lower_ for t in doc[lo : span.start]]
    status: MedicationStatus = "unknown"
    historical = False
    for end in range(len(before), 0, -1):  # the cue ending nearest the name wins; the longest at that end
        hit = next(((s, h) for c, s, h in _BEFORE if end >= len(c) and _match_at(before, end - len(c), c)), None)
        if hit is not None:
            status, historical = hit
            break
    after = [t.lower_ for t in doc[span.end : min(sent.end, span.end + _LOOKAHEAD)]]
    for i in range(len(after)):
        hit = next(((s, h) for c, s, h in _AFTER if _match_at(after, i, c)), None)
        if hit is not None:
            status, historical = hit
            break
    if "HISTORICAL" in cats and status in ("stopped", "unknown"):
        historical = status == "stopped" or historical
    if "HYPOTHETICAL" in cats and status in ("started", "unknown", "taking"):
        status = "conditional"
    return status, historical


_LAB_CUES = frozenset(
    {
        "check",
        "checked",
        "checking",
        "recheck",
        "rechecked",
        "test",
        "tested",
        "testing",
        "lab",
        "labs",
        "level",
        "levels",
        "measure",
        "measured",
        "last",
        "draw",
        "drew",
        "panel",
    }
)
_TAKE_CUES = frozenset(
    {
        "take",
        "taking",
        "took",
        "on",
        "start",
        "started",
        "prescribe",
        "prescribed",
        "continue",
        "increase",
        "decrease",
        "give",
        "use",
        "using",
        "stop",
        "add",
        "try",
        "refill",
        "of",
    }
)


def is_lab_reference(doc: Any, span: Any) -> bool:
    """A drug word used as a lab analyte: "we checked your estradiol", "recheck the iron, ferritin and folate"."""
    sent = span.sent
    for t in reversed(doc[max(sent.start, span.start - 12) : span.start]):
        w = t.lower_
        if w in _LAB_CUES:
            return True
        if w in _TAKE_CUES:
            return False
    return False


_STOP_REPLY = frozenset({"stopped", "quit", "weaned", "weened", "off"})


def reply_stops(tokens: list[str]) -> bool:
    """A reply that says the drug is no longer taken: "i've weaned myself off of it", "i stopped it"."""
    low = [t.lower() for t in tokens[:30]]
    return any(w in _STOP_REPLY for w in low) and not any(w in ("still", "yes", "yeah") for w in low[:3])
