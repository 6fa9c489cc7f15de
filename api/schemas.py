"""Request payloads: one marshmallow `<Noun>Schema` per payload, loaded and validated on the request path.

The shapes of the JSON answers are in api/responses.py, for the OpenAPI document only.

Unknown fields are refused (marshmallow's default `unknown=RAISE`). Every
message a field can produce reads "中文 / English", so the person fixing the
input is told what to do in either language.
"""
import re
import unicodedata
from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from api.errors import BadInput

# \Z, not $: "$" also matches before a trailing newline. [0-9], not \d: \d takes full-width digits.
# Mainland mobile number segments (MIIT allocations): 13x; 145-149 (140-144 are 13-digit IoT numbers);
# 15x but 154; 162, 165, 166, 167; 170-178 (170/171 and 162/165/167 resold, 174 satellite); 18x; 19x.
MOBILE_PATTERN = r"^1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-9])[0-9]{8}\Z"
# A landline with its area code: 010 and 02x take 8 digits, the 4-digit codes (0[3-9]xx) 7 or 8; a local
# number starts with 2-9 (0 is a trunk prefix, 1 the special services).
LANDLINE_PATTERN = r"^(0(?:10|2[0-9]))([2-9][0-9]{7})\Z|^(0[3-9][0-9]{2})([2-9][0-9]{6,7})\Z"
ROLES = ("resident", "volunteer", "liaison", "info_officer", "supplier", "admin", "reviewer", "gate_officer", "supervisor",
         "supply_point")
MAX_QTY = 99


def _msg(zh: str, en: str) -> str:
    return f"{zh} / {en}"


_REQUIRED = _msg("必填", "Required")
_NULL = _msg("不能为空", "Must not be null")


class _Bilingual:
    """Mixin: Chinese-first default messages for a marshmallow field."""

    default_error_messages = {"required": _REQUIRED, "null": _NULL}


class Str(_Bilingual, fields.String):
    default_error_messages = {"invalid": _msg("应为文字", "Must be a string")}


class Int(_Bilingual, fields.Integer):
    default_error_messages = {"invalid": _msg("应为整数", "Must be a whole number")}

    def __init__(self, **kwargs):
        # strict: "3" and 3.0 are refused, a quantity must be a JSON integer.
        super().__init__(strict=True, **kwargs)


class AwareDateTime(_Bilingual, fields.AwareDateTime):
    default_error_messages = {
        "invalid": _msg("应为 ISO 8601 时间，如 2026-12-01T18:00:00+08:00",
                        "Must be an ISO 8601 time such as 2026-12-01T18:00:00+08:00"),
        "invalid_awareness": _msg("时间须带时区，如 +08:00", "The time must carry a timezone, such as +08:00"),
    }

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(timezone.utc)


class Nested(_Bilingual, fields.Nested):
    default_error_messages = {"type": _msg("应为对象", "Must be an object")}


class List(_Bilingual, fields.List):
    default_error_messages = {"invalid": _msg("应为列表", "Must be a list")}


def nfkc(text: str) -> str:
    """Unicode NFKC: what an IME's full-width forms mean (３号楼 → 3号楼, ５０１ → 501, ＡＢ → AB)."""
    return unicodedata.normalize("NFKC", text)


class Name(Str):
    """A name as typed, NFKC-normalised: buildings, units, rooms, and people's and places' names.

    Full-width letters and digits become ASCII (so ３号楼 and 3号楼 are one building, ５０１ and 501
    one room), then the ends are stripped and each run of spaces, tabs or newlines becomes one space.
    Validators run on the normalised text. Free text (notes, reasons, needs) stays a plain `Str`: NFKC
    would turn its full-width punctuation (，：（）) into ASCII, which changes what a person wrote.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        return " ".join(nfkc(super()._deserialize(value, attr, data, **kwargs)).split())


_PHONE_TYPED = re.compile(r"^(?:\+86[ -]?)?(\(?[0-9][0-9 ()-]*)\Z")
_BAD_MOBILE_TEXT = _msg("手机号只能填数字（可用空格或短横线分隔），如 13812341234",
                        "A mobile number is digits only (spaces or hyphens between them are fine), e.g. 13812341234")


def _digits(text: str) -> str | None:
    """The digits of a phone as typed (NFKC first: full-width digits from an IME), spaces, hyphens and
    brackets between them folded away, a leading +86 dropped; None if anything else is in it."""
    found = _PHONE_TYPED.match(nfkc(text).strip(" "))
    return re.sub(r"[ ()-]", "", found.group(1)) if found else None


def _mobile_or_error(digits: str) -> str:
    if len(digits) != 11:
        raise ValidationError(_msg(f"手机号应为 11 位数字，这里是 {len(digits)} 位",
                                   f"A mobile number has 11 digits; this has {len(digits)}"))
    if not re.match(MOBILE_PATTERN, digits):
        raise ValidationError(_msg(f"没有 {digits[:3]} 开头的手机号段，请核对号码",
                                   f"No mainland mobile number starts with {digits[:3]}; check the number"))
    return digits


class Mobile(Str):
    """A mainland mobile number, kept as its 11 digits. Typed forms are folded, not refused: full-width
    digits, spaces or hyphens between the digits (138 1234 1234, 138-1234-1234, as people group them),
    a leading +86: none of them can make the 11 digits ambiguous. Anything else (letters, a tab, a
    newline, an extension) is refused, and the message says which rule the number breaks."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"example": "13812341234", "description": (
            "中国大陆手机号 11 位；全角数字、数字间的空格或短横线、+86 前缀可以 / A mainland mobile: 11 digits; "
            "full-width digits, spaces or hyphens between digits and a +86 prefix are accepted and folded")},
            **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        digits = _digits(super()._deserialize(value, attr, data, **kwargs))
        if digits is None:
            raise ValidationError(_BAD_MOBILE_TEXT)
        return _mobile_or_error(digits)


class PhoneOrLandline(Str):
    """A mobile, or a landline with its area code (flats without a smartphone, a contact person), or
    nothing (""). A mobile is kept as 11 digits, a landline as 区号-号码 (0710-3456789, (0710)3456789
    and 0710 3456789 all become 0710-3456789)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"example": "0710-3456789", "description": (
            "手机号，或带区号的座机，或空 / A mobile, a landline with its area code, or empty")}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not nfkc(text).strip():
            return ""
        digits = _digits(text)
        if digits is None:
            raise ValidationError(_msg("电话只能填数字（区号后可加短横线），如 13812341234 或 0710-3456789",
                                       "A phone number is digits only (a hyphen after the area code is fine), "
                                       "e.g. 13812341234 or 0710-3456789"))
        if digits.startswith("1"):
            return _mobile_or_error(digits)
        found = re.match(LANDLINE_PATTERN, digits)
        if not found:
            raise ValidationError(_msg(
                "座机请带区号：010、02x 后 8 位，其他区号（如 0710）后 7 或 8 位，如 0710-3456789",
                "A landline needs its area code: 8 digits after 010 or 02x, 7 or 8 after a 4-digit code such as "
                "0710, e.g. 0710-3456789"))
        area, number = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
        return f"{area}-{number}"


def length(min_: int, max_: int):
    return validate.Length(min=min_, max=max_, error=_msg(
        f"长度应在 {min_} 到 {max_} 之间", f"Length must be between {min_} and {max_}"))


def between(min_: int, max_: int):
    return validate.Range(min=min_, max=max_, error=_msg(
        f"应在 {min_} 到 {max_} 之间", f"Must be between {min_} and {max_}"))


class BaseSchema(Schema):
    """Refuses unknown fields and bad types with bilingual messages."""

    error_messages = {
        "unknown": _msg("不认识的字段，请删除", "Unknown field; remove it"),
        "type": _msg("应为 JSON 对象", "Must be a JSON object"),
    }


def load(schema: Schema, data) -> dict:
    """Validate `data`; a refusal becomes a 400 listing every field to fix."""
    try:
        return schema.load(data)
    except ValidationError as err:
        raise BadInput("输入有误，请按提示修改", "Invalid input; fix the fields listed",
                       fields=err.messages) from err


# --- requests ---------------------------------------------------------------

_ROOM = validate.Regexp(r"^[0-9A-Za-z-]{1,8}\Z", error=_msg("房号应为 1 到 8 位数字或字母，如 501",
                                                              "Room must be 1-8 letters or digits, e.g. 501"))


class HouseholdSchema(BaseSchema):
    """A resident registers their flat: POST /api/join/{join_key}/households."""

    building = Name(required=True, validate=length(1, 20))
    unit = Name(load_default="", validate=length(0, 20))
    room = Name(required=True, validate=_ROOM)
    phone = Mobile(required=True)
    name = Name(load_default="", validate=length(0, 20))


class StaffHouseholdSchema(BaseSchema):
    """The liaison registers a flat without a smartphone: POST /api/communities/{cid}/households."""

    building = Name(required=True, validate=length(1, 20))
    unit = Name(load_default="", validate=length(0, 20))
    room = Name(required=True, validate=_ROOM)
    phone = PhoneOrLandline(load_default="")
    name = Name(load_default="", validate=length(0, 20))


class HandoverSchema(BaseSchema):
    """Hand a flat to one of its phones: POST …/households/{flat_ref}/handover."""

    member_id = Str(required=True, validate=length(1, 40))


SPECIAL_CATEGORIES = ("elderly_alone", "disabled", "pregnant", "seriously_ill", "other")


class SpecialSchema(BaseSchema):
    """特殊人群: PUT …/households/{flat_ref}/special."""

    category = Str(required=True, validate=validate.OneOf(SPECIAL_CATEGORIES, error=_msg(
        "类别应为 独居老人 elderly_alone、残疾人 disabled、孕妇 pregnant、重病患者 seriously_ill 或 其他 other",
        "category must be elderly_alone, disabled, pregnant, seriously_ill or other")))
    note = Str(load_default="", validate=length(0, 100))
    contact_name = Name(load_default="", validate=length(0, 20))
    contact_phone = PhoneOrLandline(load_default="")
    needs = Str(load_default="", validate=length(0, 200))

    @validates_schema
    def _other_says_what(self, data, **kwargs):
        if data["category"] == "other" and not data["note"].strip():
            raise ValidationError(_msg("选择“其他”时请写明情况", "Say what the need is when the category is other"), "note")


class CheckInSchema(BaseSchema):
    """A call or visit to a special household: POST …/households/{flat_ref}/check-ins."""

    method = Str(required=True, validate=validate.OneOf(("call", "visit"), error=_msg(
        "方式应为 电话 call 或 上门 visit", "method must be call or visit")))
    outcome = Str(required=True, validate=validate.OneOf(("ok", "needs_help", "no_answer"), error=_msg(
        "结果应为 正常 ok、需要帮助 needs_help 或 未接通 no_answer", "outcome must be ok, needs_help or no_answer")))
    notes = Str(load_default="", validate=length(0, 300))
    at = AwareDateTime(load_default=None)


class SettingsSchema(BaseSchema):
    """A community's settings: PATCH /api/communities/{cid}/settings (any of them)."""

    check_in_interval_days = Int(load_default=None, validate=between(1, 30))
    fair_share_days = Int(load_default=None, validate=between(0, 30))

    @validates_schema
    def _something(self, data, **kwargs):
        if data["check_in_interval_days"] is None and data["fair_share_days"] is None:
            raise ValidationError(_msg("请至少修改一项设置", "Change at least one setting"), "check_in_interval_days")


class DistributionPointSchema(BaseSchema):
    """The community's one distribution point (配送点): PUT /api/communities/{cid}/distribution-point."""

    name = Str(required=True, validate=length(1, 40))  # a label, kept as typed, like the gate's points
    note = Str(load_default="", validate=length(0, 100))


class RosterQuerySchema(BaseSchema):
    building = Name(load_default=None, validate=length(1, 20))
    room = Name(load_default=None, validate=length(1, 8))
    round_id = Str(load_default=None, validate=length(1, 40))


class SpecialQuerySchema(BaseSchema):
    overdue = fields.Boolean(load_default=False, error_messages={
        "invalid": _msg("应为 true 或 false", "Must be true or false")})


class BundleItemSchema(BaseSchema):
    name = Str(required=True, validate=length(1, 30))
    qty = Str(required=True, validate=length(1, 10))
    unit = Str(load_default="", validate=length(0, 10))


_YUAN = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,2})?\Z")
_BAD_YUAN = _msg("价格应为元，最多两位小数，例如 12.50", "price is in yuan with at most 2 decimals, e.g. 12.50")


class Yuan(fields.String):
    """A price in yuan as people type it ("12.5", "128.00", or the number 12.5), loaded as integer fen.

    Parsed from its text, never through a float, so 12.345 is refused rather than rounded. Documented
    as a string with its pattern.
    """

    def __init__(self, **kwargs):
        super().__init__(metadata={"pattern": _YUAN.pattern[:-2] + "$", "example": "12.50",
                                   "description": "元 yuan, at most 2 decimals"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError(_BAD_YUAN)
        text = str(value).strip()
        if not _YUAN.match(text):
            raise ValidationError(_BAD_YUAN)
        whole, _, part = text.partition(".")
        fen = int(whole) * 100 + int(part.ljust(2, "0") or 0)
        if not 1 <= fen <= 10_000_000:
            raise ValidationError(_msg("价格应在 0.01 到 100000 元之间", "price must be between 0.01 and 100000 yuan"))
        return fen


class BundleSchema(BaseSchema):
    """套餐 bundle as a supplier defines it: its price in yuan (`price`) or in fen (`price_fen`)."""

    name = Str(required=True, validate=length(1, 40))
    items = List(Nested(BundleItemSchema), required=True, validate=length(1, 30))
    price = Yuan(load_default=None)
    price_fen = Int(load_default=None, validate=between(1, 10_000_000))
    stock = Int(required=True, validate=between(0, 100_000))
    per_household_limit = Int(required=True, validate=between(1, MAX_QTY))

    @validates_schema
    def _one_price(self, data, **kwargs):
        given = [name for name in ("price", "price_fen") if data.get(name) is not None]
        if len(given) == 1:
            return
        message = (_msg("请填写价格（元）", "Give the price (in yuan)") if not given
                   else _msg("价格只填一个：price（元）或 price_fen（分）", "Give price (yuan) or price_fen, not both"))
        raise ValidationError(message, "price")

    @post_load
    def _in_fen(self, data, **kwargs):
        price = data.pop("price")
        if price is not None:
            data["price_fen"] = price
        return data


class RoundSchema(BaseSchema):
    """团购轮次 round: POST /api/rounds."""

    name = Str(required=True, validate=length(1, 60))
    community_ids = List(Str(validate=length(1, 40)), required=True, validate=length(1, 200))
    supplier_id = Str(load_default=None, validate=length(1, 40))
    opens_at = AwareDateTime(required=True)
    closes_at = AwareDateTime(required=True)
    payment_deadline = AwareDateTime(required=True)
    # The payment QR: its text, or the key of an image uploaded first (POST /api/payment-qr/uploads).
    payment_qr = Str(load_default=None, validate=length(1, 1000))
    payment_qr_key = Str(load_default=None, validate=length(1, 200))
    bundles = List(Nested(BundleSchema), required=True, validate=length(1, 30))

    @validates_schema
    def _times_in_order(self, data, **kwargs):
        if data["closes_at"] <= data["opens_at"]:
            raise ValidationError(_msg("截止时间须晚于开始时间", "closes_at must be after opens_at"), "closes_at")
        if data["payment_deadline"] < data["closes_at"]:
            raise ValidationError(_msg("付款截止不能早于下单截止", "payment_deadline must not be before closes_at"),
                                  "payment_deadline")

    @validates_schema
    def _one_payment_qr(self, data, **kwargs):
        given = [name for name in ("payment_qr", "payment_qr_key") if data.get(name) is not None]
        if not given:
            message = _msg("请填写收款码文字 payment_qr，或先上传收款码图片再填 payment_qr_key",
                           "Give payment_qr (the QR's text) or payment_qr_key (an uploaded QR image)")
        elif len(given) == 2:
            message = _msg("收款码文字和收款码图片只能填一个", "Give payment_qr or payment_qr_key, not both")
        else:
            return
        raise ValidationError({"payment_qr": [message], "payment_qr_key": [message]})


class OrderLineSchema(BaseSchema):
    bundle_id = Str(required=True, validate=length(1, 40))
    qty = Int(required=True, validate=between(1, MAX_QTY))


class OrderSchema(BaseSchema):
    """An order: POST /api/orders."""

    round_id = Str(required=True, validate=length(1, 40))
    lines = List(Nested(OrderLineSchema), required=True, validate=length(1, 30))

    @validates_schema
    def _one_line_per_bundle(self, data, **kwargs):
        ids = [line["bundle_id"] for line in data["lines"]]
        if len(ids) != len(set(ids)):
            raise ValidationError(_msg("同一套餐只能出现一次，请合并数量", "List each bundle once; add up its quantity"),
                                  "lines")


class InviteSchema(BaseSchema):
    """A staff invite: POST /api/invites."""

    role = Str(required=True, validate=validate.OneOf(
        ROLES[1:], error=_msg("角色应为 volunteer、liaison、info_officer、supplier、admin、reviewer、gate_officer、supervisor 或 supply_point",
                              "role must be volunteer, liaison, info_officer, supplier, admin, reviewer, gate_officer, supervisor or supply_point")))
    scope_id = Str(required=True, validate=length(1, 40))
    name = Name(load_default="", validate=length(0, 20))


class RoundsQuerySchema(BaseSchema):
    community_id = Str(required=True, validate=length(1, 40))


LABEL_LAYOUTS = ("a4-2x5", "a4-3x7", "a4-4x10", "roll-60x40")  # api/labels.LAYOUTS; kept here off the cold path


class ExportQuerySchema(BaseSchema):
    """An export's options: GET /api/rounds/{round_id}/exports/{kind} (query) and its jobs (body).

    pdf is for labels only; layout is the label sheet or roll; status `paid` (the default) or `all_live`.
    """

    format = Str(load_default="csv", validate=validate.OneOf(
        ("csv", "xlsx", "pdf"), error=_msg("格式应为 csv、xlsx 或 pdf", "format must be csv, xlsx or pdf")))
    layout = Str(load_default="a4-3x7", validate=validate.OneOf(LABEL_LAYOUTS, error=_msg(
        "标签版式应为 " + "、".join(LABEL_LAYOUTS) + " 之一", "layout must be one of " + ", ".join(LABEL_LAYOUTS))))
    status = Str(load_default="paid", validate=validate.OneOf(("paid", "all_live"), error=_msg(
        "status 应为 paid（仅已付款）或 all_live（全部有效订单）", "status must be paid or all_live")))
    community_id = Str(load_default=None, validate=length(1, 40))
    building = Name(load_default=None, validate=length(1, 20))


ORDER_STATUSES = ("placed", "payment_claimed", "paid", "packed", "at_gate", "picked_up", "cancelled", "expired")


class PaymentClaimSchema(BaseSchema):
    """「我已付款」: POST /api/orders/{order_id}/payment-claim."""

    reference = Str(load_default="", validate=validate.Regexp(r"^([0-9]{4,6}|)\Z", error=_msg(
        "请填写交易单号的后 4 到 6 位数字，或不填", "Enter the last 4 to 6 digits of the transaction number, or nothing")))


class BoardQuerySchema(BaseSchema):
    """GET /api/rounds/{round_id}/orders."""

    status = Str(load_default=None, validate=validate.OneOf(ORDER_STATUSES, error=_msg(
        "状态应为 " + "、".join(ORDER_STATUSES) + " 之一", "status must be one of " + ", ".join(ORDER_STATUSES))))
    community_id = Str(load_default=None, validate=length(1, 40))
    building = Name(load_default=None, validate=length(1, 20))
    cursor = Str(load_default=None, validate=length(1, 2000))


class ConfirmSchema(BaseSchema):
    """POST /api/rounds/{round_id}/payments/confirm."""

    order_ids = List(Str(validate=length(1, 40)), required=True, validate=length(1, 500))
    transactions = fields.Dict(keys=Str(validate=length(1, 40)), values=Str(validate=length(1, 64)),
                               load_default=dict, error_messages={"invalid": _msg("应为对象", "Must be an object")})

    @validates_schema
    def _transactions_name_listed_orders(self, data, **kwargs):
        stray = set(data["transactions"]) - set(data["order_ids"])
        if stray:
            raise ValidationError(_msg("流水对应的订单须在 order_ids 中", "Each transaction's order must be in order_ids"),
                                  "transactions")
        numbers = list(data["transactions"].values())
        if len(numbers) != len(set(numbers)):
            raise ValidationError(_msg("一笔流水只能确认一个订单", "One transaction confirms one order"), "transactions")


class OrderReasonSchema(BaseSchema):
    """Undo a confirmation or reject a claim: the order and why."""

    order_id = Str(required=True, validate=length(1, 40))
    reason = Str(required=True, validate=length(1, 100))


class ReasonSchema(BaseSchema):
    """Why the supplier cancels an order."""

    reason = Str(required=True, validate=length(1, 100))


class PaymentQrLinkSchema(BaseSchema):
    """The signed link to a round's payment QR (see api/payment_qr.signed_url)."""

    expires = Str(load_default="", validate=length(0, 12))
    sig = Str(load_default="", validate=length(0, 64))


class UnpaidQuerySchema(BaseSchema):
    round_id = Str(load_default=None, validate=length(1, 40))


class ExemptionSchema(BaseSchema):
    """Let a household order in a round despite the fair-share rule."""

    round_id = Str(required=True, validate=length(1, 40))


class StockSchema(BaseSchema):
    """加库存: POST /api/rounds/{round_id}/bundles/{bundle_id}/stock."""

    add = Int(required=True, validate=between(1, 100_000))


class EmptySchema(BaseSchema):
    """A body with nothing in it: `{}`."""


class PackedSchema(BaseSchema):
    """已打包: POST /api/rounds/{round_id}/packed, a community or one of its buildings."""

    community_id = Str(required=True, validate=length(1, 40))
    building = Name(load_default=None, validate=length(1, 20))
    cursor = Str(load_default=None, validate=length(1, 2000))


# --- pickup day ---------------------------------------------------------------------------

class SlotGenerateSchema(BaseSchema):
    """分楼栋错峰: POST /api/communities/{cid}/rounds/{rid}/slots/generate."""

    start_at = AwareDateTime(required=True)
    minutes_per_slot = Int(required=True, validate=between(5, 240))
    households_per_slot = Int(required=True, validate=between(1, 1000))
    building_order = List(Name(validate=length(1, 20)), required=True, validate=length(1, 200))


class SlotGroupSchema(BaseSchema):
    """A building (no `unit`), one unit of it, or floors [from, to] of one unit."""

    building = Name(required=True, validate=length(1, 20))
    unit = Name(load_default=None, allow_none=True, validate=length(0, 20))
    floors = List(Int(validate=between(-5, 200)), load_default=None, allow_none=True, validate=length(2, 2))

    @validates_schema
    def _floors_in_order(self, data, **kwargs):
        floors = data.get("floors")
        if floors is not None and floors[0] > floors[1]:
            raise ValidationError(_msg("楼层应从低到高", "floors go from low to high"), "floors")
        if floors is not None and data.get("unit") is None:
            raise ValidationError(_msg("按楼层分时请同时写单元（不分单元的楼写空字符串）",
                                       "Give the unit with floors (\"\" for a building without units)"), "unit")


class SlotEditItemSchema(BaseSchema):
    slot_id = Str(load_default=None, validate=length(1, 40))
    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)
    groups = List(Nested(SlotGroupSchema), required=True, validate=length(1, 100))


class SlotEditSchema(BaseSchema):
    """Edit, move or swap slots: PUT /api/communities/{cid}/rounds/{rid}/slots (the whole list)."""

    version = Int(required=True, validate=between(1, 1_000_000))
    slots = List(Nested(SlotEditItemSchema), required=True, validate=length(1, 200))


class ArrivalSchema(BaseSchema):
    """货已到: POST /api/communities/{cid}/rounds/{rid}/arrival."""

    note = Str(load_default="", validate=length(0, 200))


class PickupSchema(BaseSchema):
    """取货: POST /api/orders/{order_id}/pickup."""

    method = Str(load_default="self", validate=validate.OneOf(("self", "door"), error=_msg(
        "method 应为 self（自取）或 door（送货上门）", "method must be self or door")))


class NoticesQuerySchema(BaseSchema):
    since = Str(load_default=None, validate=length(1, 100))


class PickupListQuerySchema(BaseSchema):
    building = Name(required=True, validate=length(1, 20))


class PushKeysSchema(BaseSchema):
    p256dh = Str(required=True, validate=length(20, 200))
    auth = Str(required=True, validate=length(8, 100))


class PushSubscriptionSchema(BaseSchema):
    """A browser's PushSubscription (its toJSON()): POST /api/push/subscriptions."""

    # Documented as checked: an https URL (a host without a dot, such as a test's, is allowed).
    endpoint = Str(required=True, metadata={"format": "uri", "pattern": "^https://"},
                   validate=[length(10, 1000), validate.URL(schemes={"https"}, require_tld=False, error=_msg(
                       "推送地址应为 https 链接", "endpoint must be an https URL"))])
    keys = Nested(PushKeysSchema, required=True)
    expirationTime = fields.Raw(load_default=None, allow_none=True)  # noqa: N815 - the browser's own name


class PushEndpointSchema(BaseSchema):
    endpoint = Str(required=True, validate=length(10, 1000))


# --- the gate (api/sites.py, api/deliveries.py, api/gate.py) ------------------------------------------

class UnloadingPointSchema(BaseSchema):
    point_id = Str(load_default=None, validate=length(1, 40))
    name = Str(required=True, validate=length(1, 40))  # a label, kept as typed: 2号卸货点（改）
    route = Str(load_default="", validate=length(0, 200))


class SiteSchema(BaseSchema):
    """开通门岗: POST /api/sites (and PUT /api/sites/{sid}, without `community_id`)."""

    community_id = Str(load_default=None, validate=length(1, 40))
    name = Str(load_default=None, validate=length(1, 40))
    lead_hours = Int(load_default=None, validate=between(1, 168))
    test_valid_hours = Int(load_default=None, validate=between(1, 168))
    rest_minutes = Int(load_default=None, validate=between(1, 240))
    disinfectant = Str(load_default=None, validate=length(1, 40))
    ratio = Str(load_default=None, validate=validate.Regexp(r"^[0-9]{1,4}:[0-9]{1,6}\Z", error=_msg(
        "配比应写成 1:100", "The ratio is written like 1:100")))
    unloading_points = List(Nested(UnloadingPointSchema), load_default=None, validate=length(0, 30))
    handover_area = Str(load_default=None, validate=length(1, 60))


class SiteEditSchema(SiteSchema):
    class Meta:
        exclude = ("community_id",)


class DocumentsSchema(BaseSchema):
    """The checklist's five files (upload keys); a missing one is named in the 400."""

    health_code = Str(load_default="", validate=length(0, 120))
    travel_record = Str(load_default="", validate=length(0, 120))
    identity = Str(load_default="", validate=length(0, 120))
    test_report = Str(load_default="", validate=length(0, 120))
    commitment = Str(load_default="", validate=length(0, 120))


class PersonSchema(BaseSchema):
    role = Str(required=True, validate=validate.OneOf(("driver", "passenger"), error=_msg(
        "应为 driver（司机）或 passenger（随车人员）", "Must be driver or passenger")))
    name = Name(required=True, validate=length(1, 20))
    id_number = Str(required=True, validate=length(1, 18))
    phone = Mobile(required=True)
    test_at = AwareDateTime(required=True)
    documents = Nested(DocumentsSchema, load_default=dict)


class DeliverySchema(BaseSchema):
    """车辆报备: POST /api/sites/{sid}/deliveries."""

    plate = Str(required=True, validate=length(1, 20))
    vehicle_type = Str(required=True, validate=validate.OneOf(
        ("van", "truck", "refrigerated", "minivan", "car", "other"),
        error=_msg("车型应为 van、truck、refrigerated、minivan、car 或 other",
                   "vehicle_type must be van, truck, refrigerated, minivan, car or other")))
    mode = Str(required=True, validate=validate.OneOf(("enter", "handover"), error=_msg(
        "应为 enter（进入卸货）或 handover（门口交接）", "Must be enter or handover")))
    arrive_from = AwareDateTime(required=True)
    arrive_until = AwareDateTime(required=True)
    cargo = List(Str(validate=validate.OneOf(
        ("rice", "flour", "oil", "meat", "eggs", "milk", "vegetables", "fresh", "protective", "urgent"),
        error=_msg("不认识的货物类别", "Unknown cargo category"))), required=True, validate=length(1, 10))
    round_ids = List(Str(validate=length(1, 40)), load_default=list, validate=length(0, 20))
    note = Str(load_default="", validate=length(0, 200))
    people = List(Nested(PersonSchema), required=True, validate=length(1, 5))


class ReviewSchema(BaseSchema):
    """审核: POST /api/sites/{sid}/deliveries/{did}/review."""

    decision = Str(required=True, validate=validate.OneOf(("approve", "reject"), error=_msg(
        "应为 approve（通过）或 reject（不通过）", "Must be approve or reject")))
    reason = Str(load_default="", validate=length(0, 200))


class GateStepSchema(BaseSchema):
    """门岗操作: POST /api/sites/{sid}/deliveries/{did}/gate."""

    action = Str(required=True, validate=validate.OneOf(
        ("arrive", "disinfect", "assign_point", "release", "unload", "depart", "set_down", "leave"),
        error=_msg("不认识的操作", "Unknown action")))
    plate = Str(load_default=None, validate=length(1, 20))
    operator = Name(load_default=None, validate=length(1, 20))
    disinfectant = Str(load_default=None, validate=length(1, 40))
    ratio = Str(load_default=None, validate=validate.Regexp(r"^[0-9]{1,4}:[0-9]{1,6}\Z", error=_msg(
        "配比应写成 1:100", "The ratio is written like 1:100")))
    point_id = Str(load_default=None, validate=length(1, 40))


class TurnAwaySchema(BaseSchema):
    """劝返: POST /api/sites/{sid}/gate/turn-away."""

    plate = Str(required=True, validate=length(1, 20))
    reason = Str(required=True, validate=length(1, 200))


DELIVERY_STATUSES = ("submitted", "approved", "rejected", "arrived", "disinfected", "routed", "released",
                     "unloaded", "departed", "set_down", "left")


class DeliveriesQuerySchema(BaseSchema):
    day = Str(load_default=None, validate=length(10, 10))
    status = Str(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES, error=_msg(
        "不认识的状态", "Unknown status")))


class GateLogQuerySchema(BaseSchema):
    day = Str(load_default=None, validate=length(10, 10))


class GateLogExportQuerySchema(BaseSchema):
    format = Str(load_default="xlsx", validate=validate.OneOf(("csv", "xlsx"), error=_msg(
        "格式应为 csv 或 xlsx", "format must be csv or xlsx")))
    from_ = Str(load_default=None, data_key="from", validate=length(10, 10))
    to = Str(load_default=None, validate=length(10, 10))


# --- the sub-district's supply chain (api/demand.py, allocations.py, stock_ledger.py, settlements.py, monitoring.py)

SUPPLY_CATEGORIES = ("rice", "flour", "oil", "meat", "eggs", "milk", "vegetables", "water", "protective", "other")
_CATEGORY = validate.OneOf(SUPPLY_CATEGORIES, error=_msg(
    "类别应为 rice、flour、oil、meat、eggs、milk、vegetables、water、protective 或 other",
    "category must be rice, flour, oil, meat, eggs, milk, vegetables, water, protective or other"))
_DAY = validate.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", error=_msg("日期应为 YYYY-MM-DD", "The day must be YYYY-MM-DD"))
_QUANTITY = between(1, 10_000_000)


class DemandLineSchema(BaseSchema):
    category = Str(required=True, validate=_CATEGORY)
    quantity = Int(required=True, validate=_QUANTITY)
    unit = Name(required=True, validate=length(1, 8))
    note = Str(load_default="", validate=length(0, 100))


class DemandReportSchema(BaseSchema):
    """需求上报: POST /api/communities/{cid}/demand."""

    day = Str(load_default=None, validate=_DAY)
    lines = List(Nested(DemandLineSchema), required=True, validate=length(1, 50))
    replace = fields.Boolean(load_default=False)


class DayQuerySchema(BaseSchema):
    day = Str(load_default=None, validate=_DAY)


class AllocationSchema(BaseSchema):
    """调拨单: POST /api/allocations."""

    category = Str(required=True, validate=_CATEGORY)
    quantity = Int(required=True, validate=_QUANTITY)
    unit = Name(required=True, validate=length(1, 8))
    spec = Str(load_default="", validate=length(0, 60))
    unit_price = Yuan(required=True)
    source = Str(required=True, validate=validate.OneOf(("supplier", "reserve"), error=_msg(
        "来源应为 supplier（供应企业）或 reserve（政府储备）", "source must be supplier or reserve")))
    supplier_id = Str(load_default=None, validate=length(1, 40))
    reserve_name = Name(load_default="", validate=length(0, 40))
    community_id = Str(required=True, validate=length(1, 40))
    deliver_at = AwareDateTime(required=True)
    contact_name = Name(required=True, validate=length(1, 20))
    contact_phone = PhoneOrLandline(required=True)


ALLOCATION_STATUSES = ("requested", "allocated", "dispatched", "received", "distributed", "settled")


class AllocationsQuerySchema(BaseSchema):
    status = Str(load_default=None, validate=validate.OneOf(ALLOCATION_STATUSES, error=_msg("不认识的状态", "Unknown status")))
    community_id = Str(load_default=None, validate=length(1, 40))


class AdvanceSchema(BaseSchema):
    """调拨单下一步: POST /api/allocations/{aid}/advance."""

    to = Str(required=True, validate=validate.OneOf(ALLOCATION_STATUSES[1:5], error=_msg(
        "应为 allocated、dispatched、received 或 distributed", "to must be allocated, dispatched, received or distributed")))
    note = Str(load_default="", validate=length(0, 200))


class DistributeTargetSchema(BaseSchema):
    kind = Str(required=True, validate=validate.OneOf(("households", "round", "special"), error=_msg(
        "应为 households、round 或 special", "Must be households, round or special")))
    text = Str(required=True, validate=length(1, 200))


class DistributeSchema(BaseSchema):
    """发放: POST /api/communities/{cid}/ledger/distribute."""

    allocation_id = Str(required=True, validate=length(1, 40))
    quantity = Int(required=True, validate=_QUANTITY)
    to = Nested(DistributeTargetSchema, required=True)
    note = Str(load_default="", validate=length(0, 200))


class CorrectionSchema(BaseSchema):
    """更正: POST /api/communities/{cid}/ledger/{line_id}/correct."""

    quantity_delta = Int(required=True, validate=[between(-10_000_000, 10_000_000), validate.NoneOf(
        (0,), error=_msg("更正数量不能为 0", "The correction must not be 0"))])
    reason = Str(required=True, validate=[length(1, 200), validate.Regexp(r"\s*\S", error=_msg(
        "请写明更正原因", "Say why the line is corrected"))])


class LedgerQuerySchema(BaseSchema):
    category = Str(load_default=None, validate=_CATEGORY)
    unit = Name(load_default=None, validate=length(1, 8))
    cursor = Str(load_default=None, validate=length(1, 400))


class SettleSchema(BaseSchema):
    """结算: POST /api/allocations/{aid}/settle."""

    price_source = Str(required=True, validate=validate.OneOf(("market", "entered"), error=_msg(
        "价格来源应为 market（当日市场价）或 entered（录入价）", "price_source must be market or entered")))
    unit_price = Yuan(load_default=None)
    reason = Str(load_default="", validate=length(0, 200))


class StatementQuerySchema(BaseSchema):
    supplier_id = Str(load_default=None, validate=length(1, 40))
    community_id = Str(load_default=None, validate=length(1, 40))
    format = Str(load_default="xlsx", validate=validate.OneOf(("xlsx", "pdf"), error=_msg(
        "格式应为 xlsx 或 pdf", "format must be xlsx or pdf")))


class CommoditySchema(BaseSchema):
    commodity_id = Str(load_default=None, validate=length(1, 40))
    name = Name(required=True, validate=length(1, 30))
    category = Str(required=True, validate=_CATEGORY)
    unit = Name(required=True, validate=length(1, 8))


class SupplyPointSchema(BaseSchema):
    """保供网点: POST /api/supply-points (and PUT /api/supply-points/{pid})."""

    name = Name(required=True, validate=length(1, 40))
    kind = Str(required=True, validate=validate.OneOf(("market", "supermarket", "shop", "enterprise"), error=_msg(
        "类型应为 market、supermarket、shop 或 enterprise", "kind must be market, supermarket, shop or enterprise")))
    address = Str(load_default="", validate=length(0, 100))
    usual_markup_pct = Int(load_default=20, validate=between(0, 200))
    commodities = List(Nested(CommoditySchema), required=True, validate=length(1, 60))


class PriceLineSchema(BaseSchema):
    commodity_id = Str(required=True, validate=length(1, 40))
    price = Yuan(required=True)
    cost = Yuan(required=True)
    stock = Int(required=True, validate=between(0, 10_000_000))
    sales = Int(required=True, validate=between(0, 10_000_000))


class PointReportSchema(BaseSchema):
    """每日报送: POST /api/supply-points/{pid}/reports."""

    day = Str(load_default=None, validate=_DAY)
    replace = fields.Boolean(load_default=False)
    lines = List(Nested(PriceLineSchema), required=True, validate=length(1, 60))


class SeriesQuerySchema(BaseSchema):
    commodity = Name(required=True, validate=length(1, 30))
    point_id = Str(load_default=None, validate=length(1, 40))
    days = fields.Integer(load_default=30, validate=between(2, 120))  # from the query string: "30"


class MarketReportsQuerySchema(BaseSchema):
    kind = Str(load_default="daily", validate=validate.OneOf(("daily", "periodic"), error=_msg(
        "应为 daily 或 periodic", "Must be daily or periodic")))

