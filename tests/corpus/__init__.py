"""The labelled corpus: agent-written tickets with the decision their SOP expects.

``*.yaml`` here, one file per mapping; ``loader`` reads them, decides every ticket and
compares (see its docstring for the format). Reports: ``python bench/corpus.py``.
"""

from tests.corpus.loader import (
    CORPUS_DIR,
    CorpusCase,
    CorpusError,
    Expectation,
    MappingReport,
    Observed,
    Result,
    classify,
    load_corpus,
    run_case,
    run_corpus,
)

__all__ = [
    "CORPUS_DIR",
    "CorpusCase",
    "CorpusError",
    "Expectation",
    "MappingReport",
    "Observed",
    "Result",
    "classify",
    "load_corpus",
    "run_case",
    "run_corpus",
]
