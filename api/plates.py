"""车牌 vehicle plates and 身份证 ID numbers: the formats a gate checks against what was registered.

A plate is compared as typed at the gate with the one registered the day before, so both go through
`normalise` (NFKC for full-width characters, no spaces or dots, upper case) before the format check.
Formats (GA 36-2018): ordinary plates, new-energy plates (8 characters, D or F), and the special plates
that deliver in a lockdown (police, driving school, trailer, consulate, Hong Kong / Macau, embassy, armed police).
"""
import re
import unicodedata

from api.errors import BadInput

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_P = f"[{PROVINCES}]"
_LETTER = "[A-HJ-NP-Z]"  # I and O are never used: they read as 1 and 0
_SERIAL = "[A-HJ-NP-Z0-9]"
# Patterns, not compiled at import: only registering a vehicle and the gate's check read them, and `re`
# compiles each on first use and keeps it in its cache.
_FORMATS = (
    rf"{_P}{_LETTER}{_SERIAL}{{5}}",              # 苏N12345, 京A1B2C3
    rf"{_P}{_LETTER}[DF]{_SERIAL}{{5}}",          # new energy, small: 苏ND12345
    rf"{_P}{_LETTER}[0-9]{{5}}[DF]",              # new energy, large: 苏N12345D
    rf"{_P}{_LETTER}{_SERIAL}{{4}}[警学挂领]",     # police, driving school, trailer, consulate
    rf"粤Z{_SERIAL}{{4}}[港澳]",                   # Hong Kong and Macau vehicles
    r"使[0-9]{6}",                                # embassy
    rf"WJ{_P}{_SERIAL}{{5}}",                     # armed police
)
_DROP = r"[\s·•・.\-]"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = r"[1-9][0-9]{16}[0-9X]"


def normalise(text: str) -> str:
    """As a person may type it (苏n·12345, 苏Ｎ１２３４５) → as stored (苏N12345)."""
    return re.sub(_DROP, "", unicodedata.normalize("NFKC", text or "")).upper()


def is_plate(text: str) -> bool:
    plate = normalise(text)
    return any(re.fullmatch(f, plate) for f in _FORMATS)


def check(text: str, field: str = "plate") -> str:
    """The normalised plate, or 400 naming `field`."""
    plate = normalise(text)
    if not any(re.fullmatch(f, plate) for f in _FORMATS):
        raise BadInput("车牌号格式不对，请按行驶证填写，如 苏N12345 或新能源 苏ND12345",
                       "The plate is not a mainland plate; copy it from the registration, e.g. 苏N12345 or 苏ND12345",
                       fields={field: ["车牌号格式不对 / Not a valid plate"]})
    return plate


def is_id_number(text: str) -> bool:
    """An 18-character resident ID number (GB 11643) whose check digit is right."""
    number = (text or "").upper()
    if not re.fullmatch(_ID, number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17]


def mask_id(number: str) -> str:
    """320102********1234: enough to tell two people apart on a list, not enough to use."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}" if len(number) > 10 else "*" * len(number)
