"""Alibaba Cloud SMS pushes ("HTTP批量推送模式") in our terms: SmsReport and SmsUp.

Both are JSON arrays POSTed to URLs configured in the Alibaba console; the push expects
``{"code": 0, "msg": "接收成功"}`` within 700 ms and retries otherwise, and Alibaba warns
that pushes may repeat. Parsing lives apart from the provider so the web app reads
pushes without loading the SDK.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from surveys.errors import ValidationError
from surveys.phones import normalize_phone
from surveys.sms.base import DeliveryReport, DeliveryState, FailureKind, InboundSms

log = logging.getLogger(__name__)

ALIBABA = "alibaba"

#: Carrier receipt codes (回执错误码) that say something about the number itself.
RECEIPT_FAILURE_KINDS: Mapping[str, FailureKind] = {
    "MK:0001": FailureKind.UNREACHABLE,  # 不存在的用户
    "DB:0101": FailureKind.UNREACHABLE,  # 手机号码错误
    "CB:0053": FailureKind.UNREACHABLE,  # 用户不存在
    "DB:0144": FailureKind.UNSUBSCRIBED,  # 网关黑名单 (the citizen unsubscribed or complained)
    "MBBLACK": FailureKind.UNSUBSCRIBED,
    "DBBLACK": FailureKind.UNSUBSCRIBED,
}


def _items(payload: Any) -> Iterable[Mapping[str, Any]]:
    """The objects of a push (a JSON array); anything else holds none."""
    if not isinstance(payload, list):
        return []
    return [item for item in payload if isinstance(item, Mapping)]


def parse_reports(payload: Any) -> list[DeliveryReport]:
    """The delivery receipts of one SmsReport push."""
    reports = []
    for item in _items(payload):
        biz_id = str(item.get("biz_id") or "")
        if not biz_id:
            continue
        code = str(item.get("err_code") or "")
        if item.get("success") is True or str(item.get("success")).lower() == "true":
            reports.append(DeliveryReport(ALIBABA, biz_id, DeliveryState.DELIVERED, code or "DELIVERED"))
            continue
        reports.append(
            DeliveryReport(
                provider=ALIBABA,
                provider_message_id=biz_id,
                state=DeliveryState.FAILED,
                provider_status=code or "FAILED",
                error_code=code or None,
                error_message=str(item.get("err_msg") or "") or None,
                failure_kind=RECEIPT_FAILURE_KINDS.get(code, FailureKind.PERMANENT),
            )
        )
    return reports


def parse_replies(payload: Any, region: str = "CN") -> list[InboundSms]:
    """The citizens' messages of one SmsUp push; items without a usable number are dropped."""
    replies = []
    for item in _items(payload):
        sequence_id = str(item.get("sequence_id") or "")
        try:
            phone = normalize_phone(str(item.get("phone_number") or ""), region)
        except ValidationError:
            log.warning("SmsUp %s from an unusable number ignored", sequence_id)
            continue
        if not sequence_id:
            continue
        body = str(item.get("content") or "")
        replies.append(InboundSms(provider=ALIBABA, provider_message_id=sequence_id, phone_e164=phone, body=body))
    return replies
