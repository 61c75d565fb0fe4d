"""Alibaba Cloud SMS (阿里云短信服务) through its official SDK, and its HTTP pushes in our terms.

Twilio cannot carry two-way SMS to mainland numbers; a Chinese deployment sends through a
domestic gateway. Alibaba Cloud sends *registered templates*: the request names a sign
name (the 【签名】), a template code per message kind and the template's parameters as
JSON. Delivery receipts (SmsReport) and citizens' replies (SmsUp) arrive as JSON arrays
POSTed to URLs configured in the Alibaba console ("HTTP批量推送模式").

Business errors come back as HTTP 200 with a ``Code`` other than ``OK``; protocol
errors (signature, throttling, server trouble) as HTTP 4xx/5xx, which the SDK raises.
The SDK's own retries stay off: a retried send could text a citizen twice. The pushes
are parsed in :mod:`surveys.sms.alibaba_push`, which the web app imports without loading
the SDK.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from alibabacloud_dysmsapi20170525 import models as dysms
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.runtime import RuntimeOptions

from surveys.dispatch_settings import AlibabaSettings
from surveys.errors import ConfigurationError
from surveys.models import SmsKind
from surveys.sms.alibaba_push import ALIBABA
from surveys.sms.base import (
    FailureKind,
    OutgoingSms,
    SendResult,
    SmsOutcomeUnknownError,
    SmsSendError,
)
from surveys.sms.transport import transport_failure

log = logging.getLogger(__name__)

NAME = ALIBABA
SENT_KINDS = (SmsKind.SURVEY, SmsKind.REMINDER, SmsKind.OPT_OUT_CONFIRMATION)

#: SendSms codes (国内消息API错误码) that are not permanent for the message alone.
FAILURE_KINDS: Mapping[str, FailureKind] = {
    "isp.SYSTEM_ERROR": FailureKind.TRANSIENT,
    "isv.BUSINESS_LIMIT_CONTROL": FailureKind.TRANSIENT,  # per-number flow control: later
    "isv.DAY_LIMIT_CONTROL": FailureKind.TRANSIENT,
    "isv.MONTH_LIMIT_CONTROL": FailureKind.TRANSIENT,
    # Account problems an operator fixes (top-up, credentials) must not fail the queue.
    "isv.AMOUNT_NOT_ENOUGH": FailureKind.TRANSIENT,
    "isv.OUT_OF_SERVICE": FailureKind.TRANSIENT,
    "isv.ACCOUNT_ABNORMAL": FailureKind.TRANSIENT,
    "isp.RAM_PERMISSION_DENY": FailureKind.TRANSIENT,
    "InvalidAccessKeyId.NotFound": FailureKind.TRANSIENT,
    "SignatureDoesNotMatch": FailureKind.TRANSIENT,
    "isv.MOBILE_NUMBER_ILLEGAL": FailureKind.UNREACHABLE,
}


def classify(code: str, http_status: int = 200) -> FailureKind:
    """What a SendSms error code means; unknown codes fall back on the HTTP status."""
    if code in FAILURE_KINDS:
        return FAILURE_KINDS[code]
    if code.startswith("Throttling") or http_status == 429 or http_status >= 500:
        return FailureKind.TRANSIENT
    return FailureKind.PERMANENT


def national_number(phone_e164: str) -> str:
    """The ``PhoneNumbers`` form: 11 digits for the mainland, country code + number elsewhere."""
    return phone_e164.removeprefix("+86") if phone_e164.startswith("+86") else phone_e164.lstrip("+")


class AlibabaSmsProvider:
    """Sends registered templates through ``Client.send_sms_with_options``."""

    name = NAME

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: Mapping[SmsKind, str],
        *,
        endpoint: str = "dysmsapi.aliyuncs.com",
        protocol: str = "https",
        timeout_seconds: float = 10.0,
    ) -> None:
        missing = [kind.value for kind in SENT_KINDS if not templates.get(kind)]
        if missing:
            raise ConfigurationError(f"Alibaba Cloud SMS needs a template code for: {', '.join(missing)}")
        config = openapi.Config(
            access_key_id=access_key_id, access_key_secret=access_key_secret, endpoint=endpoint, protocol=protocol
        )
        self._client = Client(config)
        self._sign_name = sign_name
        self._templates = dict(templates)
        timeout_ms = int(timeout_seconds * 1000)
        self._runtime = RuntimeOptions(autoretry=False, read_timeout=timeout_ms, connect_timeout=timeout_ms)

    @classmethod
    def from_settings(cls, alibaba: AlibabaSettings, default_sign_name: str) -> AlibabaSmsProvider:
        """Build the provider from the ``ALIBABA_*`` settings."""
        if not (alibaba.access_key_id and alibaba.access_key_secret):
            raise ConfigurationError(
                "MINYI_SMS_PROVIDER=alibaba needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
            )
        return cls(
            alibaba.access_key_id,
            alibaba.access_key_secret,
            alibaba.sign_name or default_sign_name,
            alibaba.templates,
            endpoint=alibaba.endpoint,
        )

    def send(self, message: OutgoingSms) -> SendResult:
        """Send the template of ``message.kind`` filled with ``message.params``."""
        request = dysms.SendSmsRequest(
            phone_numbers=national_number(message.to),
            sign_name=self._sign_name,
            template_code=self._templates[message.kind],
            template_param=json.dumps(dict(message.params), ensure_ascii=False) if message.params else None,
            out_id=message.reference or None,
        )
        try:
            response = self._client.send_sms_with_options(request, self._runtime)
        except AlibabaCloudException as exc:
            code = str(exc.code or exc.status_code)
            raise SmsSendError(code, str(exc.message), classify(code, exc.status_code or 500)) from exc
        except UnretryableException as exc:
            inner = exc.inner_exception
            cause = inner.__context__ if isinstance(inner, RetryError) else inner
            raise transport_failure(cause or inner) from exc
        body = response.body
        if body is None or body.code != "OK":
            code = (body.code if body else None) or "empty_response"
            text = (body.message if body else None) or ""
            raise SmsSendError(code, text, classify(code))
        if not body.biz_id:
            # Accepted without a receipt id: it may well go out, so no retry.
            raise SmsOutcomeUnknownError(f"SendSms OK without BizId (RequestId {body.request_id})")
        log.info("alibaba accepted %s", body.biz_id)
        return SendResult(provider_message_id=str(body.biz_id), status="accepted")
