"""Chinese analysis of what citizens say about police and government service.

Importing this package loads nothing heavy: the tokenizer, lexicons and models are built
on first use and cached per process (see ``get_default_analyzer``).
"""

from nlp.analysis import Analyzer, CommentAnalysis, UrgencyFlag, get_default_analyzer
from nlp.normalize import normalize_text
from nlp.taxonomy import Category, Taxonomy, default_taxonomy, load_taxonomy
from nlp.tokenizer import segment

__all__ = [
    "Analyzer",
    "Category",
    "CommentAnalysis",
    "Taxonomy",
    "UrgencyFlag",
    "default_taxonomy",
    "get_default_analyzer",
    "load_taxonomy",
    "normalize_text",
    "segment",
]
