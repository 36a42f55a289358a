from __future__ import annotations

import pytest

from notes.drafting.template import TemplateError, available_templates, load_template, parse_template
from notes.drafting.types import DraftRequest


def test_soap_is_data_with_four_sections_in_order() -> None:
    soap = load_template("soap")
    assert [s.kind for s in soap.sections] == ["SUBJECTIVE", "OBJECTIVE", "ASSESSMENT", "PLAN"]
    assert all(s.title and s.guidance and s.keywords for s in soap.sections)


def test_a_second_template_needs_no_code() -> None:
    assert {"soap", "hp"} <= set(available_templates())
    hp = load_template("hp")
    assert hp.sections[0].kind == "CHIEF_COMPLAINT" and len(hp.sections) == 5


def test_unknown_and_malformed_templates_are_refused() -> None:
    with pytest.raises(TemplateError):
        load_template("nope")
    with pytest.raises(TemplateError):
        parse_template({"id": "x", "title": "x", "version": "1", "sections": [{"kind": "A"}]})
    section = {"kind": "A", "title": "A", "guidance": "g", "deterministic_rules": ["write_poetry"]}
    with pytest.raises(TemplateError):
        parse_template({"id": "x", "title": "x", "version": "1", "sections": [section]})


def test_section_subset_follows_template_order_and_rejects_unknown_kinds() -> None:
    soap = load_template("soap")
    request = DraftRequest(segments=(), findings=(), prior_notes=(), template=soap, sections=("PLAN", "OBJECTIVE"))
    assert request.section_kinds() == ("OBJECTIVE", "PLAN")
    with pytest.raises(ValueError, match="HPI"):
        DraftRequest((), (), (), soap, sections=("HPI",)).section_kinds()
