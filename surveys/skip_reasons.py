"""Why a survey was not sent: every ``skipped`` survey (and one that expired unsent) says so."""

from __future__ import annotations

import enum


class SkipReason(enum.StrEnum):
    """The recorded reason, stored in ``surveys.skip_reason``."""

    SENSITIVE_CASE = "sensitive_case"
    EXCLUDED_CATEGORY = "excluded_category"
    OPTED_OUT = "opted_out"
    UNREACHABLE_NUMBER = "unreachable_number"
    CLOSED_TOO_LONG_AGO = "closed_too_long_ago"
    NOT_SAMPLED = "not_sampled"
    FREQUENCY_CAP = "frequency_cap"
    NOT_SENT_IN_TIME = "not_sent_in_time"

    @property
    def label(self) -> str:
        """What an administrator reads."""
        return SKIP_REASON_LABELS[self]


SKIP_REASON_LABELS = {
    SkipReason.SENSITIVE_CASE: "不宜回访的案件",
    SkipReason.EXCLUDED_CATEGORY: "该类别不回访",
    SkipReason.OPTED_OUT: "群众已退订",
    SkipReason.UNREACHABLE_NUMBER: "号码无法接收短信",
    SkipReason.CLOSED_TOO_LONG_AGO: "结案过久",
    SkipReason.NOT_SAMPLED: "未被抽样",
    SkipReason.FREQUENCY_CAP: "近期已回访过该号码",
    SkipReason.NOT_SENT_IN_TIME: "有效期内未能发出",
}
