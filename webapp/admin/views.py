"""The administrators' pages: dispatch policy, surveys that need a person, complaint categories, the audit log.

The dispatch policy is deployment-wide and per unit. Administrators see and change only
their own subtree; the deployment-wide policy and the taxonomy (one for the whole
deployment) belong to administrators of a top-level unit: a city bureau without parent
(:func:`surveys.units.is_top_level`), never merely a unit whose parent is missing.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from surveys.audit_log import audit_page
from surveys.dispatch_monitoring import problem_surveys, skip_reason_counts, status_counts
from surveys.models import Role, Unit
from surveys.policy import PolicyOverrides, load_policy_book
from surveys.policy_admin import (
    PolicyValidationError,
    clear_policy,
    longest_unit_name,
    policy_row,
    save_policy,
    template_checks,
)
from surveys.settings import Settings
from surveys.skip_reasons import SKIP_REASON_LABELS
from surveys.taxonomies import TaxonomyValidationError, current_revision, current_taxonomy, save_taxonomy
from surveys.units import is_top_level, is_within, subtree_units
from webapp.admin.forms import AuditFilterForm, DispatchPolicyForm, TaxonomyForm
from webapp.clock import now as clock_now
from webapp.db import get_session
from webapp.security import current_staff, roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
#: The window of the overview's counts and the problem list.
RECENT = dt.timedelta(days=30)
STATUS_LABELS = {
    "planned": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "delivered": "已送达",
    "opened": "已打开",
    "reminded": "已提醒",
    "answered": "已评价",
    "expired": "已过期",
    "failed": "发送失败",
    "opted_out": "已退订",
    "skipped": "未发送",
    "unknown": "发送结果不明",
}


def _settings() -> Settings:
    settings: Settings = current_app.config["MINYI_SETTINGS"]
    return settings


def _unit_in_scope(unit_id: int) -> Unit:
    scope = current_staff().scope_unit
    unit = get_session().get(Unit, unit_id)
    if unit is None or not is_within(unit, scope):
        abort(404)
    return unit


def _may_edit_deployment() -> bool:
    """Only an administrator of a root (a city bureau without parent) speaks for the deployment."""
    return is_top_level(current_staff().scope_unit)


@bp.get("/dispatch")
@roles_required(Role.ADMIN)
def dispatch_overview() -> str:
    """The policy in force for the administrator's scope, its text costs, and the counts."""
    session, scope, settings = get_session(), current_staff().scope_unit, _settings()
    book = load_policy_book(session, settings)
    since = clock_now() - RECENT
    return render_template(
        "admin/dispatch.html",
        scope=scope,
        policy=book.for_unit(scope),
        checks=template_checks(book.for_unit(scope), settings, longest_unit_name(session, scope)),
        units=subtree_units(session, scope),
        overridden={unit_id for unit_id in book.rows if unit_id is not None},
        may_edit_deployment=_may_edit_deployment(),
        counts=status_counts(session, scope, since),
        reasons=skip_reason_counts(session, scope, since),
        status_labels=STATUS_LABELS,
        reason_labels=SKIP_REASON_LABELS,
    )


def _edit(unit: Unit | None) -> Response | tuple[str, int]:
    """GET shows the stored overrides; POST validates, saves, audits and redirects."""
    session, settings, now = get_session(), _settings(), clock_now()
    if request.method == "POST":
        form = DispatchPolicyForm()
    else:
        form = DispatchPolicyForm.from_overrides(PolicyOverrides.of(policy_row(session, unit)))
    status = 200
    if form.validate_on_submit():
        try:
            save_policy(session, unit, form.to_overrides(), current_staff().db_user(), now)
        except PolicyValidationError as exc:
            session.rollback()
            for name, reason in exc.errors.items():
                getattr(form, name).errors = [*getattr(form, name).errors, reason]
            status = 400
        else:
            session.commit()
            flash("已保存，新的设置对之后发送的短信生效", "success")
            target = url_for("admin.unit_policy", unit_id=unit.id) if unit else url_for("admin.deployment_policy")
            return redirect(target)
    elif form.errors:
        status = 400
    book = load_policy_book(session, settings)
    effective = book.for_unit(unit) if unit else book.deployment()
    root = unit or current_staff().scope_unit
    page = render_template(
        "admin/policy.html",
        form=form,
        unit=unit,
        inherited=book.inherited(unit),
        checks=template_checks(effective, settings, longest_unit_name(session, root)),
        has_override=policy_row(session, unit) is not None,
    )
    return page, status


@bp.route("/dispatch/policy", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def deployment_policy() -> Response | tuple[str, int]:
    """The deployment-wide policy (administrators of a top-level unit only)."""
    if not _may_edit_deployment():
        abort(403)
    return _edit(None)


@bp.route("/dispatch/units/<int:unit_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def unit_policy(unit_id: int) -> Response | tuple[str, int]:
    """One unit's overrides, covering its subtree."""
    return _edit(_unit_in_scope(unit_id))


@bp.post("/dispatch/units/<int:unit_id>/clear")
@roles_required(Role.ADMIN)
def clear_unit_policy(unit_id: int) -> Response:
    """Drop a unit's overrides: it inherits everything again."""
    unit = _unit_in_scope(unit_id)
    session = get_session()
    if clear_policy(session, unit, current_staff().db_user(), clock_now()):
        session.commit()
        flash(f"已清除“{unit.name}”的单独设置", "success")
    return redirect(url_for("admin.unit_policy", unit_id=unit.id))


@bp.get("/dispatch/problems")
@roles_required(Role.ADMIN)
def dispatch_problems() -> str:
    """Surveys whose sending failed or whose outcome is unknown, for a person to check."""
    surveys = problem_surveys(get_session(), current_staff().scope_unit, clock_now() - RECENT)
    return render_template("admin/problems.html", surveys=surveys, status_labels=STATUS_LABELS)


@bp.route("/taxonomy", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def taxonomy() -> Response | tuple[str, int]:
    """The complaint categories in force; administrators of a top-level unit edit them."""
    session = get_session()
    current = current_taxonomy(session)
    editable = _may_edit_deployment()
    if request.method == "POST" and not editable:
        abort(403)
    form = TaxonomyForm() if request.method == "POST" else TaxonomyForm.from_taxonomy(current)
    status = 200
    if form.validate_on_submit():
        rows = form.kept_rows()
        try:
            saved = save_taxonomy(session, [row.draft() for row in rows], current_staff().db_user(), clock_now())
        except TaxonomyValidationError as exc:
            session.rollback()
            form.show_errors(rows, exc.errors)
            status = 400
        else:
            session.commit()
            flash("已保存，之后的评价按新的类别分析" if saved else "没有改动", "success")
            return redirect(url_for("admin.taxonomy"))
    elif form.errors:
        status = 400
    page = render_template(
        "admin/taxonomy.html",
        form=form,
        fallback=current.fallback,
        revision=current_revision(session),
        editable=editable,
    )
    return page, status


@bp.get("/audit")
@roles_required(Role.ADMIN)
def audit_log() -> str:
    """Who did what, newest first, filtered as the query string asks (see :mod:`surveys.audit_log` for the scope)."""
    form = AuditFilterForm(request.args)
    form.validate()
    page = audit_page(
        get_session(),
        current_staff().scope_unit,
        form.audit_filter(_settings().timezone),
        request.args.get("page", 1, int),
    )
    return render_template("admin/audit.html", page=page, form=form, filter_args=form.query_args())
