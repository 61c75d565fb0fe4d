"""Phone numbers: parse whatever the case system sends into E.164."""

from __future__ import annotations

import phonenumbers

from surveys.errors import ValidationError

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(raw: str, region: str = "CN", field: str = "phone") -> str:
    """Return ``raw`` as E.164, or raise ValidationError naming ``field``.

    Only mobile numbers are accepted: a survey is an SMS, and a landline cannot take one.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError(field, "手机号不能为空")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(field, f"无法识别的手机号：{text}") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(field, f"无效的手机号：{text}")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise ValidationError(field, f"不是手机号码，无法接收短信：{text}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
