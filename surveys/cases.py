"""Case intake: validate a closed case from the API, a CSV row or a spreadsheet and store it once."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveys import csv_rows
from surveys.errors import ValidationError
from surveys.models import CASE_CATEGORY_LABELS, Case, CaseCategory, CaseContact, CitizenRole, Contact, Unit
from surveys.phones import normalize_phone
from surveys.text import NOT_ONE_LINE
from surveys.units import get_unit_by_code

_CATEGORY_BY_NAME = {label: cat for cat, label in CASE_CATEGORY_LABELS.items()} | {c.value: c for c in CaseCategory}
_CATEGORY_BY_NAME |= {"110": CaseCategory.ALARM_110, "窗口办事": CaseCategory.WINDOW}
_ROLE_BY_NAME = {r.value: r for r in CitizenRole} | {
    "报警人": CitizenRole.REPORTER,
    "当事人": CitizenRole.PARTY,
    "办事群众": CitizenRole.APPLICANT,
}
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}
#: People surveyed about one case: a few reporters and parties, never a crowd; the cap
#: keeps one request from creating thousands of contacts in one transaction.
MAX_CITIZENS = 20
#: Earlier closing times are typing errors (and year 1 overflows with a time zone).
MIN_CLOSED_YEAR = 2000


@dataclass(frozen=True)
class CitizenInput:
    """A citizen to survey: E.164 phone and their role in the case."""

    phone_e164: str
    role: CitizenRole


@dataclass(frozen=True)
class CaseInput:
    """A validated closed case, ready to store."""

    source: str
    external_no: str
    unit: Unit
    category: CaseCategory
    closed_at: dt.datetime
    officer_name: str | None
    is_sensitive: bool
    citizens: tuple[CitizenInput, ...] = field(default_factory=tuple)


def _text(data: Mapping[str, Any], name: str, *, required: bool, max_len: int) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(name, "必填")
        return None
    if not isinstance(value, str | int):
        raise ValidationError(name, "应为字符串")
    text = str(value).strip()
    if len(text) > max_len:
        raise ValidationError(name, f"长度不能超过 {max_len}")
    if NOT_ONE_LINE.search(text):
        raise ValidationError(name, "含有控制字符或无效字符")
    return text


def parse_closed_at(value: Any, now: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """ISO 8601 time; a time without offset is local (Asia/Shanghai); the future is refused."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError(
                "closed_at", f"时间格式应为 ISO 8601，例如 2026-11-20T14:30:00+08:00：{value}"
            ) from exc
    else:
        raise ValidationError("closed_at", "必填")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    try:
        parsed = parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # year 1 or 9999 pushed past the calendar by the offset
        raise ValidationError("closed_at", f"时间超出范围：{value}") from exc
    if parsed.year < MIN_CLOSED_YEAR:
        raise ValidationError("closed_at", f"时间超出范围：{value}")
    if parsed > now + dt.timedelta(minutes=5):
        raise ValidationError("closed_at", "结案时间不能晚于当前时间")
    return parsed


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(name, f"应为 true 或 false：{value}")


def _citizens(data: Mapping[str, Any], default_role: CitizenRole, region: str) -> tuple[CitizenInput, ...]:
    raw = data.get("citizens")
    if raw is None:
        raw = [{"phone": data.get("phone"), "role": data.get("role")}]
    if not isinstance(raw, list) or not raw:
        raise ValidationError("citizens", "至少需要一位群众的手机号")
    if len(raw) > MAX_CITIZENS:
        raise ValidationError("citizens", f"一个案件最多 {MAX_CITIZENS} 位群众")
    seen: dict[str, CitizenInput] = {}
    for index, item in enumerate(raw):
        prefix = "phone" if "citizens" not in data else f"citizens[{index}]"
        if not isinstance(item, Mapping):
            raise ValidationError(prefix, "应为对象")
        phone_field = "phone" if "citizens" not in data else f"{prefix}.phone"
        phone = normalize_phone(str(item.get("phone") or ""), region, field=phone_field)
        role_raw = item.get("role") or default_role.value
        role = _ROLE_BY_NAME.get(str(role_raw).strip())
        if role is None:
            role_field = "role" if "citizens" not in data else f"{prefix}.role"
            raise ValidationError(role_field, f"未知的群众身份：{role_raw}（可选 reporter/party/applicant）")
        seen.setdefault(phone, CitizenInput(phone, role))
    return tuple(seen.values())


def validate_case(
    session: Session,
    data: Mapping[str, Any],
    *,
    source: str,
    now: dt.datetime,
    tz: dt.tzinfo,
    region: str = "CN",
) -> CaseInput:
    """Check one case payload; raise ValidationError naming the first bad field."""
    external_no = _text(data, "case_no", required=True, max_len=64)
    unit_code = _text(data, "unit_code", required=True, max_len=32)
    unit = get_unit_by_code(session, unit_code or "")
    if unit is None:
        raise ValidationError("unit_code", f"未知的单位代码：{unit_code}")
    category_raw = _text(data, "category", required=True, max_len=32)
    category = _CATEGORY_BY_NAME.get(category_raw or "")
    if category is None:
        options = "、".join(c.value for c in CaseCategory)
        raise ValidationError("category", f"未知的案件类别：{category_raw}（可选 {options}）")
    default_role = CitizenRole.APPLICANT if category is CaseCategory.WINDOW else CitizenRole.REPORTER
    return CaseInput(
        source=source,
        external_no=external_no or "",
        unit=unit,
        category=category,
        closed_at=parse_closed_at(data.get("closed_at"), now, tz),
        officer_name=_text(data, "officer_name", required=False, max_len=64),
        is_sensitive=_bool(data.get("is_sensitive", False), "is_sensitive"),
        citizens=_citizens(data, default_role, region),
    )


def get_or_create_contact(session: Session, phone_e164: str) -> Contact:
    """The contact row for a phone, created on first sight."""
    contact = session.scalars(select(Contact).where(Contact.phone_e164 == phone_e164)).one_or_none()
    if contact is None:
        contact = Contact(phone_e164=phone_e164)
        session.add(contact)
        session.flush()
    return contact


def find_case(session: Session, source: str, external_no: str) -> Case | None:
    """The stored case with this external number from this source, if any."""
    stmt = select(Case).where(Case.source == source, Case.external_no == external_no)
    return session.scalars(stmt).one_or_none()


def store_case(session: Session, case_input: CaseInput) -> tuple[Case, bool]:
    """Store the case unless (source, case number) exists; returns (case, created).

    Idempotence is what lets the case-management system retry a push safely; the unique
    constraint backs this check up against two concurrent pushes.
    """
    existing = find_case(session, case_input.source, case_input.external_no)
    if existing is not None:
        return existing, False
    case = Case(
        source=case_input.source,
        external_no=case_input.external_no,
        unit=case_input.unit,
        category=case_input.category,
        closed_at=case_input.closed_at,
        officer_name=case_input.officer_name,
        is_sensitive=case_input.is_sensitive,
    )
    session.add(case)
    for citizen in case_input.citizens:
        contact = get_or_create_contact(session, citizen.phone_e164)
        case.participants.append(CaseContact(contact=contact, role=citizen.role))
    session.flush()
    return case, True


@dataclass
class RowError:
    """A rejected import row: the file line, the field and the reason."""

    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    """What an import did, row by row."""

    created: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)


REQUIRED_COLUMNS = frozenset({"case_no", "unit_code", "category", "closed_at", "phone"})


def read_csv_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) of a case CSV (UTF-8, with or without BOM)."""
    return csv_rows.read_csv_rows(data, REQUIRED_COLUMNS)


def read_xlsx_rows(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, row) from the first sheet of an .xlsx workbook (header in row 1)."""
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationError("file", "无法读取的 Excel 文件（需要 .xlsx 格式）") from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        csv_rows.check_columns(header, REQUIRED_COLUMNS)
        for number, values in enumerate(rows, start=2):
            if all(value is None or str(value).strip() == "" for value in values):
                continue
            yield number, {name: _cell_text(value) for name, value in zip(header, values, strict=False) if name}
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """Excel cells as the CSV reader would see them; dates keep their local wall time."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed as numbers
    return str(value).strip()


def read_case_file(filename: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an uploaded case file, by extension (.csv or .xlsx)."""
    if filename.lower().endswith(".xlsx"):
        return read_xlsx_rows(data)
    if filename.lower().endswith(".csv"):
        return read_csv_rows(data)
    raise ValidationError("file", "只支持 .csv 或 .xlsx 文件")


def import_case_rows(
    session: Session,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    source: str,
    now: dt.datetime,
    tz: dt.tzinfo,
    region: str = "CN",
) -> ImportReport:
    """Validate and store each row in its own savepoint: bad rows are reported, good rows kept."""
    report = ImportReport()
    for line, row in rows:
        try:
            with session.begin_nested():
                case_input = validate_case(session, row, source=source, now=now, tz=tz, region=region)
                _, created = store_case(session, case_input)
        except ValidationError as exc:
            report.errors.append(RowError(line, exc.field, exc.reason))
            continue
        if created:
            report.created += 1
        else:
            report.duplicates += 1
    return report
