"""Proving a webhook came from the provider, before anything in it is believed.

Twilio signs each request (``X-Twilio-Signature``: HMAC-SHA1 of the full URL and the
sorted form fields, keyed with the auth token). The URL must be the one Twilio called,
so behind a reverse proxy ``PROXY_FIX_HOPS`` must be set for ``request.url`` to carry
the public scheme and host.

Alibaba Cloud's HTTP pushes carry no signature at all. The push URLs configured in its
console therefore include a secret token (``?token=…``, ``ALIBABA_SMS_PUSH_TOKEN``),
compared in constant time; serve them over HTTPS only.
"""

from __future__ import annotations

import hmac

from flask import request
from twilio.request_validator import RequestValidator


def twilio_request_is_signed(auth_token: str | None) -> bool:
    """Whether the current request carries Twilio's valid signature for ``auth_token``."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature:
        return False
    return bool(RequestValidator(auth_token).validate(request.url, request.form, signature))


def alibaba_request_has_token(push_token: str | None) -> bool:
    """Whether the current request's ``token`` matches the configured push token."""
    given = request.args.get("token", "")
    return bool(push_token) and hmac.compare_digest(given.encode(), (push_token or "").encode())
