"""Clinical NLP engine: transcript text in, problems and medications out (no database, no web).

Public API (import the module you need; importing `nlp` itself loads nothing heavy):
    nlp.engine.ClinicalNlp.load(cache_dir) -> engine; engine.extract(passages) / engine.extract_text(text)
    nlp.types: Passage, Evidence, Code, ProblemFinding, MedicationFinding, Findings
    nlp.summary.summarize(findings): one item per problem and per drug
    nlp.vocabulary.medication_hotwords(limit): drug names for ASR biasing, common drugs first
    nlp.evaluation.run_nlp_eval(...): `ambient eval nlp`
"""
