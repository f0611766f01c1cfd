"""Stage 1, specification: sentence splitting and the spec checks (HR100-HR103)."""

from handrail.spec.check import PART_HINTS, PlaceholderHit, SpecSummary, check_spec, describe_spec
from handrail.spec.sentences import Sentence, count_sentences, split_sentences

__all__ = [
    "PART_HINTS",
    "PlaceholderHit",
    "Sentence",
    "SpecSummary",
    "check_spec",
    "count_sentences",
    "describe_spec",
    "split_sentences",
]
