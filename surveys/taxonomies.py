"""The complaint-category taxonomy in force, and administrators editing it.

Categories are data: an administrator adds one (with a few seed phrases, which assign it
at once, before any retraining), renames one, edits its description or seeds, or drops
one. Each save is a new :class:`~surveys.models.TaxonomyRevision`; the newest is in
force for the analysis job and the handlers' category choices. Tickets and analyses keep
the category names they were given: history is not rewritten.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp import Category, Taxonomy, default_taxonomy, normalize_text
from surveys.audit import record_audit
from surveys.errors import ValidationError
from surveys.models import TaxonomyRevision, User

#: Limits of what one taxonomy may hold: a handler picks from the list on a phone-sized
#: screen, and a seed is a phrase, not a paragraph.
MAX_CATEGORIES = 20
MAX_NAME_CHARS = 12
MAX_DESCRIPTION_CHARS = 200
MAX_SEEDS = 100
MAX_SEED_CHARS = 20
#: Joins two categories in labels (``服务态度|出警速度``, see docs/nlp.md): not in a name.
LABEL_SEPARATOR = "|"


class TaxonomyValidationError(ValidationError):
    """Every problem of one submitted taxonomy, keyed ``categories-<position>-<field>``."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        first_field, first_reason = next(iter(errors.items()))
        super().__init__(first_field, first_reason)
        self.errors = dict(errors)


def current_revision(session: Session) -> TaxonomyRevision | None:
    """The newest saved taxonomy, or None while the shipped default is in force."""
    return session.scalars(select(TaxonomyRevision).order_by(TaxonomyRevision.id.desc()).limit(1)).first()


def current_taxonomy(session: Session) -> Taxonomy:
    """The taxonomy in force: the newest revision (version ``r<id>``), else the shipped default."""
    revision = current_revision(session)
    if revision is None:
        return default_taxonomy()
    return Taxonomy.from_json({**revision.document, "version": f"r{revision.id}"})


def _field(position: int, name: str) -> str:
    return f"categories-{position}-{name}"


def _without_invisible(text: str) -> str:
    """``text`` without format characters (zero-width spaces, joiners, direction marks) or controls.

    Line breaks and tabs stay for :func:`nlp.normalize_text` to fold into spaces.
    """
    return "".join(char for char in text if not _is_invisible(char))


def _is_invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and not char.isspace())


def normalize_phrase(text: str) -> str:
    """A name or seed in the form comments are analysed in (``nlp.normalize_text``), without invisibles.

    Comments are folded (full-width to half-width, Traditional to Simplified) before the
    seeds are looked up in them, so a seed stored as typed (``打１１０没人接``, ``報警電話``)
    would never match; and a name differing from another only by a zero-width space looks
    the same to every handler choosing from the list.
    """
    return normalize_text(_without_invisible(text))


def normalize_draft(draft: Category) -> Category:
    """``draft`` with its name and seeds normalised, empty seeds dropped and its description cleaned."""
    seeds = tuple(seed for seed in (normalize_phrase(seed) for seed in draft.seeds) if seed)
    description = _without_invisible(draft.description).strip()
    return Category(name=normalize_phrase(draft.name), description=description, seeds=seeds)


def validate_drafts(drafts: Sequence[Category], fallback: str, typed_names: Sequence[str] = ()) -> None:
    """Raise :class:`TaxonomyValidationError` listing every problem of ``drafts``.

    ``drafts`` are already normalised (:func:`normalize_draft`); ``typed_names`` are the
    names as submitted, to tell an empty name from one made only of invisible characters.
    """
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for position, draft in enumerate(drafts):
        name = draft.name
        typed = typed_names[position] if position < len(typed_names) else name
        if not name and typed.strip():
            errors[_field(position, "name")] = "类别名称只含不可见字符，请填写文字"
        elif not name:
            errors[_field(position, "name")] = "请填写类别名称"
        elif len(name) > MAX_NAME_CHARS:
            errors[_field(position, "name")] = f"类别名称最多 {MAX_NAME_CHARS} 个字"
        elif LABEL_SEPARATOR in name:
            errors[_field(position, "name")] = f"类别名称不能包含“{LABEL_SEPARATOR}”"
        elif name in seen:
            same = "重名" if name == typed else "重名（全角与半角、繁体与简体、不可见字符不算区别）"
            errors[_field(position, "name")] = f"与第 {seen[name] + 1} 个类别{same}"
        else:
            seen[name] = position
        if len(draft.description) > MAX_DESCRIPTION_CHARS:
            errors[_field(position, "description")] = f"说明最多 {MAX_DESCRIPTION_CHARS} 个字"
        if len(draft.seeds) > MAX_SEEDS:
            errors[_field(position, "seeds")] = f"关键词最多 {MAX_SEEDS} 个"
        elif long := [seed for seed in draft.seeds if len(seed) > MAX_SEED_CHARS]:
            errors[_field(position, "seeds")] = f"每个关键词最多 {MAX_SEED_CHARS} 个字：{long[0]}"
    if fallback not in seen:
        errors.setdefault(_field(len(drafts), "name"), f"必须保留兜底类别“{fallback}”")
    if len(drafts) > MAX_CATEGORIES:
        errors.setdefault(_field(MAX_CATEGORIES, "name"), f"最多 {MAX_CATEGORIES} 个类别")
    elif len(seen) < 2 and not errors:
        errors[_field(0, "name")] = "除兜底类别外至少还要有一个类别"
    if errors:
        raise TaxonomyValidationError(errors)


def save_taxonomy(
    session: Session, drafts: Sequence[Category], actor: User, now: dt.datetime
) -> TaxonomyRevision | None:
    """Validate and store ``drafts`` as the taxonomy in force, audited; None if nothing changed.

    Names and seeds are normalised first (:func:`normalize_phrase`), so duplicates are
    found as the analysis would see them; seeds are then de-duplicated in their order.
    The fallback category (其他) cannot be dropped, because every comment that fits no
    category needs it, and stays last.
    """
    current = current_taxonomy(session)
    typed_names = [draft.name for draft in drafts]
    drafts = [normalize_draft(draft) for draft in drafts]
    validate_drafts(drafts, current.fallback, typed_names)
    ordered = sorted(drafts, key=lambda draft: draft.name == current.fallback)  # stable: only moves the fallback
    taxonomy = Taxonomy.from_json(
        {
            "fallback": current.fallback,
            "categories": [
                {"name": d.name, "description": d.description, "seeds": list(dict.fromkeys(d.seeds))} for d in ordered
            ],
        }
    )
    if taxonomy.categories == current.categories:
        return None
    document = taxonomy.to_json()
    del document["version"]  # a revision's version is its id
    revision = TaxonomyRevision(document=document, created_at=now, created_by_id=actor.id)
    session.add(revision)
    session.flush()
    before, after = set(current.names), set(taxonomy.names)
    record_audit(
        session,
        actor_id=actor.id,
        action="taxonomy.update",
        now=now,
        target_type="taxonomy_revision",
        target_id=revision.id,
        detail={"added": sorted(after - before), "removed": sorted(before - after), "categories": list(taxonomy.names)},
    )
    return revision
