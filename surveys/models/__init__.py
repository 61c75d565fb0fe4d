"""All models, imported so that ``Base.metadata`` is complete (Alembic needs it)."""

from surveys.models.audit import AuditEntry
from surveys.models.cases import CASE_CATEGORY_LABELS, Case, CaseCategory, CaseContact, CitizenRole
from surveys.models.contacts import Contact, OptOut, mask_phone
from surveys.models.responses import Analysis, Channel, Response
from surveys.models.sms import SmsDirection, SmsMessage
from surveys.models.surveys import Survey
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
    "OptOut",
    "Response",
    "Role",
    "SmsDirection",
    "SmsMessage",
    "Survey",
    "Ticket",
    "TicketEvent",
    "TicketPriority",
    "Unit",
    "UnitLevel",
    "User",
    "mask_phone",
]
