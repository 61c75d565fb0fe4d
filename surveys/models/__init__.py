"""All models, imported so that ``Base.metadata`` is complete (Alembic needs it)."""

from surveys.models.audit import AuditEntry
from surveys.models.cases import CASE_CATEGORY_LABELS, Case, CaseCategory, CaseContact, CitizenRole
from surveys.models.contacts import (
    Contact,
    OptOut,
    PhoneSuppression,
    is_purged_phone,
    mask_numbers_in_text,
    mask_phone,
)
from surveys.models.policies import DispatchPolicy
from surveys.models.responses import Analysis, Channel, Response
from surveys.models.sms import ReplyOutcome, SendRateCursor, SmsDirection, SmsKind, SmsMessage, SmsSendStatus
from surveys.models.surveys import Survey
from surveys.models.taxonomy import TaxonomyRevision
from surveys.models.tickets import Ticket, TicketEvent, TicketPriority
from surveys.models.units import ApiKey, Role, Unit, UnitLevel, User

__all__ = [
    "CASE_CATEGORY_LABELS",
    "Analysis",
    "ApiKey",
    "AuditEntry",
    "Case",
    "CaseCategory",
    "CaseContact",
    "Channel",
    "CitizenRole",
    "Contact",
    "DispatchPolicy",
    "OptOut",
    "PhoneSuppression",
    "ReplyOutcome",
    "Response",
    "Role",
    "SendRateCursor",
    "SmsDirection",
    "SmsKind",
    "SmsMessage",
    "SmsSendStatus",
    "Survey",
    "TaxonomyRevision",
    "Ticket",
    "TicketEvent",
    "TicketPriority",
    "Unit",
    "UnitLevel",
    "User",
    "is_purged_phone",
    "mask_numbers_in_text",
    "mask_phone",
]
