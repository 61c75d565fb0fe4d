"""The answer service: question sets, validation, the one stored answer, opening and opting out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from surveys.answers import (
    MAX_COMMENT_CHARS,
    AlreadyAnsweredError,
    AnswerInput,
    InvalidAnswerError,
    SurveyClosedError,
    find_survey_by_token,
    store_answer,
    submit_answer,
    summarize_answer,
    validate_answer,
)
from surveys.errors import ConfigurationError, ValidationError
from surveys.models import Case, CaseCategory, Channel, OptOut, Response, Survey
from surveys.questions import (
    build_catalog,
    load_catalog,
    parse_question_set,
    question_set_by_ref,
    question_set_for,
    resolve_question_set,
)
from surveys.settings import Settings
from surveys.states import SurveyStatus
from surveys.tokens import (
    _link_from_row,
    _link_statement,
    find_survey_link,
    is_link_opted_out,
    open_survey_link,
    opt_out_by_link,
    read_survey_link,
    record_open,
)

ALARM = question_set_for(CaseCategory.ALARM_110)

DIMENSIONS_BY_CATEGORY = {
    CaseCategory.ALARM_110: ["接警态度", "出警速度", "现场处置", "文明用语"],
    CaseCategory.CRIMINAL: ["办案效率", "执法规范", "服务态度", "结果公正"],
    CaseCategory.ADMINISTRATIVE: ["办案效率", "执法规范", "服务态度", "结果公正"],
    CaseCategory.MEDIATION: ["办案效率", "执法规范", "服务态度", "结果公正"],
    CaseCategory.TRAFFIC: ["办案效率", "执法规范", "服务态度", "结果公正"],
    CaseCategory.WINDOW: ["办事效率", "服务态度", "办事便捷"],
}


def _response_count(session: Session, survey: Survey) -> int:
    return session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) or 0


# --- question sets ---------------------------------------------------------------------


@pytest.mark.parametrize(("category", "labels"), DIMENSIONS_BY_CATEGORY.items())
def test_each_category_gets_the_dimensions_of_its_question_set(category: CaseCategory, labels: list[str]):
    qset = question_set_for(category)
    assert [d.label for d in qset.dimensions] == labels
    assert qset.reasons, "every set lists reasons for 不满意"
    assert question_set_by_ref(qset.ref) is qset


def test_shared_questions_share_keys_so_they_can_be_aggregated_across_sets():
    handling = question_set_for(CaseCategory.CRIMINAL)
    window = question_set_for(CaseCategory.WINDOW)
    assert handling.dimension_label("service_attitude") == window.dimension_label("service_attitude") == "服务态度"


def test_a_new_version_becomes_current_and_the_old_one_stays_readable():
    v1 = ALARM
    v2 = parse_question_set(
        "alarm_110.v2.json",
        {
            "name": "alarm_110",
            "version": 2,
            "categories": {"alarm_110": "110报警"},
            "dimensions": [{"key": "call_attitude", "label": "接警态度"}],
            "reasons": [{"key": "other", "label": "其他"}],
        },
    )
    others = [qset for qset in load_catalog().by_ref.values() if qset.name != "alarm_110"]
    catalog = build_catalog([v1, v2, *others])
    assert catalog.current_by_category[CaseCategory.ALARM_110] is v2
    assert catalog.by_ref["alarm_110.v1"] is v1


@pytest.mark.parametrize(
    ("file_name", "raw"),
    [
        ("alarm.json", {}),
        ("alarm_110.v1.json", {"name": "other", "version": 1}),
        ("alarm_110.v1.json", {"name": "alarm_110", "version": 1, "categories": {"nope": "x"}}),
        (
            "alarm_110.v1.json",
            {
                "name": "alarm_110",
                "version": 1,
                "categories": {"alarm_110": "x"},
                "dimensions": [{"key": "Bad Key", "label": "x"}],
                "reasons": [{"key": "other", "label": "其他"}],
            },
        ),
        (
            "alarm_110.v1.json",
            {
                "name": "alarm_110",
                "version": 1,
                "categories": {"alarm_110": "x"},
                "dimensions": [{"key": "a", "label": "x"}, {"key": "a", "label": "y"}],
                "reasons": [{"key": "other", "label": "其他"}],
            },
        ),
    ],
)
def test_a_malformed_question_set_fails_loudly(file_name: str, raw: object):
    with pytest.raises(ConfigurationError):
        parse_question_set(file_name, raw)


def test_every_category_must_be_covered():
    with pytest.raises(ConfigurationError, match="no question set covers"):
        build_catalog([ALARM])


def test_a_forged_or_foreign_question_set_reference_is_refused():
    assert resolve_question_set(CaseCategory.ALARM_110, None) is ALARM
    assert resolve_question_set(CaseCategory.ALARM_110, "alarm_110.v1") is ALARM
    for ref in ("alarm_110.v9", "window_service.v1", "x" * 40):
        with pytest.raises(ValidationError) as excinfo:
            resolve_question_set(CaseCategory.ALARM_110, ref)
        assert excinfo.value.field == "form"


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overall", "message"),
    [
        (None, "请选择总体满意度"),
        ("", "请选择总体满意度"),
        ("0", "总体满意度的选项无效"),
        ("6", "总体满意度的选项无效"),
        ("-1", "总体满意度的选项无效"),
        ("4.5", "总体满意度的选项无效"),
        ("五", "总体满意度的选项无效"),
        (True, "总体满意度的选项无效"),
        ("0005", "总体满意度的选项无效"),  # digits no form or keypad sends: forged
        ("\U0001d7d3", "总体满意度的选项无效"),  # 𝟓, mathematical bold five
        ("\u0665", "总体满意度的选项无效"),  # ٥, Arabic-Indic five
    ],
)
def test_overall_rating_is_required_and_within_five_levels(overall: object, message: str):
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer(overall, "")
    assert excinfo.value.field == "overall"
    assert message in excinfo.value.reason


@pytest.mark.parametrize(("overall", "expected"), [("1", 1), (5, 5), (" 3 ", 3), ("５", 5)])
def test_ratings_as_browsers_and_sms_send_them(overall: object, expected: int):
    assert validate_answer(overall).overall == expected


def test_comment_up_to_the_limit_counts_characters_not_bytes():
    emoji_and_han = ("服务很好👍" * 100)[:MAX_COMMENT_CHARS]
    assert validate_answer("5", emoji_and_han).comment == emoji_and_han
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("5", emoji_and_han + "好")
    assert excinfo.value.errors == {"comment": "留言最多 500 字，现在有 501 字，请删减一些"}


def test_browser_line_breaks_count_as_one_character():
    # A textarea counts a line break as one character against maxlength but posts CRLF.
    comment = "\r\n".join(["好"] * 250)
    assert validate_answer("4", comment).comment == "\n".join(["好"] * 250)


def test_comment_keeps_traditional_chinese_and_emoji_but_drops_control_characters():
    answer = validate_answer("2", "  警察態度很差😡\x00\x07\n下次請改進 \t")
    assert answer.comment == "警察態度很差😡\n下次請改進"


def test_lone_surrogates_are_refused_rather_than_failing_at_the_database():
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("3", "好\ud800")
    assert excinfo.value.field == "comment"


def test_dimensions_and_reasons_must_belong_to_the_question_set():
    answer = validate_answer(
        "1",
        "",
        {"civil_language": "2", "call_attitude": "1"},
        reasons=["other", "slow_dispatch", "slow_dispatch"],
        question_set=ALARM,
    )
    assert answer.dimension_ratings == {"call_attitude": 1, "civil_language": 2}  # set order
    assert list(answer.reasons) == ["slow_dispatch", "other"]
    assert answer.question_set_ref == "alarm_110.v1"

    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("1", "", {"handling_efficiency": "3"}, question_set=ALARM)
    assert excinfo.value.errors == {"form": "提交的评价项目不在本问卷中，请刷新页面后重新填写"}
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("1", "", {"call_attitude": "9"}, question_set=ALARM)
    assert excinfo.value.errors == {"dimension:call_attitude": "“接警态度”的评价无效，请从五个选项中重新选择"}
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("1", "", reasons=["long_wait"], question_set=ALARM)
    assert set(excinfo.value.errors) == {"reasons"}


def test_without_a_question_set_only_the_overall_question_exists():
    with pytest.raises(InvalidAnswerError):
        validate_answer("1", "", {"call_attitude": "1"})
    with pytest.raises(InvalidAnswerError):
        validate_answer("1", "", reasons=["other"])


def test_reasons_count_only_for_a_dissatisfied_rating():
    # Ticked, then the citizen changed their mind to 满意: the reasons list was hidden.
    answer = validate_answer("4", "", reasons=["slow_dispatch"], question_set=ALARM)
    assert answer.reasons == ()


def test_every_problem_is_reported_at_once():
    with pytest.raises(InvalidAnswerError) as excinfo:
        validate_answer("", "长" * 501, {"call_attitude": "x"}, reasons=["bogus"], question_set=ALARM)
    assert set(excinfo.value.errors) == {"overall", "comment", "dimension:call_attitude", "reasons"}


# --- storing the one answer --------------------------------------------------------------


def test_submit_stores_the_answer_with_its_question_set_version(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    survey = make_survey()
    answer = validate_answer(
        "1", "出警太慢了😡 態度也不好", {"dispatch_speed": "1"}, reasons=["slow_dispatch"], question_set=ALARM
    )
    response = submit_answer(session, survey, answer, Channel.WEB, now)
    session.expire_all()
    stored = session.get_one(Response, response.id)
    assert (stored.overall, stored.comment) == (1, "出警太慢了😡 態度也不好")
    assert stored.dimension_ratings == {"dispatch_speed": 1}
    assert stored.reasons == ["slow_dispatch"]
    assert stored.question_set_version == "alarm_110.v1"
    assert stored.survey.status is SurveyStatus.ANSWERED
    assert stored.survey.answered_at == now


def test_an_sms_rating_is_stored_against_the_current_set(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], now: dt.datetime
):
    survey = make_survey(case=make_case(category=CaseCategory.WINDOW))
    response = submit_answer(session, survey, validate_answer("５", "很好"), Channel.SMS, now)
    assert response.question_set_version == "window_service.v1"
    assert response.channel is Channel.SMS


def test_a_second_answer_is_refused(session: Session, make_survey: Callable[..., Survey], now: dt.datetime):
    survey = make_survey()
    submit_answer(session, survey, AnswerInput(overall=5), Channel.WEB, now)
    with pytest.raises(AlreadyAnsweredError):
        submit_answer(session, survey, AnswerInput(overall=1), Channel.SMS, now)
    assert _response_count(session, survey) == 1


def test_a_stale_second_tab_is_stopped_by_the_database(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    """A second tab loaded the survey before the first answered: its status check passes."""
    survey = make_survey()
    submit_answer(session, survey, AnswerInput(overall=5), Channel.WEB, now)
    # Make the in-memory survey look as the second tab saw it, without touching the database.
    set_committed_value(survey, "status", SurveyStatus.OPENED)
    set_committed_value(survey, "response", None)
    with pytest.raises(AlreadyAnsweredError):
        submit_answer(session, survey, AnswerInput(overall=1), Channel.WEB, now)
    # Only the savepoint was rolled back: the session is still usable.
    session.expire_all()
    assert _response_count(session, survey) == 1
    assert session.get_one(Survey, survey.id).response.overall == 5


def test_the_database_itself_refuses_two_responses(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    survey = make_survey()
    session.add(
        Response(survey_id=survey.id, unit_id=survey.case.unit_id, overall=5, channel=Channel.WEB, submitted_at=now)
    )
    session.flush()
    session.add(
        Response(survey_id=survey.id, unit_id=survey.case.unit_id, overall=1, channel=Channel.WEB, submitted_at=now)
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_the_unique_response_backs_up_a_wrong_status(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    """A response exists but the status still says sent: the claim passes, the INSERT does not."""
    survey = make_survey()
    session.add(
        Response(survey_id=survey.id, unit_id=survey.case.unit_id, overall=5, channel=Channel.WEB, submitted_at=now)
    )
    session.flush()
    with pytest.raises(AlreadyAnsweredError):
        store_answer(session, survey.id, CaseCategory.ALARM_110, AnswerInput(overall=1), Channel.WEB, now)
    session.rollback()


@pytest.mark.parametrize(
    "status", [SurveyStatus.PLANNED, SurveyStatus.EXPIRED, SurveyStatus.OPTED_OUT, SurveyStatus.FAILED]
)
def test_a_closed_survey_takes_no_answer(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime, status: SurveyStatus
):
    survey = make_survey(status=status)
    with pytest.raises(SurveyClosedError):
        submit_answer(session, survey, AnswerInput(overall=5), Channel.WEB, now)
    assert _response_count(session, survey) == 0


def test_an_expired_link_takes_no_answer_before_the_expiry_job_ran(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    survey = make_survey(expires_at=now - dt.timedelta(seconds=1))
    with pytest.raises(SurveyClosedError):
        submit_answer(session, survey, AnswerInput(overall=5), Channel.WEB, now)


# --- opening, reading back, opting out ----------------------------------------------------


def test_opening_marks_the_survey_opened_once(session: Session, make_survey: Callable[..., Survey], now: dt.datetime):
    survey = make_survey(status=SurveyStatus.REMINDED)
    assert record_open(session, survey.token, now) is True
    session.expire_all()
    assert (survey.status, survey.opened_at) == (SurveyStatus.OPENED, now)
    assert record_open(session, survey.token, now + dt.timedelta(hours=1)) is False
    session.expire_all()
    assert survey.opened_at == now


def test_a_reminded_survey_opened_again_keeps_its_first_opening(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    first = now - dt.timedelta(days=1)
    survey = make_survey(status=SurveyStatus.REMINDED, opened_at=first)
    assert record_open(session, survey.token, now) is True
    session.expire_all()
    assert (survey.status, survey.opened_at) == (SurveyStatus.OPENED, first)


@pytest.mark.parametrize(
    ("status", "expires_in"),
    [
        (SurveyStatus.SENT, dt.timedelta(0)),
        (SurveyStatus.EXPIRED, dt.timedelta(days=1)),
        (SurveyStatus.PLANNED, dt.timedelta(days=1)),
        (SurveyStatus.ANSWERED, dt.timedelta(days=1)),
        (SurveyStatus.OPTED_OUT, dt.timedelta(days=1)),
    ],
)
def test_opening_a_closed_or_expired_link_changes_nothing(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime, status, expires_in
):
    survey = make_survey(status=status, expires_at=now + expires_in)
    assert record_open(session, survey.token, now) is False
    session.expire_all()
    assert (survey.status, survey.opened_at) == (status, None)
    assert record_open(session, "AAAAAAAAAAAA", now) is False


@pytest.mark.parametrize(
    ("status", "expires_in", "opens"),
    [
        (SurveyStatus.SENT, dt.timedelta(days=1), True),
        (SurveyStatus.REMINDED, dt.timedelta(days=1), True),
        (SurveyStatus.OPENED, dt.timedelta(days=1), False),
        (SurveyStatus.SENT, dt.timedelta(0), False),
        (SurveyStatus.EXPIRED, dt.timedelta(days=1), False),
        (SurveyStatus.ANSWERED, dt.timedelta(days=1), False),
        (SurveyStatus.OPTED_OUT, dt.timedelta(days=1), False),
    ],
)
def test_the_one_statement_opening_does_what_record_open_and_find_do(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime, status, expires_in, opens
):
    """PostgreSQL's GET statement (a data-modifying CTE) against the two-step path SQLite uses."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no data-modifying CTE")
    first = now - dt.timedelta(days=1) if status is SurveyStatus.REMINDED else None
    survey = make_survey(status=status, expires_at=now + expires_in, opened_at=first)
    link = open_survey_link(session.connection(), survey.token, now)
    assert link is not None
    assert link.status is (SurveyStatus.OPENED if opens else status)
    session.expire_all()
    assert survey.status is link.status
    assert survey.opened_at == (first or now if opens else first)
    assert link == find_survey_link(session, survey.token)
    assert open_survey_link(session.connection(), "AAAAAAAAAAAA", now) is None
    assert open_survey_link(session.connection(), "../etc", now) is None


@pytest.mark.parametrize("token", ["", "short", "a" * 33, "abc def ghij", "../../etc/pass", "令牌令牌令牌令牌"])
def test_malformed_tokens_are_not_looked_up(session: Session, token: str):
    assert find_survey_by_token(session, token) is None


def test_summary_uses_the_labels_of_the_stored_version(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    survey = make_survey()
    answer = validate_answer(
        "2", "等了很久", {"dispatch_speed": "1", "call_attitude": "4"}, reasons=["slow_dispatch"], question_set=ALARM
    )
    submit_answer(session, survey, answer, Channel.WEB, now)
    link = find_survey_link(session, survey.token)
    assert link is not None
    assert link.answer is not None
    summary = summarize_answer(link.answer)
    assert summary.overall_label == "不满意"
    assert summary.dimensions == (("接警态度", "好"), ("出警速度", "很差"))
    assert summary.reasons == ("出警慢，等了很久",)
    assert summary.is_negative


def test_a_link_read_on_the_driver_cursor_is_what_connection_execute_reads(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    """The thank-you page's and the answer's read: typed rows, JSON and aware datetimes included."""
    survey = make_survey()
    answer = validate_answer("4", "民警很耐心👍", {"dispatch_speed": "5"}, reasons=[], question_set=ALARM)
    submit_answer(session, survey, answer, Channel.WEB, now)
    connection = session.connection()
    through_core = _link_from_row(connection.execute(_link_statement(), {"token": survey.token}).one())

    link = read_survey_link(connection, survey.token)

    assert link == through_core
    assert link is not None
    assert link.answer is not None
    assert (link.answer.dimension_ratings, link.answer.comment) == ({"dispatch_speed": 5}, "民警很耐心👍")
    assert link.answer.submitted_at == now


def test_the_matter_is_named_without_personal_details(
    session: Session, make_survey: Callable[..., Survey], make_case: Callable[..., Case], make_unit, settings: Settings
):
    case = make_case(
        unit=make_unit(name="府山派出所"),
        category=CaseCategory.TRAFFIC,
        closed_at=dt.datetime(2026, 11, 19, 17, 30, tzinfo=dt.UTC),  # 01:30 on the 20th in Shanghai
    )
    link = find_survey_link(session, make_survey(case=case).token)
    assert link is not None
    matter = link.matter(settings.timezone)
    assert (matter.kind, matter.unit_name, matter.date) == ("交通事故处理", "府山派出所", dt.date(2026, 11, 20))


def test_opting_out_from_the_page_closes_the_survey_and_lists_the_phone(
    session: Session, make_survey: Callable[..., Survey], now: dt.datetime
):
    survey = make_survey(status=SurveyStatus.OPENED)
    link = find_survey_link(session, survey.token)
    assert link is not None
    assert not is_link_opted_out(session, link)
    assert opt_out_by_link(session, link, now) is True
    assert opt_out_by_link(session, link, now) is False
    assert is_link_opted_out(session, link)
    session.expire_all()
    assert survey.status is SurveyStatus.OPTED_OUT
    listed = session.scalars(select(OptOut).where(OptOut.phone_e164 == survey.contact.phone_e164)).one()
    assert listed.source == "web"
