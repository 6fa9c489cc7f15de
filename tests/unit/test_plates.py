"""Plate formats of api/plates.py (docs/api.md § The gate, "Plates"): what a gate officer types or a
supplier registers is normalised (spaces, ·, •, - gone; upper case; full-width folded by NFKC) and then
checked against the mainland formats. A refusal is a 400 naming `plate`.
"""
import pytest

from api import plates
from api.errors import BadInput

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


def refused(text: str) -> BadInput:
    with pytest.raises(BadInput) as caught:
        plates.check(text)
    error = caught.value
    assert error.status == 400
    assert isinstance(error.fields.get("plate"), list) and error.fields["plate"], error.fields
    return error


# --- accepted ---------------------------------------------------------------------------------

@pytest.mark.parametrize("plate", [
    "苏N12345",    # ordinary: province, letter, 5 digits
    "京A1B2C3",    # ordinary: letters among the 5
    "苏NZZZZZ",
    "苏ND12345",   # new energy, small: D third, 8 characters
    "苏NF1234X",   # new energy, small: F third
    "苏N12345D",   # new energy, large: D last
    "苏N12345F",   # new energy, large: F last
    "苏N1234警",   # police
    "苏N1234学",   # driving school
    "苏N1234挂",   # trailer
    "沪A1234领",   # consulate
    "粤Z1234港",   # Hong Kong
    "粤Z1234澳",   # Macau
    "使123456",    # embassy: 使 and 6 digits
    "WJ苏12345",   # armed police: WJ, a province, 5 letters/digits
    "WJ苏1234X",
])
def test_check__real_plate__is_accepted_as_it_is(plate):
    assert plates.check(plate) == plate


@pytest.mark.parametrize("province", list(PROVINCES))
def test_check__every_province_character__is_accepted(province):
    assert plates.check(f"{province}A12345") == f"{province}A12345"


@pytest.mark.parametrize("typed, stored", [
    ("苏n·12345", "苏N12345"),
    ("苏N 12345", "苏N12345"),
    (" 苏 N 1 2 3 4 5 ", "苏N12345"),
    ("苏N•12345", "苏N12345"),
    ("苏N-12345", "苏N12345"),
    ("京a1b2c3", "京A1B2C3"),
    ("苏nd12345", "苏ND12345"),
    ("wj苏1234x", "WJ苏1234X"),
    ("粤Z·1234港", "粤Z1234港"),
    ("苏Ｎ１２３４５", "苏N12345"),  # full-width letter and digits, folded by NFKC
])
def test_check__lower_case_spaces_dots_dashes_and_full_width__are_normalised_then_accepted(typed, stored):
    assert plates.normalise(typed) == stored
    assert plates.check(typed) == stored


def test_normalise__strips_the_separators_and_upper_cases_only():
    assert plates.normalise("苏n·1 2•3-45") == "苏N12345"
    # normalise does not judge: a non-plate comes back normalised, not refused.
    assert plates.normalise("x 12-345a") == "X12345A"


def test_normalise__is_idempotent():
    once = plates.normalise("苏n · 1234x")
    assert plates.normalise(once) == once


# --- refused ----------------------------------------------------------------------------------

@pytest.mark.parametrize("plate", [
    "X12345A",     # 7 characters but no province character first
    "中A12345",    # a Chinese character that is not a province
    "苏112345",    # the second must be a letter
    "苏N1234",     # too short
    "苏N1234567",  # too long
    "苏NA12345",   # 8 characters: neither third nor last is D or F
    "苏N12345A",   # 8 characters: last is a letter other than D/F, third is no D/F
    "苏NI2345",    # I in the serial
    "苏NO2345",    # O in the serial
    "苏N12I45",
    "苏N1234O",
    "苏N123警4",   # the special character belongs last
    "苏N12345警",  # police plates have 4 characters before 警
    "使12345",     # embassy plates have 6 digits
    "使1234567",
    "WJ苏1234",    # armed police: 5 after the province
    "WJ12345",     # armed police without a province
    "苏",
    "N12345",
])
def test_check__near_miss__is_refused_naming_plate(plate):
    refused(plate)


@pytest.mark.parametrize("plate", ["", "   ", "·", "🚗", "苏N1234🚗", "苏N12345\x00", "苏N12;345"])
def test_check__empty_emoji_or_control_characters__are_refused(plate):
    refused(plate)


def test_check__refusal_reads_in_chinese_and_english():
    error = refused("苏NI2345")
    assert error.message.strip() and error.message_en.strip() and error.message != error.message_en


def test_check__lower_case_i_in_the_serial__is_refused_after_upper_casing():
    refused("苏ni2345")
