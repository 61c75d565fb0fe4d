"""The citizen's pages through the test client: what is shown, what is stored, what is never shown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_limiter import Limiter
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Case, CaseCategory, OptOut, Response, Survey
from surveys.states import SurveyStatus
from tests.conftest import NOW
from webapp.citizen import budgets as citizen_budgets

STATIC = Path(__file__).resolve().parents[3] / "webapp" / "static"


@pytest.fixture
def survey(make_survey: Callable[..., Survey], make_case: Callable[..., Case], make_unit) -> Survey:
    station = make_unit(parent=make_unit(name="绍兴市公安局"), name="府山派出所", hotline="0575-85081234")
    case = make_case(
        unit=station,
        phones=["+8613812345678"],
        external_no="J2026111900042",
        officer_name="王建国",
        closed_at=dt.datetime(2026, 11, 19, 2, 0, tzinfo=dt.UTC),
    )
    return make_survey(case=case)


def _responses(session: Session, survey: Survey) -> list[Response]:
    return list(session.scalars(select(Response).where(Response.survey_id == survey.id)))


def _text(response) -> str:
    return response.get_data(as_text=True)


# --- the page -----------------------------------------------------------------------------


def test_the_page_names_the_matter_and_marks_the_survey_opened(client: FlaskClient, survey: Survey, session: Session):
    page = client.get(f"/s/{survey.token}")
    assert page.status_code == 200
    html = _text(page)
    assert "请您评价这次服务" in html
    assert "110报警求助" in html
    assert "府山派出所" in html
    assert "2026年11月19日" in html
    for label in (
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
        "接警态度",
        "出警速度",
        "现场处置",
        "文明用语",
    ):
        assert label in html
    assert "隐私说明" in html
    session.expire_all()
    assert session.get_one(Survey, survey.id).status is SurveyStatus.OPENED
    assert session.get_one(Survey, survey.id).opened_at == NOW


@pytest.mark.parametrize(
    ("category", "dimensions", "matter"),
    [
        (CaseCategory.CRIMINAL, ["办案效率", "执法规范", "服务态度", "结果公正"], "刑事案件办理"),
        (CaseCategory.MEDIATION, ["办案效率", "执法规范", "服务态度", "结果公正"], "治安纠纷调解"),
        (CaseCategory.WINDOW, ["办事效率", "服务态度", "办事便捷"], "户政/出入境窗口办事"),
    ],
)
def test_the_dimensions_follow_the_case_category(
    client: FlaskClient,
    make_survey: Callable[..., Survey],
    make_case: Callable[..., Case],
    category: CaseCategory,
    dimensions: list[str],
    matter: str,
):
    html = _text(client.get(f"/s/{make_survey(case=make_case(category=category)).token}"))
    legends = [re.sub(r"<[^>]+>", "", legend) for legend in re.findall(r"<legend>(.*?)</legend>", html)]
    assert legends[:2] == ["总体满意度（必选）", "如不满意，请选择原因（可多选）"]
    assert legends[2:] == dimensions
    assert matter in html
    assert "接警态度" not in html


def test_the_page_never_shows_personal_or_case_details(client: FlaskClient, survey: Survey):
    for path in ("", "/optout"):
        html = _text(client.get(f"/s/{survey.token}{path}"))
        for secret in ("13812345678", "138****5678", "5678", "王建国", "J2026111900042", survey.case.unit.code):
            assert secret not in html


def test_every_control_has_a_label_for_screen_readers(client: FlaskClient, survey: Survey):
    html = _text(client.get(f"/s/{survey.token}"))
    # Radios and checkboxes sit inside their <label>; the textarea has a label[for].
    inputs = re.findall(r"<input [^>]*>", html)
    visible = [tag for tag in inputs if 'type="hidden"' not in tag]
    assert len(visible) == 5 + 6 + 4 * 5  # overall, reasons, dimensions
    for tag in visible:
        assert re.search(r'<label class="[^"]+"><' + re.escape(tag[1:]), html), tag
    assert '<label for="comment"' in html
    assert html.count("<fieldset") == html.count("<legend>") == 6
    assert '<html lang="zh-CN">' in html


def test_no_cookie_no_tracking_no_third_party_assets(client: FlaskClient, survey: Survey):
    page = client.get(f"/s/{survey.token}")
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = _text(page)
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert url.startswith(("/", "#", "tel:", "data:")), url
    assert "@font-face" not in (STATIC / "css" / "citizen.css").read_text()


def test_a_staff_session_cookie_is_neither_read_nor_refreshed_on_citizen_pages(client: FlaskClient, survey: Survey):
    client.set_cookie("session", "not-a-valid-signed-session")
    page = client.get(f"/s/{survey.token}")
    assert page.status_code == 200
    assert "Set-Cookie" not in page.headers
    assert "Cookie" not in page.headers.get("Vary", "")
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_whole_page_transfers_well_under_50_kb(client: FlaskClient, survey: Survey):
    page = client.get(f"/s/{survey.token}")
    html = _text(page)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert sorted(asset.partition("?")[0] for asset in assets) == [
        "/static/citizen/survey.js",
        "/static/css/citizen.css",
    ]
    total = len(page.data)
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200
            total += len(response.data)
    assert total < 50 * 1024, total
    assert '<link rel="icon" href="data:,">' in html  # no favicon request either


def test_base_text_is_at_least_18px():
    css = (STATIC / "css" / "citizen.css").read_text()
    sizes = [int(px) for px in re.findall(r"font-size:\s*(\d+)px", css)]
    assert sizes
    assert min(sizes) >= 18
    assert re.search(r"body \{[^}]*font: 18px/", css)
    assert "rem" not in re.sub(r"max-width: \d+rem", "", css)  # no relative shrinking


# --- answering -----------------------------------------------------------------------------


def test_answering_stores_one_response_and_thanks_the_citizen(client: FlaskClient, survey: Survey, session: Session):
    client.get(f"/s/{survey.token}")
    posted = client.post(
        f"/s/{survey.token}",
        data={
            "qs": "alarm_110.v1",
            "overall": "1",
            "reason": ["slow_dispatch", "poor_attitude"],
            "d_dispatch_speed": "1",
            "d_civil_language": "3",
            "comment": "等了一個小時才來😡\r\n態度也不好",
        },
    )
    assert (posted.status_code, posted.headers["Location"]) == (303, f"/s/{survey.token}/thanks")
    [response] = _responses(session, survey)
    assert response.overall == 1
    assert response.reasons == ["slow_dispatch", "poor_attitude"]
    assert response.dimension_ratings == {"dispatch_speed": 1, "civil_language": 3}
    assert response.comment == "等了一個小時才來😡\n態度也不好"  # Traditional and emoji kept intact
    assert response.question_set_version == "alarm_110.v1"
    session.expire_all()
    assert session.get_one(Survey, survey.id).status is SurveyStatus.ANSWERED

    thanks = _text(client.get(posted.headers["Location"]))
    assert "感谢您的评价" in thanks
    assert "我们会认真核实" in thanks
    for shown in ("非常不满意", "出警慢，等了很久", "态度不好，不耐烦", "出警速度", "很差", "文明用语", "一般", "😡"):
        assert shown in thanks


def test_the_thank_you_page_is_for_an_answered_survey_only(client: FlaskClient, survey: Survey, session: Session):
    """Reloading it, or coming back to it, shows it again; before an answer it is the questions."""
    unanswered = client.get(f"/s/{survey.token}/thanks")
    assert (unanswered.status_code, unanswered.headers["Location"]) == (303, f"/s/{survey.token}")
    assert client.get("/s/AAAAAAAAAAAA/thanks").status_code == 404
    client.post(f"/s/{survey.token}", data={"overall": "4"})
    for _ in range(2):
        page = client.get(f"/s/{survey.token}/thanks")
        assert page.status_code == 200
        assert "感谢您的评价" in _text(page)
        assert page.headers["Cache-Control"] == "no-store"


def test_a_link_with_a_slash_after_it_opens_the_survey(client: FlaskClient, survey: Survey):
    page = client.get(f"/s/{survey.token}/")
    assert page.status_code == 200
    assert 'name="overall"' in _text(page)


def test_a_head_request_does_not_mark_the_survey_opened(client: FlaskClient, survey: Survey, session: Session):
    """Link checkers and previews send HEAD; only the citizen's GET is an opening."""
    assert client.head(f"/s/{survey.token}").status_code == 200
    session.expire_all()
    assert (survey.status, survey.opened_at) == (SurveyStatus.SENT, None)
    client.get(f"/s/{survey.token}")
    session.expire_all()
    assert survey.status is SurveyStatus.OPENED


def test_opening_the_link_again_shows_what_was_answered(client: FlaskClient, survey: Survey):
    client.post(f"/s/{survey.token}", data={"overall": "4", "d_call_attitude": "5", "comment": "民警很耐心"})
    again = client.get(f"/s/{survey.token}")
    assert again.status_code == 200
    html = _text(again)
    assert "已评价" in html
    assert "满意" in html
    assert "接警态度" in html
    assert "很好" in html
    assert "民警很耐心" in html
    assert "<form" not in html.split("optout-link")[0]


def test_a_positive_answer_keeps_no_hidden_reasons(client: FlaskClient, survey: Survey, session: Session):
    client.post(f"/s/{survey.token}", data={"overall": "5", "reason": "other"})
    [response] = _responses(session, survey)
    assert response.reasons == []


@pytest.mark.parametrize("second", [{"overall": "5"}, {"overall": "1", "comment": "改主意了"}])
def test_a_resubmission_or_second_tab_changes_nothing(
    client: FlaskClient, survey: Survey, session: Session, second: dict[str, str]
):
    first_tab = client.get(f"/s/{survey.token}")
    second_tab = client.get(f"/s/{survey.token}")
    assert first_tab.status_code == second_tab.status_code == 200
    assert "感谢您的评价" in _text(client.post(f"/s/{survey.token}", data={"overall": "5"}, follow_redirects=True))
    replay = client.post(f"/s/{survey.token}", data=second)
    assert replay.status_code == 200
    assert "已评价" in _text(replay)
    [response] = _responses(session, survey)
    assert (response.overall, response.comment) == (5, "")


# --- links that take no answer -------------------------------------------------------------


@pytest.mark.parametrize("token", ["AAAAAAAAAAAA", "nope", "x" * 40])
def test_an_unknown_link(client: FlaskClient, token: str):
    for page in (client.get(f"/s/{token}"), client.post(f"/s/{token}", data={"overall": "5"})):
        assert page.status_code == 404
        assert "链接无效" in _text(page)
        assert "请核对短信里的链接是否完整" in _text(page)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"status": SurveyStatus.EXPIRED},
        {"status": SurveyStatus.SENT, "expires_at": NOW - dt.timedelta(minutes=1)},
    ],
)
def test_an_expired_link_says_so_and_gives_the_hotline(
    client: FlaskClient, make_survey: Callable[..., Survey], make_case: Callable[..., Case], make_unit, session, kwargs
):
    unit = make_unit(name="柯岩派出所", hotline="0575-84001110")
    survey = make_survey(case=make_case(unit=unit), **kwargs)
    for page in (client.get(f"/s/{survey.token}"), client.post(f"/s/{survey.token}", data={"overall": "5"})):
        assert page.status_code == 410
        html = _text(page)
        assert "评价链接已过期" in html
        assert "柯岩派出所" in html
        assert 'href="tel:057584001110"' in html
        assert f'href="/s/{survey.token}/optout"' in html  # still texted reminders? stop them here
    assert _responses(session, survey) == []
    assert session.get_one(Survey, survey.id).opened_at is None


def test_an_answer_refused_because_the_link_expired_meanwhile_shows_its_comment_back(
    client: FlaskClient, make_survey: Callable[..., Survey], session: Session
):
    """Nothing is stored, but what the citizen typed is not lost: they can copy it for the hotline."""
    survey = make_survey(expires_at=NOW - dt.timedelta(minutes=1))
    comment = "等了两个小时<b>才来</b>\n态度也差"
    page = client.post(f"/s/{survey.token}", data={"overall": "1", "comment": comment})
    html = _text(page)
    assert page.status_code == 410
    assert "您这次填写的留言没有提交" in html
    assert "等了两个小时&lt;b&gt;才来&lt;/b&gt;\n态度也差" in html  # escaped, line break kept
    assert "没有提交" not in _text(client.get(f"/s/{survey.token}"))
    assert _responses(session, survey) == []


def test_an_expired_link_of_a_unit_without_hotline_points_to_the_unit(
    client: FlaskClient, make_survey: Callable[..., Survey], make_case: Callable[..., Case], make_unit
):
    survey = make_survey(case=make_case(unit=make_unit(name="塔山派出所", hotline=None)), status=SurveyStatus.EXPIRED)
    html = _text(client.get(f"/s/{survey.token}"))
    assert "请直接联系塔山派出所" in html
    assert "tel:" not in html


def test_an_opted_out_link(client: FlaskClient, make_survey: Callable[..., Survey]):
    survey = make_survey(status=SurveyStatus.OPTED_OUT)
    page = client.get(f"/s/{survey.token}")
    assert page.status_code == 410
    assert "您已退订" in _text(page)
    assert "/optout" not in _text(page)


@pytest.mark.parametrize(
    "status", [SurveyStatus.PLANNED, SurveyStatus.SENDING, SurveyStatus.FAILED, SurveyStatus.UNKNOWN]
)
def test_a_link_that_was_never_delivered(
    client: FlaskClient, make_survey: Callable[..., Survey], session: Session, status: SurveyStatus
):
    survey = make_survey(status=status)
    for page in (client.get(f"/s/{survey.token}"), client.post(f"/s/{survey.token}", data={"overall": "5"})):
        assert page.status_code == 410
        assert "这个评价链接已无法使用" in _text(page)
        assert f'href="/s/{survey.token}/optout"' in _text(page)
    assert _responses(session, survey) == []
    assert session.get_one(Survey, survey.id).status is status


# --- opting out ------------------------------------------------------------------------------


def test_opting_out_from_the_page(client: FlaskClient, survey: Survey, session: Session):
    assert f'href="/s/{survey.token}/optout"' in _text(client.get(f"/s/{survey.token}"))
    confirm = client.get(f"/s/{survey.token}/optout")
    assert confirm.status_code == 200
    assert "确认退订" in _text(confirm)
    assert session.scalar(select(func.count(OptOut.id))) == 0  # a GET (or a link preview) changes nothing

    done = client.post(f"/s/{survey.token}/optout")
    assert done.status_code == 303
    assert "您已退订" in _text(client.get(done.headers["Location"]))
    listed = session.scalars(select(OptOut)).one()
    assert (listed.phone_e164, listed.source) == ("+8613812345678", "web")
    session.expire_all()
    assert session.get_one(Survey, survey.id).status is SurveyStatus.OPTED_OUT
    assert "您已退订" in _text(client.get(f"/s/{survey.token}"))
    assert client.post(f"/s/{survey.token}", data={"overall": "5"}).status_code == 410
    assert _responses(session, survey) == []
    assert client.post(f"/s/{survey.token}/optout").status_code == 303  # idempotent


def test_an_answered_citizen_can_still_opt_out(client: FlaskClient, survey: Survey, session: Session):
    client.post(f"/s/{survey.token}", data={"overall": "5"})
    assert "点此退订" in _text(client.get(f"/s/{survey.token}"))
    client.post(f"/s/{survey.token}/optout")
    assert session.scalars(select(OptOut)).one().source == "web"
    assert "已评价" in _text(client.get(f"/s/{survey.token}"))  # the answer stays


def test_a_hotline_written_as_free_text_dials_its_number_and_extension(
    client: FlaskClient, make_survey: Callable[..., Survey], make_case: Callable[..., Case], make_unit
):
    unit = make_unit(name="柯岩派出所", hotline="0575-8400 1110 转 8001")
    survey = make_survey(case=make_case(unit=unit), status=SurveyStatus.EXPIRED)
    assert 'href="tel:057584001110,8001"' in _text(client.get(f"/s/{survey.token}"))


def test_a_link_whose_number_was_forgotten_cannot_opt_anyone_out(
    client: FlaskClient, make_survey: Callable[..., Survey], session: Session
):
    """The purge left a placeholder: opting that out would tell the citizen 已退订 and do nothing."""
    survey = make_survey(status=SurveyStatus.EXPIRED)
    survey.contact.phone_e164 = "purged-1"
    session.commit()
    for page in (client.get(f"/s/{survey.token}/optout"), client.post(f"/s/{survey.token}/optout")):
        assert page.status_code == 410
        assert "回复短信“TD”" in _text(page)
        assert "确认退订" not in _text(page)
    assert session.scalar(select(func.count(OptOut.id))) == 0


def test_the_opt_out_page_offers_the_survey_only_while_it_can_be_answered(
    client: FlaskClient, make_survey: Callable[..., Survey]
):
    open_survey = make_survey()
    assert "不退订，返回评价" in _text(client.get(f"/s/{open_survey.token}/optout"))
    expired = make_survey(status=SurveyStatus.EXPIRED)
    assert "不退订，返回评价" not in _text(client.get(f"/s/{expired.token}/optout"))


def test_opting_out_of_an_unknown_link(client: FlaskClient):
    assert client.post("/s/AAAAAAAAAAAA/optout").status_code == 404


# --- protections ----------------------------------------------------------------------------


@pytest.fixture
def guarded_app(make_app: Callable[..., Flask]) -> Flask:
    """The app with CSRF protection and rate limits on, as in production."""
    return make_app(
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        SURVEY_RATE_LIMIT="20 per minute",
        SURVEY_MISS_RATE_LIMIT="3 per minute",
    )


def test_guessing_tokens_is_throttled_per_client_but_real_links_are_not(
    guarded_app: Flask, make_survey: Callable[..., Survey]
):
    client = guarded_app.test_client()
    survey = make_survey()
    for _ in range(6):  # real links do not use up the guessing budget
        assert client.get(f"/s/{survey.token}").status_code == 200
    for n in range(3):
        assert client.get(f"/s/AAAAAAAAAAA{n}").status_code == 404
    blocked = client.get("/s/AAAAAAAAAAAZ")
    assert blocked.status_code == 429
    assert "访问太频繁" in _text(blocked)
    assert "最长约一小时" in _text(blocked)
    other_client = guarded_app.test_client()
    other = other_client.get(f"/s/{survey.token}", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 200


def test_every_client_has_a_budget_of_writes_that_reads_do_not_use(
    guarded_app: Flask, make_survey: Callable[..., Survey]
):
    client = guarded_app.test_client()
    survey = make_survey()
    assert {client.get(f"/s/{survey.token}").status_code for _ in range(30)} == {200}
    statuses = [client.post(f"/s/{survey.token}", data={"overall": "4"}).status_code for _ in range(21)]
    assert statuses[:20] == [303] + [200] * 19  # the answer, then its 已评价 page
    assert statuses[20] == 429
    assert client.get(f"/s/{survey.token}").status_code == 200
    refused = client.post(f"/s/{survey.token}", data={"overall": "1", "comment": "出警太慢"})
    assert refused.status_code == 429
    assert "出警太慢" in _text(refused)  # shown back to copy, not lost


#: A Redis nobody listens on: every counter increment or test fails to connect.
UNREACHABLE_STORE = "redis://127.0.0.1:1/0"


def test_citizens_still_answer_while_the_rate_limit_store_is_down(
    make_app: Callable[..., Flask],
    survey: Survey,
    session: Session,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
):
    """Redis restarting must not turn every survey link into a 500: the budgets go uncounted meanwhile."""
    monkeypatch.setattr(citizen_budgets, "_store_down_warned_at", None)  # no warning this minute yet
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=UNREACHABLE_STORE)
    # The one Flask-Limiter instance switches to its in-memory fallback once a staff page
    # finds the store down (an earlier test may have): hand the citizen views the store itself.
    down = FixedWindowRateLimiter(storage_from_string(UNREACHABLE_STORE, wrap_exceptions=True))
    monkeypatch.setattr(Limiter, "limiter", property(lambda _self: down))
    client = app.test_client()
    with caplog.at_level("WARNING", logger="webapp.citizen.budgets"):
        assert client.get(f"/s/{survey.token}").status_code == 200
        assert client.post(f"/s/{survey.token}", data={"overall": "2"}).status_code == 303
        assert client.get("/s/AAAAAAAAAAAA").status_code == 404
    assert [r.overall for r in _responses(session, survey)] == [2]
    warnings = [record for record in caplog.records if "rate-limit store unreachable" in record.getMessage()]
    assert len(warnings) == 1  # once a minute per process, not once per request


@pytest.mark.usefixtures("limiter_store_alive")
def test_staff_logins_fall_back_to_counting_in_the_process_while_the_store_is_down(make_app: Callable[..., Flask]):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=UNREACHABLE_STORE, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [client.post("/login", data={"username": "x", "password": "y"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # refused logins, then the limit: counted, not a 500


def test_the_form_needs_no_cookie_or_csrf_token(guarded_app: Flask, survey: Survey, session: Session):
    """The token in the link is the credential (see webapp/citizen/views.py)."""
    client = guarded_app.test_client()
    posted = client.post(f"/s/{survey.token}", data={"overall": "3"}, follow_redirects=True)
    assert posted.status_code == 200
    assert "Set-Cookie" not in posted.headers
    assert [r.overall for r in _responses(session, survey)] == [3]


def test_staff_forms_keep_their_csrf_protection(guarded_app: Flask):
    assert guarded_app.test_client().post("/login", data={"username": "x", "password": "y"}).status_code == 400
