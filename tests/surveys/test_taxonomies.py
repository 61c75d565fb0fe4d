"""The taxonomy in force: the shipped default, administrators' revisions, and the analysis using them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from nlp import Analyzer, Category, default_taxonomy
from surveys.answers import store_answer, validate_answer
from surveys.jobs import JobContext, analyze_responses_job
from surveys.models import Analysis, AuditEntry, Channel, Response, Role, Survey, TaxonomyRevision, User
from surveys.settings import Settings
from surveys.sms.console import ConsoleSmsProvider
from surveys.taxonomies import TaxonomyValidationError, current_taxonomy, save_taxonomy

NOISE = Category("噪音扰民", "夜间施工、广场舞等噪音", ("噪音", "吵得睡不着"))


def drafts_of_default(*extra: Category) -> list[Category]:
    categories = list(default_taxonomy().categories)
    return [*categories[:-1], *extra, categories[-1]]  # the fallback stays last


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


def _revisions(session: Session) -> int:
    return session.scalar(select(func.count(TaxonomyRevision.id))) or 0


def test_the_shipped_default_is_in_force_until_an_administrator_saves_one(session: Session):
    assert current_taxonomy(session) == default_taxonomy()
    assert current_taxonomy(session).names[-1] == "其他"


def test_a_saved_taxonomy_is_in_force_and_audited(session: Session, admin: User, now: dt.datetime):
    revision = save_taxonomy(session, drafts_of_default(NOISE), admin, now)

    assert revision is not None
    taxonomy = current_taxonomy(session)
    assert "噪音扰民" in taxonomy.names
    assert taxonomy.version == f"r{revision.id}"
    assert taxonomy.fallback == "其他"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "taxonomy.update")).one()
    assert entry.actor_id == admin.id
    assert entry.detail["added"] == ["噪音扰民"]
    assert entry.detail["removed"] == []


def test_saving_the_same_categories_again_stores_nothing(session: Session, admin: User, now: dt.datetime):
    assert save_taxonomy(session, drafts_of_default(), admin, now) is None
    assert save_taxonomy(session, drafts_of_default(NOISE), admin, now) is not None
    assert save_taxonomy(session, drafts_of_default(NOISE), admin, now) is None
    assert _revisions(session) == 1


def test_seeds_are_deduplicated_in_their_order(session: Session, admin: User, now: dt.datetime):
    save_taxonomy(session, drafts_of_default(Category("噪音扰民", "", ("噪音", "扰民", "噪音"))), admin, now)
    [noise] = [c for c in current_taxonomy(session).categories if c.name == "噪音扰民"]
    assert noise.seeds == ("噪音", "扰民")


@pytest.mark.parametrize(
    ("drafts", "field", "reason"),
    [
        (drafts_of_default(Category("", "", ("噪音",))), "categories-7-name", "请填写类别名称"),
        (drafts_of_default(Category("服务态度", "", ())), "categories-7-name", "与第 1 个类别重名"),
        (drafts_of_default(Category("态度|速度", "", ())), "categories-7-name", "不能包含"),
        (drafts_of_default(Category("噪音扰民" * 4, "", ())), "categories-7-name", "最多 12 个字"),
        (drafts_of_default(Category("噪音扰民", "", ("噪" * 21,))), "categories-7-seeds", "最多 20 个字"),
        (drafts_of_default()[:-1], "categories-7-name", "必须保留兜底类别"),
        ([Category("其他", "", ())], "categories-0-name", "至少还要有一个类别"),
    ],
)
def test_bad_taxonomies_are_refused_with_the_row_and_field(
    session: Session, admin: User, now: dt.datetime, drafts: list[Category], field: str, reason: str
):
    with pytest.raises(TaxonomyValidationError) as raised:
        save_taxonomy(session, drafts, admin, now)
    assert reason in raised.value.errors[field]
    assert _revisions(session) == 0
    assert current_taxonomy(session) == default_taxonomy()


def test_the_analysis_job_uses_the_taxonomy_in_force(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    admin: User,
    make_survey: Callable[..., Survey],
    now: dt.datetime,
):
    ctx = JobContext(session_factory=session_factory, provider=ConsoleSmsProvider(), settings=settings)

    def analyse(comment: str) -> Analysis:
        survey = make_survey()
        store_answer(session, survey.id, survey.case.category, validate_answer(2, comment), Channel.WEB, now)
        analyze_responses_job(ctx, now)
        return session.scalars(select(Analysis).join(Response).where(Response.survey_id == survey.id)).one()

    before = analyse("晚上噪音吵得睡不着，报警了也没用")
    assert "噪音扰民" not in before.categories
    assert "+tax-" not in before.model_version

    save_taxonomy(session, drafts_of_default(NOISE), admin, now)
    after = analyse("楼下噪音吵得睡不着，打了几次电话都没人管")

    assert "噪音扰民" in after.categories  # its seeds assign it before any retraining
    assert "+tax-" in after.model_version  # the analysis records which categories it used


@pytest.mark.parametrize(
    ("drafts", "field", "reason"),
    [
        (drafts_of_default(Category("服务态度\u200b", "", ("噪音",))), "categories-7-name", "与第 1 个类别重名（全角"),
        (drafts_of_default(Category("服務態度", "", ("噪音",))), "categories-7-name", "与第 1 个类别重名（全角"),
        (drafts_of_default(Category("\u200b\u2060", "", ("噪音",))), "categories-7-name", "只含不可见字符"),
    ],
)
def test_names_are_compared_as_the_analysis_sees_them(
    session: Session, admin: User, now: dt.datetime, drafts: list[Category], field: str, reason: str
):
    with pytest.raises(TaxonomyValidationError) as raised:
        save_taxonomy(session, drafts, admin, now)
    assert reason in raised.value.errors[field]
    assert _revisions(session) == 0


def test_names_and_seeds_are_stored_normalised_so_seeds_match_comments(session: Session, admin: User, now: dt.datetime):
    typed = Category("接警\u200b服务", "接警\u200b电话", ("打１１０没人接", "報警電話", "\u200b", "打110没人接"))

    save_taxonomy(session, drafts_of_default(typed), admin, now)

    taxonomy = current_taxonomy(session)
    [saved] = [c for c in taxonomy.categories if c.name == "接警服务"]
    assert saved.seeds == ("打110没人接", "报警电话")
    assert saved.description == "接警电话"
    analyzer = Analyzer.load(None, taxonomy=taxonomy)
    for comment in ("打１１０没人接，太失望", "報警電話一直占线"):
        assert "接警服务" in analyzer.analyze(comment).categories
