"""Build the vocabulary artifact from the installed packages (run in a subprocess: it needs ~500 MB briefly).

    python -m nlp.lexicon.build OUT.json.gz

Sources: ICD-10-CM descriptions and inclusion terms (`simple-icd-10-cm`), the DrugBank/MeSH/Wikipedia drug
dictionary of `drug-named-entity-recognition` (read from its data file; importing the package would also
load it), and the curated tables in this package. Output: gzip'd JSON read by `nlp.lexicon.artifact`.
"""

from __future__ import annotations

import bz2
import gzip
import importlib.util
import json
import os
import pickle  # the drug package ships its dictionary as a pickle; we read that installed file only
import re
import sys
from pathlib import Path
from typing import Any

from nlp.lexicon.anatomy import ANALYTES, SITES
from nlp.lexicon.drugs_common import COMMON_DRUGS, EXTRA_VARIANTS, NON_DRUG_TERMS
from nlp.lexicon.lay_terms import ICD_TERM_STOPLIST, LAY_PROBLEMS, SAME_PROBLEM
from nlp.lexicon.norm import norm_key

SCHEMA = 1
MAX_TERM_TOKENS = 5
# ICD-10-CM chapters whose terms describe patients' problems (pregnancy, perinatal, injuries by mechanism,
# external causes and encounter reasons are left out; the curated table adds the few we need from them).
_ICD_CHAPTER_LETTERS = frozenset("ABCDEFGHIJKLMNQRU")
# A description is cut at its first comma only when what follows is a qualifier ("Gout, unspecified").
_QUALIFIER_START = re.compile(
    r"^(unspecified|not |without|with |nos\b|nec\b|initial|subsequent|sequela|right|left|bilateral|"
    r"unilateral|acute|chronic|site|single|multiple|other|in |of |due |uncomplicated|complicated|mild|"
    r"moderate|severe|recurrent|intractable|primary|secondary|except|so stated|unsp)"
)
_BAD_FIRST = frozenset({"other", "unspecified", "personal", "family", "history", "encounter", "presence"})
# MeSH trees that hold classes and body substances rather than drugs (D27: pharmacologic actions;
# D12.776: proteins such as antibodies and ferritin; D08: enzymes).
_NON_DRUG_MESH = ("D27", "D12.776", "D08")
# A canonical entry counts as a drug when one of these sources describes it.
_DRUG_SOURCES = ("drugbank_id", "medline_plus_id", "nhs_url", "wikipedia_url")
_DRUG_FORM_WORDS = frozenset({"vaccine", "vaccines", "toxoid", "immune globulin"})


def _tokenizer() -> Any:
    import spacy

    return spacy.blank("en").tokenizer


def _clean_icd(text: str) -> str:
    s = text.lower()
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\([^)]*\)", " ", s)
    s = re.sub(r"\bnos\b", " ", s)
    return re.sub(r"\s+", " ", s).strip(" ,;.")


def _icd_candidates(text: str) -> list[str]:
    s = _clean_icd(text)
    out = [s] if "," not in s else []
    if "," in s:
        head, rest = s.split(",", 1)
        if _QUALIFIER_START.match(rest.strip()):
            out.append(head.strip())
    return out


_PERSONS = (("i", "my", "me"), ("you", "your", "you"), ("he", "his", "him"), ("she", "her", "her"))


def pronoun_variants(phrase: str) -> list[str]:
    """ "burning when i pee" is also said as "burning when you pee" / "when he pees"."""
    words = phrase.split()
    if not any(w in ("i", "my", "me") for w in words):
        return [phrase]
    out = []
    for subj, poss, obj in _PERSONS:
        out.append(" ".join({"i": subj, "my": poss, "me": obj}.get(w, w) for w in words))
    return out


def lay_groups() -> list[tuple[str, str, list[str]]]:
    """Runs of consecutive curated entries with one code: (code, label = the run's first phrase, phrases)."""
    groups: list[tuple[str, str, list[str]]] = []
    for phrase, code in LAY_PROBLEMS:
        if not groups or groups[-1][0] != code:
            groups.append((code, phrase, []))
        groups[-1][2].append(phrase)
    return groups


def build_problems(tok: Any) -> tuple[list[list[str]], dict[str, int], dict[str, str], dict[str, str]]:
    import simple_icd_10_cm as icd

    concepts: list[list[str]] = []
    concept_ix: dict[str, int] = {}

    def concept(code: str) -> int:
        if code not in concept_ix:
            concept_ix[code] = len(concepts)
            concepts.append([code, icd.get_description(code)])
        return concept_ix[code]

    # term -> (priority, code); lower priority wins: description before inclusion term, leaf before
    # category, then the shorter code.
    best: dict[str, tuple[tuple[int, int, int, str], str]] = {}
    site_codes: dict[str, str] = {}
    for code in icd.get_all_codes(with_dots=True):
        if icd.is_chapter_or_block(code) or code[0] not in _ICD_CHAPTER_LETTERS:
            continue
        leaf = 0 if icd.is_leaf(code) else 1
        desc = icd.get_description(code)
        m = re.match(r"^(pain|effusion|stiffness) (?:in|of) (right|left|unspecified) (\w+)$", _clean_icd(desc))
        if m and icd.is_leaf(code):
            site_codes[f"{m.group(1)}|{m.group(3)}|{m.group(2)}"] = code
        sources = (
            [(0, desc)] + [(1, t) for t in icd.get_inclusion_term(code)] + [(1, t) for t in icd.get_includes(code)]
        )
        for src, text in sources:
            for cand in _icd_candidates(text):
                toks = [t.text for t in tok(cand)]
                key = norm_key(toks)
                words = key.split()
                if not words or len(words) > MAX_TERM_TOKENS or any(ch.isdigit() for ch in key):
                    continue
                if cand in ICD_TERM_STOPLIST or key in ICD_TERM_STOPLIST or words[0] in _BAD_FIRST:
                    continue
                if not any(len(w) >= 3 and w.isalpha() for w in words):
                    continue
                if len(words) == 1 and len(key) < 5:
                    continue  # short single words from ICD-10-CM are mostly acronyms ("pres" -> "pre")
                prio = (src, leaf, len(code), code)
                if key not in best or prio < best[key][0]:
                    best[key] = (prio, code)
    terms: dict[str, int] = {key: concept(code) for key, (_, code) in best.items()}
    valid = set(icd.get_all_codes(with_dots=True))
    labels: dict[str, str] = {}  # term key -> the name of its problem
    groups = [g for g in lay_groups() if g[0] in valid]  # a test reports unknown codes; a build must not fail
    per_code: dict[str, list[str]] = {}
    for code, label, _ in groups:
        per_code.setdefault(code, []).append(label)
    for key, (_, code) in best.items():  # ICD terms take the curated name when their code has only one
        if len(per_code.get(code, [])) == 1:
            labels[key] = per_code[code][0]
    for code, label, phrases in groups:
        label = SAME_PROBLEM.get(label, label)
        for phrase in phrases:
            for variant in pronoun_variants(phrase):
                key = norm_key(t.text for t in tok(variant))
                terms[key] = concept(code)
                labels[key] = label
    for site in SITES:  # a bare body site is never a problem by itself
        terms.pop(norm_key(t.text for t in tok(site)), None)
        labels.pop(norm_key(t.text for t in tok(site)), None)
    return concepts, terms, site_codes, labels


def _load_drug_dictionary() -> dict[str, Any]:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("drug-named-entity-recognition is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as f:
        data: dict[str, Any] = pickle.load(f)  # noqa: S301 - the installed package's own data file
    return data


def build_drugs(tok: Any) -> tuple[list[list[Any]], dict[str, list[int]]]:
    data = _load_drug_dictionary()
    v2c: dict[str, list[str]] = data["drug_variant_to_canonical"]
    c2d: dict[str, dict[str, Any]] = data["drug_canonical_to_data"]
    rank: dict[str, int] = {}
    brand_to_generic: dict[str, str] = {}
    for i, (generic, brands) in enumerate(COMMON_DRUGS):
        rank.setdefault(generic, i)
        for b in brands:
            brand_to_generic[b] = generic
    concepts: list[list[Any]] = []
    concept_ix: dict[str, int] = {}

    def ids_for(name: str) -> tuple[str | None, str | None]:
        canon = (v2c.get(name) or [name])[0]
        d = c2d.get(canon, {})
        return d.get("drugbank_id"), d.get("mesh_id")

    def concept(generic: str, drugbank: str | None, mesh: str | None) -> int:
        if generic not in concept_ix:
            concept_ix[generic] = len(concepts)
            concepts.append([generic, drugbank, mesh, rank.get(generic, len(COMMON_DRUGS) + 1)])
        return concept_ix[generic]

    terms: dict[str, list[int]] = {}
    variants: dict[str, str] = {v: cs[0] for v, cs in v2c.items() if cs}
    for canon in c2d:
        variants.setdefault(canon, canon)
    for variant, canon in variants.items():
        v = variant.lower().strip()
        if any(ch in v for ch in ",;()[]") or len(v) < 3 or v in NON_DRUG_TERMS:
            continue
        d = c2d.get(canon, {})
        tree = d.get("mesh_tree") or []
        if tree and all(t.startswith(_NON_DRUG_MESH) for t in tree):
            continue
        if not any(d.get(k) for k in _DRUG_SOURCES):
            continue  # MeSH chemical-index entries without a drug source: acronyms like "did", "sit"
        if len(v) <= 4 and v != canon:
            continue  # short synonyms are mostly lab or chemistry acronyms ("sgpt", "acth")
        if canon in NON_DRUG_TERMS or not any(ch.isalpha() for ch in v):
            continue
        key = norm_key(t.text for t in tok(v))
        if not key or len(key.split()) > 4:
            continue
        generic = brand_to_generic.get(v) or (d.get("name") or canon).lower()
        drugbank, mesh = (d.get("drugbank_id"), d.get("mesh_id")) if d else ids_for(generic)
        is_brand = int(v != generic and v != canon)
        terms[key] = [concept(generic, drugbank, mesh), is_brand]
    # curated forms override the package's (brand -> the generic clinicians say, supplements, OTC)
    curated: dict[str, str] = dict(EXTRA_VARIANTS)
    for generic, brands in COMMON_DRUGS:
        curated.setdefault(generic, generic)
        for b in brands:
            curated.setdefault(b, generic)
    for v, generic in curated.items():
        drugbank, mesh = ids_for(generic)
        key = norm_key(t.text for t in tok(v))
        terms[key] = [concept(generic, drugbank, mesh), int(v != generic)]
    for form in _DRUG_FORM_WORDS:
        terms.pop(form, None)
    return concepts, terms


def _descriptions(codes: set[str]) -> dict[str, str]:
    import simple_icd_10_cm as icd

    return {c: icd.get_description(c) for c in sorted(codes) if icd.is_valid_item(c)}


def build(out: Path, key: dict[str, str]) -> None:
    tok = _tokenizer()
    p_concepts, p_terms, site_codes, term_labels = build_problems(tok)
    d_concepts, d_terms = build_drugs(tok)
    extra = set(site_codes.values()) | {c for _, hi, lo in ANALYTES.values() for c in (hi, lo) if c}
    doc = {
        "schema": SCHEMA,
        "key": key,
        "problem_concepts": p_concepts,
        "problem_terms": p_terms,
        "site_codes": site_codes,
        "descriptions": _descriptions(extra),
        "term_labels": term_labels,
        "drug_concepts": d_concepts,
        "drug_terms": d_terms,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=True)
    os.replace(tmp, out)  # atomic: a concurrent builder or reader never sees half a file


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m nlp.lexicon.build OUT.json.gz KEY_JSON", file=sys.stderr)
        return 2
    build(Path(args[0]), json.loads(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
