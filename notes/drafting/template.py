"""Note templates are data (`templates/*.json`): a new note type is a new file, not new code."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, cast

from notes.drafting.types import FindingKind, NoteTemplate, SectionTemplate

_FINDING_KINDS: tuple[FindingKind, ...] = ("problem", "medication")
DETERMINISTIC_RULES = frozenset(
    {
        "reported_problems", "denied_problems", "history", "family_history", "diagnoses",
        "possible_problems", "current_medications", "medication_changes", "quotes",
    }
)  # fmt: skip


class TemplateError(ValueError):
    pass


def available_templates() -> list[str]:
    root = resources.files("notes.drafting.templates")
    return sorted(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))


def load_template(template_id: str = "soap") -> NoteTemplate:
    if template_id not in available_templates():
        raise TemplateError(f"unknown note template {template_id!r}")
    raw = resources.files("notes.drafting.templates").joinpath(f"{template_id}.json").read_text("utf-8")
    return parse_template(json.loads(raw))


def parse_template(data: dict[str, Any]) -> NoteTemplate:
    try:
        sections = tuple(_parse_section(s) for s in data["sections"])
        template = NoteTemplate(
            id=str(data["id"]), title=str(data["title"]), version=str(data["version"]), sections=sections
        )
    except (KeyError, TypeError) as exc:
        raise TemplateError(f"malformed note template: {exc!r}") from None
    kinds = [s.kind for s in sections]
    if not kinds or len(set(kinds)) != len(kinds):
        raise TemplateError("a template needs at least one section and unique section kinds")
    return template


def _parse_section(s: dict[str, Any]) -> SectionTemplate:
    kinds = tuple(s.get("finding_kinds", _FINDING_KINDS))
    if any(k not in _FINDING_KINDS for k in kinds):
        raise TemplateError(f"unknown finding kind in section {s.get('kind')!r}")
    max_sentences = int(s.get("max_sentences", 8))
    if not 1 <= max_sentences <= 20:
        raise TemplateError("max_sentences must be between 1 and 20")
    rules = tuple(str(r) for r in s.get("deterministic_rules", ()))
    unknown = [r for r in rules if r not in DETERMINISTIC_RULES]
    if unknown:
        raise TemplateError(f"unknown deterministic rule(s) {unknown} in section {s.get('kind')!r}")
    return SectionTemplate(
        kind=str(s["kind"]),
        title=str(s["title"]),
        guidance=str(s["guidance"]),
        keywords=tuple(str(k).lower() for k in s.get("keywords", ())),
        finding_kinds=cast(tuple[FindingKind, ...], kinds),
        prefer_speaker=s.get("prefer_speaker"),
        max_sentences=max_sentences,
        deterministic_rules=rules,
        denied_findings=bool(s.get("denied_findings", True)),
    )
