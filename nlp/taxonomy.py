"""The complaint-category taxonomy: data an administrator can edit, not code.

Each category has a name, a description for people and seed phrases. Seeds give a
working classifier before any labelled comment exists (cold start) and are added to the
learned classifier's training rows, so an administrator who adds a category with a few
seeds sees it assigned at once and better after the next retraining.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DEFAULT_FALLBACK = "其他"


@dataclass(frozen=True)
class Category:
    """One complaint category of the taxonomy."""

    name: str
    description: str
    seeds: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of categories plus the fallback used when none fits."""

    categories: tuple[Category, ...]
    fallback: str
    version: str

    @property
    def names(self) -> tuple[str, ...]:
        """Category names in taxonomy order."""
        return tuple(category.name for category in self.categories)

    @property
    def fingerprint(self) -> str:
        """Short hash of names and seeds; part of the model version when overridden."""
        payload = json.dumps(
            [[c.name, list(c.seeds)] for c in self.categories] + [self.fallback],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:8]

    def to_json(self) -> dict[str, object]:
        """The JSON form :meth:`from_json` reads (what an edited taxonomy is stored as)."""
        return {
            "version": self.version,
            "fallback": self.fallback,
            "categories": [
                {"name": c.name, "description": c.description, "seeds": list(c.seeds)} for c in self.categories
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Taxonomy:
        """Build a taxonomy from its JSON form, validating what an editor may get wrong."""
        raw_categories = data.get("categories")
        if not isinstance(raw_categories, list) or not raw_categories:
            raise ValueError("a taxonomy needs a non-empty 'categories' list")
        categories: list[Category] = []
        seen: set[str] = set()
        for raw in raw_categories:
            if not isinstance(raw, dict) or not str(raw.get("name", "")).strip():
                raise ValueError(f"category without a name: {raw!r}")
            name = str(raw["name"]).strip()
            if name in seen:
                raise ValueError(f"category {name!r} appears twice")
            seen.add(name)
            seeds = raw.get("seeds", [])
            if not isinstance(seeds, list):
                raise ValueError(f"seeds of {name!r} must be a list")
            categories.append(
                Category(
                    name=name,
                    description=str(raw.get("description", "")),
                    seeds=tuple(str(s).strip() for s in seeds if str(s).strip()),
                )
            )
        fallback = str(data.get("fallback", DEFAULT_FALLBACK))
        if fallback not in seen:
            categories.append(Category(name=fallback, description="", seeds=()))
        return cls(categories=tuple(categories), fallback=fallback, version=str(data.get("version", "0")))


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read a taxonomy JSON file; ``None`` reads the shipped default."""
    if path is None:
        return default_taxonomy()
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("a taxonomy is a JSON object")
    return Taxonomy.from_json(data)


@functools.cache
def default_taxonomy() -> Taxonomy:
    """Return the shipped taxonomy (服务态度 … 其他), parsed once per process."""
    raw = resources.files("nlp.resources").joinpath("taxonomy.json").read_text("utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("a taxonomy is a JSON object")
    return Taxonomy.from_json(data)
