"""Evaluation of the analyzer on labelled rows: per-class figures and confusion matrix.

Written without scikit-learn's metrics so the report format is ours and multi-label
categories (gold ``a|b``) are handled the way handlers read them: a comment is right
when the predicted set equals the gold set; per-category precision/recall count each
category of each comment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SENTIMENT_ORDER = ("neg", "neu", "pos")
_LONG_TO_SHORT = {"negative": "neg", "neutral": "neu", "positive": "pos"}


@dataclass(frozen=True)
class ClassFigures:
    """Precision, recall, F1 and support of one class."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    """Figures of one predictor on one set of rows."""

    name: str
    labels: tuple[str, ...]
    per_class: tuple[ClassFigures, ...]
    confusion: tuple[tuple[int, ...], ...]
    accuracy: float
    macro_f1: float
    n: int

    def figures(self, label: str) -> ClassFigures:
        """Return the figures of ``label``."""
        for item in self.per_class:
            if item.label == label:
                return item
        raise KeyError(label)

    def format(self) -> str:
        """Human-readable table: per-class figures, then the confusion matrix."""
        width = max([len(label) for label in self.labels] + [9])
        lines = [f"== {self.name} (n={self.n})", f"{'class':<{width}}  precision  recall     f1  support"]
        for item in self.per_class:
            figures = f"{item.precision:9.4f}  {item.recall:6.4f}  {item.f1:6.4f}  {item.support:7d}"
            lines.append(f"{item.label:<{width}}  {figures}")
        lines.append(f"accuracy {self.accuracy:.4f}  macro_f1 {self.macro_f1:.4f}")
        lines.append("confusion matrix (rows = gold, columns = predicted):")
        cell = max([len(label) for label in self.labels] + [5]) + 1
        lines.append(" " * width + "".join(f"{label:>{cell}}" for label in self.labels))
        for label, row in zip(self.labels, self.confusion, strict=True):
            lines.append(f"{label:<{width}}" + "".join(f"{count:>{cell}d}" for count in row))
        return "\n".join(lines)


def _class_figures(label: str, true_positives: int, predicted_n: int, gold_n: int) -> ClassFigures:
    precision = true_positives / predicted_n if predicted_n else 0.0
    recall = true_positives / gold_n if gold_n else 0.0
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return ClassFigures(label, precision, recall, f1, gold_n)


def _report(
    name: str,
    order: Sequence[str],
    per_class: Sequence[ClassFigures],
    confusion: tuple[tuple[int, ...], ...],
    correct: int,
    n: int,
) -> Report:
    """The report; macro-F1 averages the classes present in the gold labels."""
    present = [item for item in per_class if item.support > 0]
    return Report(
        name=name,
        labels=tuple(order),
        per_class=tuple(per_class),
        confusion=confusion,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(item.f1 for item in present) / len(present) if present else 0.0,
        n=n,
    )


def single_label_report(
    name: str, gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> Report:
    """Figures for one label per row (sentiment, urgency, single-label categories)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    order = list(labels) if labels else sorted(set(gold) | set(predicted))
    for label in sorted(set(gold) | set(predicted)):
        if label not in order:
            order.append(label)
    pairs = Counter(zip(gold, predicted, strict=True))
    per_class = [
        _class_figures(
            label,
            pairs[(label, label)],
            sum(count for (_, p), count in pairs.items() if p == label),
            sum(count for (g, _), count in pairs.items() if g == label),
        )
        for label in order
    ]
    confusion = tuple(tuple(pairs[(g, p)] for p in order) for g in order)
    correct = sum(count for (g, p), count in pairs.items() if g == p)
    return _report(name, order, per_class, confusion, correct, len(gold))


def multi_label_report(name: str, gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> Report:
    """Figures for label sets: exact-set accuracy, per-category P/R/F1 over memberships.

    The confusion matrix compares the first (main) category of each side.
    """
    order = sorted({label for labels in gold for label in labels} | {label for labels in predicted for label in labels})
    per_class = [
        _class_figures(
            label,
            sum(1 for g, p in zip(gold, predicted, strict=True) if label in g and label in p),
            sum(1 for p in predicted if label in p),
            sum(1 for g in gold if label in g),
        )
        for label in order
    ]
    main = Counter((g[0] if g else "", p[0] if p else "") for g, p in zip(gold, predicted, strict=True))
    confusion = tuple(tuple(main[(g, p)] for p in order) for g in order)
    exact = sum(1 for g, p in zip(gold, predicted, strict=True) if set(g) == set(p))
    return _report(name, order, per_class, confusion, exact, len(gold))


def sentiment_label(label: str, score: float, *, binary: bool) -> str:
    """Map an analysis label to pos/neu/neg; on binary data the score decides pos/neg."""
    if binary:
        return "pos" if score >= 0.5 else "neg"
    return _LONG_TO_SHORT.get(label, label)


def snownlp_predictor(*, binary: bool) -> Callable[[str], str]:
    """SnowNLP's own sentiment as a baseline on the same rows.

    SnowNLP has no neutral class: on three-class data its score is cut into thirds
    ([0, 1/3) neg, [1/3, 2/3] neu, (2/3, 1] pos), on binary data at 0.5.
    """
    from snownlp import SnowNLP  # lazy: the baseline is only loaded for reports

    def predict(text: str) -> str:
        score = float(SnowNLP(text).sentiments) if text.strip() else 0.5
        if binary:
            return "pos" if score >= 0.5 else "neg"
        if score < 1 / 3:
            return "neg"
        return "pos" if score > 2 / 3 else "neu"

    return predict
