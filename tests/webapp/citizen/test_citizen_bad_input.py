"""Every bad submission gets a clear Chinese message, the form back, and nothing stored."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveys.models import Case, CaseCategory, Response, Survey
from surveys.states import SurveyStatus

FORM = "application/x-www-form-urlencoded"
FORGED = "提交的内容无效，请刷新页面后重新填写"


@pytest.fixture
def survey(make_survey: Callable[..., Survey]) -> Survey:
    return make_survey(status=SurveyStatus.OPENED)


def _post_raw(client: FlaskClient, survey: Survey, body: bytes, content_type: str = FORM):
    return client.post(f"/s/{survey.token}", data=body, content_type=content_type)


def _assert_refused(page, message: str, session: Session, survey: Survey) -> str:
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert message in html
    assert 'class="error-summary" role="alert"' in html
    assert '<form class="survey"' in html  # the citizen can correct and resubmit
    assert session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) == 0
    session.expire_all()
    assert session.get_one(Survey, survey.id).status is SurveyStatus.OPENED
    return html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "请选择总体满意度"),
        ({"comment": "没选满意度"}, "请选择总体满意度"),
        ({"overall": ""}, "请选择总体满意度"),
        ({"overall": "0"}, "总体满意度的选项无效，请从五个选项中重新选择"),
        ({"overall": "6"}, "总体满意度的选项无效，请从五个选项中重新选择"),
        ({"overall": "-3"}, "总体满意度的选项无效，请从五个选项中重新选择"),
        ({"overall": "very"}, "总体满意度的选项无效，请从五个选项中重新选择"),
        ({"overall": "5", "comment": "很" * 501}, "留言最多 500 字，现在有 501 字，请删减一些"),
        ({"overall": "5", "d_call_attitude": "7"}, "“接警态度”的评价无效，请从五个选项中重新选择"),
        ({"overall": "5", "d_handling_efficiency": "5"}, "提交的评价项目不在本问卷中，请刷新页面后重新填写"),
        ({"overall": "5", "d_": "5"}, "提交的评价项目不在本问卷中，请刷新页面后重新填写"),
        ({"overall": "1", "reason": "long_wait"}, "提交的不满意原因不在列表中，请刷新页面后重新选择"),
        ({"overall": "1", "reason": "<script>"}, "提交的不满意原因不在列表中，请刷新页面后重新选择"),
        ({"overall": "5", "is_admin": "1"}, FORGED),
        ({"overall": "5", "csrf_token": "x"}, FORGED),
        ({"overall": ["5", "1"]}, FORGED),
        ({"overall": "5", "comment": ["a", "b"]}, FORGED),
        ({"overall": "5", "qs": "alarm_110.v7"}, "问卷版本无效，请刷新页面后重新填写"),
        ({"overall": "5", "qs": "window_service.v1"}, "问卷版本无效，请刷新页面后重新填写"),
    ],
)
def test_bad_submissions_are_refused_with_a_chinese_message(
    client: FlaskClient, survey: Survey, session: Session, data: dict[str, object], message: str
):
    _assert_refused(client.post(f"/s/{survey.token}", data=data), message, session, survey)


@pytest.mark.parametrize(
    "body",
    [
        b"overall=5&comment=%FF%FE",  # percent-encoded bytes that are not UTF-8
        b"overall=5&comment=%E4%BD",  # a truncated three-byte character
        b"overall=5&comment=%ED%A0%80",  # an encoded UTF-16 surrogate
        b"overall=5&comment=\xff\xfe",  # raw bytes that are not UTF-8
        "overall=5&comment=好".encode("gb18030"),  # the right text in the wrong encoding
    ],
)
def test_invalid_utf8_is_refused_not_mangled(client: FlaskClient, survey: Survey, session: Session, body: bytes):
    _assert_refused(
        _post_raw(client, survey, body), "提交的内容包含无法识别的字符，请检查留言后重新提交", session, survey
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"overall": 5}', "application/json"),
        (b"overall=5", "text/plain"),
        (
            b"--x\r\nContent-Disposition: form-data; name=overall\r\n\r\n5\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
        ),
        (b"&".join([b"reason=other"] * 100) + b"&overall=1", FORM),
        (b"overall=5&comment=100%ZZ", FORM),  # a browser writes a typed % as %25
        (b"overall=5&comment=%", FORM),
    ],
)
def test_bodies_a_browser_would_not_send_are_refused(
    client: FlaskClient, survey: Survey, session: Session, body: bytes, content_type: str
):
    _assert_refused(_post_raw(client, survey, body, content_type), FORGED, session, survey)


def test_an_oversized_body_is_refused(client: FlaskClient, survey: Survey, session: Session):
    body = b"overall=5&comment=" + b"%E5%A5%BD" * 10_000
    _assert_refused(_post_raw(client, survey, body), "提交的内容过长，请删减留言后重新提交", session, survey)


def test_the_form_comes_back_with_what_the_citizen_entered(client: FlaskClient, survey: Survey, session: Session):
    page = client.post(
        f"/s/{survey.token}",
        data={"overall": "2", "reason": ["slow_dispatch"], "d_call_attitude": "2", "comment": "好" * 501},
    )
    html = _assert_refused(page, "留言最多 500 字", session, survey)
    assert 'name="overall" value="2" required checked' in html
    assert 'value="slow_dispatch" checked' in html
    assert 'name="d_call_attitude" value="2" checked' in html
    assert "好" * 501 + "</textarea>" in html
    assert 'aria-invalid="true"' in html
    assert 'href="#comment"' in html


def test_all_problems_are_listed_together(client: FlaskClient, survey: Survey, session: Session):
    html = _assert_refused(
        client.post(f"/s/{survey.token}", data={"comment": "长" * 600, "d_civil_language": "x"}),
        "请选择总体满意度",
        session,
        survey,
    )
    assert "留言最多 500 字" in html
    assert "“文明用语”的评价无效" in html


def test_submitted_text_is_escaped_when_shown_again(client: FlaskClient, survey: Survey, session: Session):
    html = _assert_refused(
        client.post(f"/s/{survey.token}", data={"comment": "<script>alert(1)</script>"}),
        "请选择总体满意度",
        session,
        survey,
    )
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_bad_submission_can_be_corrected(client: FlaskClient, survey: Survey, session: Session):
    assert client.post(f"/s/{survey.token}", data={"overall": "9"}).status_code == 400
    corrected = client.post(f"/s/{survey.token}", data={"overall": "3"}, follow_redirects=True)
    assert "感谢您的评价" in corrected.get_data(as_text=True)
    assert session.scalars(select(Response.overall).where(Response.survey_id == survey.id)).one() == 3


@pytest.mark.parametrize("comment", ["服務態度很好，謝謝警察同志！👮‍♂️👍🏻", "🙏" * 250, "𠀀𪚥 rare CJK extension B"])
def test_traditional_chinese_and_emoji_are_stored_intact(
    client: FlaskClient, make_survey: Callable[..., Survey], make_case: Callable[..., Case], session: Session, comment
):
    survey = make_survey(case=make_case(category=CaseCategory.WINDOW))
    assert client.post(f"/s/{survey.token}", data={"overall": "5", "comment": comment}).status_code == 303
    session.expire_all()
    assert session.scalars(select(Response.comment).where(Response.survey_id == survey.id)).one() == comment
    assert comment in client.get(f"/s/{survey.token}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/s/", 404, "链接无效"),  # a link cut short
        ("GET", "/s/AAAAAAAAAAAA/more/parts", 404, "链接无效"),
        ("PUT", "/s/{token}", 405, "无法处理这个请求"),
        ("DELETE", "/s/{token}/optout", 405, "无法处理这个请求"),
    ],
)
def test_requests_no_citizen_view_takes_get_a_citizen_page(
    client: FlaskClient, survey: Survey, session: Session, method: str, path: str, status: int, title: str
):
    page = client.open(path.format(token=survey.token), method=method)
    assert page.status_code == status
    assert title in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in page.headers
    if status == 405:
        assert "POST" in page.headers["Allow"]
    session.expire_all()
    assert session.get_one(Survey, survey.id).status is SurveyStatus.OPENED


def test_a_body_over_the_servers_limit_gets_a_citizen_page(client: FlaskClient, survey: Survey, session: Session):
    client.application.config["MAX_CONTENT_LENGTH"] = 1024
    page = _post_raw(client, survey, b"overall=5&comment=" + b"a" * 2048)
    assert page.status_code == 413
    assert "无法处理这个请求" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-cache"  # a POST's page, kept only for Back
    assert session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) == 0


def test_a_server_error_says_the_answer_was_not_saved(
    client: FlaskClient, survey: Survey, session: Session, monkeypatch: pytest.MonkeyPatch
):
    """Not 无法处理这个请求 (the citizen did nothing wrong), but: not saved, try again later."""

    def broken(*_args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("webapp.citizen.views.store_answer", broken)
    monkeypatch.setattr("webapp.citizen.views.store_answer_on", broken)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    page = client.post(f"/s/{survey.token}", data={"overall": "1", "comment": "等了很久"})
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "系统暂时无法处理" in html
    assert "这次提交没有保存" in html
    assert page.headers["Cache-Control"] == "private, no-cache"  # a POST's page, kept only for Back
    assert session.scalar(select(func.count(Response.id)).where(Response.survey_id == survey.id)) == 0


def test_other_pages_get_the_staff_error_page_not_the_citizens(client: FlaskClient):
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert "链接无效" not in page.get_data(as_text=True)
    assert "页面不存在" in page.get_data(as_text=True)
