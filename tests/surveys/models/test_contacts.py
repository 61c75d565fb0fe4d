"""Masking phone numbers: the contact's own, and the long numbers citizens type into comments."""

from __future__ import annotations

import pytest

from surveys.models import mask_numbers_in_text, mask_phone


def test_a_contacts_number_keeps_its_ends():
    assert mask_phone("+8613812345678") == "138****5678"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("请打我电话13812345678谢谢", "请打我电话138****5678谢谢"),
        ("138 1234 5678", "138 **** 5678"),
        ("138-1234-5678", "138-****-5678"),
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width, as a Chinese input method types it
        ("身份证330602199001011234", "身份证330***********1234"),
        ("座机8512345", "座机*****45"),
        ("138　1234　5678", "138　****　5678"),  # full-width spaces
        ("138.1234.5678", "138.****.5678"),
        ("138  1234  5678", "138  ****  5678"),
        ("罚了200元，等了40分钟，2024年", "罚了200元，等了40分钟，2024年"),  # short numbers stay
        ("2024-11-20那天报的警", "2024-11-20那天报的警"),  # a date stays
        ("", ""),
    ],
)
def test_long_numbers_in_a_comment_are_masked(text: str, masked: str):
    assert mask_numbers_in_text(text) == masked
