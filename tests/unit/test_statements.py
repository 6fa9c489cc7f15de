"""api.statements: reading wallet statements (WeChat Pay, Alipay, hand-made CSV/XLSX), matching them to orders.

The CSV fixtures in tests/fixtures/statements/ are shaped like the real exports (see its README);
XLSX files are built here with openpyxl.
"""
import io
import random
import zipfile
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest

from api import statements
from api.errors import BadInput
from api.statements import MAX_BYTES, Payable, StatementRow, match, parse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statements"
BEIJING = timezone(timedelta(hours=8))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def beijing(*parts) -> datetime:
    return datetime(*parts, tzinfo=BEIJING).astimezone(timezone.utc)


def xlsx(*sheets: list[list]) -> bytes:
    """A workbook with one sheet per list of rows, as bytes."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for number, rows in enumerate(sheets, start=1):
        sheet = book.create_sheet(f"Sheet{number}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def plain(text: str, encoding: str = "utf-8") -> list[StatementRow]:
    fmt, rows = parse(text.encode(encoding))
    assert fmt == "csv"
    return rows


def by_line(rows: list[StatementRow]) -> dict[int, StatementRow]:
    return {row.line: row for row in rows}


# --- WeChat Pay bill ------------------------------------------------------------------------------

def test_parse__wechat_bill_with_preamble__reads_incoming_rows_only():
    fmt, rows = parse(fixture("wechat_bill.csv"))

    assert fmt == "wechat"
    assert [(row.line, row.amount_fen, row.counterparty) for row in rows] == [
        (19, 12800, "阿梅"), (21, 6650, "小林"), (22, 21500, "王建国"), (27, 12799, "张阿姨")]


def test_parse__wechat_bill__drops_expense_refunds_refunded_payment_and_withdrawal():
    _fmt, rows = parse(fixture("wechat_bill.csv"))

    # ¥35.00 支出, ¥12.00 美团-退款 (收入 but 已全额退款), ¥88.00 paid then refunded, ¥500.00 提现 (/)
    assert {3500, 1200, 8800, 50000}.isdisjoint(row.amount_fen for row in rows)


def test_parse__wechat_bill__duplicate_export_line_is_dropped():
    _fmt, rows = parse(fixture("wechat_bill.csv"))

    ids = [row.transaction_id for row in rows]
    assert ids.count("10001071012022112918420758231946") == 1
    assert 20 not in by_line(rows)


def test_parse__wechat_bill__yen_amounts_become_integer_fen():
    _fmt, rows = parse(fixture("wechat_bill.csv"))

    assert [row.amount_fen for row in rows] == [12800, 6650, 21500, 12799]
    assert all(type(row.amount_fen) is int for row in rows)


def test_parse__wechat_bill__transaction_ids_lose_their_tab_padding():
    _fmt, rows = parse(fixture("wechat_bill.csv"))

    assert by_line(rows)[19].transaction_id == "10001071012022112918420758231946"
    assert all("\t" not in row.transaction_id and " " not in row.transaction_id for row in rows)


def test_parse__wechat_bill__beijing_times_become_utc():
    _fmt, rows = parse(fixture("wechat_bill.csv"))

    first = by_line(rows)[19].time
    assert first == datetime(2022, 11, 29, 10, 42, 7, tzinfo=timezone.utc)
    assert first.utcoffset() == timedelta(0)


def test_parse__wechat_bill__note_comes_from_remark_and_slash_means_empty():
    _fmt, rows = parse(fixture("wechat_bill.csv"))
    lines = by_line(rows)

    assert lines[19].note == "3-2-1502 #7K3Q"
    assert lines[21].note == ""
    # A transfer with 备注 "/" whose words sit in 商品: the goods text stands in for the note.
    assert lines[22].note == "转账备注:1-1-101 #4HJW"


def test_parse__wechat_bill_with_crlf_and_no_bom__reads_the_same_rows():
    data = fixture("wechat_bill.csv").removeprefix(b"\xef\xbb\xbf").replace(b"\n", b"\r\n")

    assert parse(data) == parse(fixture("wechat_bill.csv"))


def test_parse__wechat_bill_saved_as_xlsx__is_read_as_wechat():
    text = fixture("wechat_bill.csv").decode("utf-8-sig")
    grid = [line.split(",") for line in text.splitlines()]

    fmt, rows = parse(xlsx(grid))

    assert fmt == "wechat"
    assert [(row.line, row.amount_fen) for row in rows] == [(19, 12800), (21, 6650), (22, 21500), (27, 12799)]


# --- Alipay ---------------------------------------------------------------------------------------

def test_parse__alipay_web_export_in_gbk__reads_padded_cells():
    fmt, rows = parse(fixture("alipay_web.csv"))

    assert fmt == "alipay"
    first = rows[0]
    assert (first.line, first.amount_fen, first.note) == (6, 12800, "3-2-1502 #7K3Q")
    assert first.counterparty == "阿梅"
    assert first.transaction_id == "2022112922001456781409876543"
    assert first.time == beijing(2022, 11, 29, 18, 50, 3)      # 付款时间, not 交易创建时间


def test_parse__alipay_web_export__blank_direction_with_funds_received_counts_as_income():
    _fmt, rows = parse(fixture("alipay_web.csv"))

    assert by_line(rows)[7].amount_fen == 6650


def test_parse__alipay_web_export__drops_expense_refunded_closed_unpaid_and_footer():
    _fmt, rows = parse(fixture("alipay_web.csv"))

    # 8: 支出; 9: 成功退款 88.00; 10: 交易关闭; 11: 等待付款; 12-18: the footer (共6条记录, 已收入:3笔,282.50元 …)
    assert [row.line for row in rows] == [6, 7]


def test_parse__alipay_app_export_in_gbk__reads_incoming_successful_rows():
    fmt, rows = parse(fixture("alipay_app.csv"))

    assert fmt == "alipay"
    assert [(row.line, row.amount_fen, row.note) for row in rows] == [
        (20, 21500, "1-1-101 #4HJW"), (24, 6650, "收钱码收款")]
    assert rows[0].transaction_id == "2022112922001456781411112222"
    assert rows[0].time == beijing(2022, 11, 29, 19, 3, 44)


def test_parse__alipay_app_export__drops_expense_refund_and_not_counted_rows():
    _fmt, rows = parse(fixture("alipay_app.csv"))

    assert {4550, 8800, 10000}.isdisjoint(row.amount_fen for row in rows)


def test_parse__alipay_app_export_in_utf8__is_read_the_same():
    data = fixture("alipay_app.csv").decode("gbk").encode("utf-8-sig")

    assert parse(data) == parse(fixture("alipay_app.csv"))


def test_parse__income_whose_id_also_has_a_refund_row__is_dropped():
    lines = fixture("alipay_app.csv").decode("gbk").splitlines()
    refund = ("2022-11-29 20:00:00,退款,李**,138******21,退款-收钱码收款,支出,215.00,,退款成功,"
              "2022112922001456781411112222\t,\t,,")

    _fmt, rows = parse("\n".join(lines[:19] + [refund] + lines[19:]).encode("gbk"))

    assert 21500 not in [row.amount_fen for row in rows]


# --- hand-made CSV --------------------------------------------------------------------------------

def test_parse__plain_csv_with_chinese_header_below_a_title__reads_rows():
    fmt, rows = parse(fixture("plain_zh.csv"))

    assert fmt == "csv"
    assert [(row.line, row.amount_fen, row.note, row.counterparty) for row in rows] == [
        (4, 128000, "#7K3Q", "3-2-1502"), (5, 6650, "3-2-1701 #A1B2", "3-2-1701"), (6, 12800, "", "3-1-302")]
    assert rows[0].time == beijing(2022, 11, 29, 9, 5)


def test_parse__plain_csv__negative_amounts_and_total_row_are_dropped():
    _fmt, rows = parse(fixture("plain_zh.csv"))

    assert [row.amount_fen for row in rows] == [128000, 6650, 12800]    # not -2000, not 合计 145450


def test_parse__plain_csv_in_gbk_with_date_and_time_columns__combines_them():
    fmt, rows = parse(fixture("plain_gbk.csv"))

    assert fmt == "csv"
    assert [row.time for row in rows] == [
        beijing(2022, 11, 29, 9, 5), beijing(2022, 11, 29, 21, 30), beijing(2022, 11, 30, 0, 0)]
    assert [row.amount_fen for row in rows] == [12800, 6650, 8800]


def test_parse__plain_csv__ids_guarded_for_excel_lose_quote_and_equals_sign():
    _fmt, rows = parse(fixture("plain_gbk.csv"))

    assert [row.transaction_id for row in rows] == [
        "4200001635202211290000001502", "4200001635202211290000001701", ""]


def test_parse__plain_csv_with_english_header__honours_offsets_and_status():
    fmt, rows = parse(fixture("plain_en.csv"))

    assert fmt == "csv"
    assert [(row.line, row.amount_fen, row.counterparty) for row in rows] == [
        (3, 12800, "Amy"), (4, 6650, "Bob")]
    assert [row.time for row in rows] == [datetime(2022, 11, 29, 4, 0, tzinfo=timezone.utc),
                                          datetime(2022, 11, 29, 4, 30, tzinfo=timezone.utc)]


@pytest.mark.parametrize("header", [
    "金额,备注", "金额（元）,备注", "金额(元),备注", " 收款金额 ,附言", "AMOUNT,Memo", "Amount (CNY),note", "amount\t,Remark"])
def test_parse__header_names__ignore_case_spaces_units_and_full_width_parentheses(header):
    rows = plain(f"{header}\n128.00,#7K3Q\n")

    assert [(row.amount_fen, row.note) for row in rows] == [(12800, "#7K3Q")]


@pytest.mark.parametrize("header, role, value", [
    ("交易单号", "transaction_id", "4200001"), ("流水号", "transaction_id", "4200001"),
    ("Transaction ID", "transaction_id", "4200001"), ("txn", "transaction_id", "4200001"),
    ("付款人", "counterparty", "阿梅"), ("Payer", "counterparty", "阿梅"), ("name", "counterparty", "阿梅"),
    ("留言", "note", "#7K3Q"), ("说明", "note", "#7K3Q"), ("remark", "note", "#7K3Q"),
])
def test_parse__header_names__map_to_their_fields(header, role, value):
    rows = plain(f"金额,{header}\n128,{value}\n")

    assert getattr(rows[0], role) == value


def test_parse__amount_column_alone__is_enough():
    rows = plain("收款登记\n金额\n128\n66.5\n")

    assert [(row.line, row.amount_fen, row.time, row.note) for row in rows] == [
        (3, 12800, None, ""), (4, 6650, None, "")]


def test_parse__tab_separated_sheet__is_read():
    rows = plain("时间\t金额\t备注\n2022-11-29 09:05\t128.00\t#7K3Q\n")

    assert [(row.amount_fen, row.note) for row in rows] == [(12800, "#7K3Q")]


def test_parse__plain_csv_with_direction_column__keeps_income_only():
    rows = plain("收/支,金额,备注\n收入,128,a\n支出,35,b\n,66.5,c\n/,500,d\n")

    assert [row.note for row in rows] == ["a", "c"]


def test_parse__plain_csv_in_gbk__is_read():
    rows = plain("付款人,金额,备注\n阿梅,128,3-2-1502 #7K3Q\n", encoding="gbk")

    assert (rows[0].counterparty, rows[0].note) == ("阿梅", "3-2-1502 #7K3Q")


def test_parse__quoted_cell_over_two_lines__keeps_the_line_it_starts_on():
    rows = plain('金额,备注\n128,"3-2-1502\n#7K3Q"\n66.5,x\n')

    assert [(row.line, row.note) for row in rows] == [(2, "3-2-1502\n#7K3Q"), (4, "x")]


@pytest.mark.parametrize("cell, fen", [
    ("¥128.00", 12800), ("128.5", 12850), ('"1,280.00"', 128000), ("128", 12800), ("￥66.50", 6650),
    ("128.00元", 12800), ("RMB 128", 12800), ("+128.00", 12800), ("0.01", 1), ("１２８.００", 12800),
])
def test_parse__amounts__are_read_as_integer_fen(cell, fen):
    assert [row.amount_fen for row in plain(f"金额\n{cell}\n")] == [fen]


@pytest.mark.parametrize("cell", ['"128,50"', "12.345", "1e3", "abc", "", "0", "0.00", "-128.00", "¥-1.00"])
def test_parse__cells_that_are_not_a_positive_fen_amount__are_not_rows(cell):
    assert plain(f"金额,备注\n{cell},x\n") == []


@pytest.mark.parametrize("cell, moment", [
    ("2022-11-29 12:03:11", beijing(2022, 11, 29, 12, 3, 11)),
    ("2022/11/29 12:03", beijing(2022, 11, 29, 12, 3)),
    ("2022/1/5 9:03", beijing(2022, 1, 5, 9, 3)),
    ("2022年11月29日 12:03:11", beijing(2022, 11, 29, 12, 3, 11)),
    ("2022-11-29T12:03:11+08:00", beijing(2022, 11, 29, 12, 3, 11)),
    ("2022-11-29T04:03:11Z", beijing(2022, 11, 29, 12, 3, 11)),
    ("2022-11-29 05:03:11 +0100", beijing(2022, 11, 29, 12, 3, 11)),
    ("2022-11-29", beijing(2022, 11, 29, 0, 0)),
    ("2022-11-29 00:30", datetime(2022, 11, 28, 16, 30, tzinfo=timezone.utc)),
    ("2022-13-40 10:00", None),
    ("昨天", None),
    ("", None),
])
def test_parse__times__are_beijing_unless_they_say_otherwise(cell, moment):
    assert [row.time for row in plain(f"时间,金额\n{cell},128\n")] == [moment]


# --- hand-made XLSX -------------------------------------------------------------------------------

def test_parse__xlsx_with_chinese_header_below_a_title__reads_every_cell_type():
    data = xlsx([
        ["11月29日收款"],
        [],
        ["交易时间", "付款人", "金额(元)", "备注", "交易单号"],
        [datetime(2022, 11, 29, 9, 5), "阿梅", 128, "3-2-1502 #7K3Q", "'4200001635202211290000001502"],
        ["2022-11-29 09:40:00", "小林", 66.5, None, 20221129001],
        [datetime(2022, 11, 29, 10, 2), "老周", "¥1,280.00", "  5-1-302 #9M2X  ", None],
        [None, "合计", 1474.5, None, None],
    ])

    fmt, rows = parse(data)

    assert fmt == "xlsx"
    assert [(row.line, row.amount_fen, row.note, row.counterparty) for row in rows] == [
        (4, 12800, "3-2-1502 #7K3Q", "阿梅"), (5, 6650, "", "小林"), (6, 128000, "5-1-302 #9M2X", "老周")]
    assert [row.time for row in rows] == [
        beijing(2022, 11, 29, 9, 5), beijing(2022, 11, 29, 9, 40), beijing(2022, 11, 29, 10, 2)]
    assert [row.transaction_id for row in rows] == ["4200001635202211290000001502", "20221129001", ""]


def test_parse__xlsx_id_typed_as_a_long_number__is_dropped_not_guessed():
    # Excel stored 4200001635202211290123456789 as a double; its last digits are gone.
    data = xlsx([["金额", "交易单号"], [128, 4200001635202211290123456789], [66.5, 20221129001.0]])

    assert [row.transaction_id for row in parse(data)[1]] == ["", "20221129001"]


def test_parse__xlsx_with_english_header__is_read():
    data = xlsx([["Date", "Payer", "Amount", "Memo", "Txn"],
                 [date(2022, 11, 29), "Amy", 88, "#9M2X", "T1"]])

    fmt, rows = parse(data)

    assert fmt == "xlsx"
    assert [(row.line, row.amount_fen, row.note, row.time) for row in rows] == [
        (2, 8800, "#9M2X", beijing(2022, 11, 29, 0, 0))]


def test_parse__xlsx_with_date_and_time_cells__combines_them():
    data = xlsx([["日期", "时间", "金额"], [date(2022, 11, 29), time(21, 30), 128]])

    assert parse(data)[1][0].time == beijing(2022, 11, 29, 21, 30)


def test_parse__xlsx_number_cells__become_fen_without_float_arithmetic():
    data = xlsx([["金额", "备注"], [127.99999999999999, "sum in a formula"], [0.1 + 0.2, "classic"],
                 [12.345, "not money"], [1280.0, "whole"], [True, "not a number"]])

    assert [(row.amount_fen, row.note) for row in parse(data)[1]] == [
        (12800, "sum in a formula"), (30, "classic"), (128000, "whole")]


def test_parse__xlsx__header_found_on_a_later_sheet():
    data = xlsx([["说明：本表为 11 月收款"]], [["收款金额", "留言"], [128, "#7K3Q"]])

    assert [(row.line, row.amount_fen) for row in parse(data)[1]] == [(2, 12800)]


# --- bad input ------------------------------------------------------------------------------------

def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def refused(data: bytes) -> BadInput:
    with pytest.raises(BadInput) as caught:
        parse(data)
    error = caught.value
    assert error.status == 400
    [field_message] = error.fields["file"]
    assert field_message == f"{error.message} / {error.message_en}"
    return error


def test_parse__empty_file__is_refused():
    assert "空" in refused(b"").message


def test_parse__file_over_4_mb__is_refused():
    data = b"amount\n128\n" + b"\n" * MAX_BYTES

    assert "4 MB" in refused(data).message_en


def test_parse__file_of_exactly_5_mb__is_read():
    head = b"amount\n128\n"
    _fmt, rows = parse(head + b"\n" * (MAX_BYTES - len(head)))

    assert [row.amount_fen for row in rows] == [12800]


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    b"PK\x03\x04this is not really a zip at all",
], ids=["png", "jpeg", "pdf", "broken zip"])
def test_parse__not_a_spreadsheet__is_refused(data):
    assert "not a statement spreadsheet" in refused(data).message_en


def test_parse__zip_that_is_not_xlsx__asks_to_unzip_it_first():
    data = zip_of({"微信支付账单(20221101-20221130).csv": fixture("wechat_bill.csv")})

    error = refused(data)
    assert "解压" in error.message and "unzip" in error.message_en


def test_parse__xlsx_with_a_damaged_workbook__is_refused():
    data = zip_of({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook><sheets"})

    assert "not a statement spreadsheet" in refused(data).message_en


def test_parse__old_excel_file__asks_for_xlsx_or_csv():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512

    assert ".xlsx" in refused(data).message_en


@pytest.mark.parametrize("data", [
    b"amount,note\n128,\xff\xfe\x80\n",
    "金额,备注\n128,#7K3Q\n".encode("utf-16"),
    "金额,备注\n128,#7K3Q\n".encode("utf-16-le"),
], ids=["invalid bytes", "utf-16 with bom", "utf-16 without bom"])
def test_parse__unknown_encoding__is_refused(data):
    error = refused(data)
    assert "UTF-8" in error.message and "GBK" in error.message_en


@pytest.mark.parametrize("data", [
    b"a,b,c\n1,2,3\n",
    "微信支付账单明细\n共0笔记录\n".encode("utf-8"),
    xlsx([["name", "phone"], ["阿梅", "138"]]),
], ids=["csv", "preamble only", "xlsx"])
def test_parse__no_header_row__is_refused(data):
    assert "金额" in refused(data).message


def test_parse__unclosed_quote_over_a_huge_cell__is_refused():
    data = b'amount,note\n128,"' + b"x" * 200_000 + b"\n"

    assert "CSV" in refused(data).message_en


def test_parse__xlsx_that_unzips_huge__is_refused():
    data = zip_of({"xl/workbook.xml": b"<workbook/>", "xl/sharedStrings.xml": b" " * (21 * MAX_BYTES)})

    assert len(data) < MAX_BYTES
    assert "4 MB" in refused(data).message_en


def test_parse__too_many_xlsx_rows__is_refused(monkeypatch):
    monkeypatch.setattr(statements, "_MAX_XLSX_ROWS", 3)

    assert "rows" in refused(xlsx([["金额"], [1], [2], [3]])).message_en


def test_parse__mangled_files__only_ever_raise_bad_input():
    seed = random.Random(20221129)
    samples = [fixture(name) for name in ("wechat_bill.csv", "alipay_web.csv", "alipay_app.csv")]
    samples.append(xlsx([["金额", "备注"], [128, "#7K3Q"]]))
    mangled = [sample[:cut] for sample in samples for cut in range(0, len(sample), 97)]
    mangled += [bytes(seed.randrange(256) for _ in range(seed.randrange(1, 400))) for _ in range(200)]
    mangled += [sample[:at] + bytes([seed.randrange(256)]) + sample[at + 1:]
                for sample in samples for at in seed.sample(range(len(sample)), 40)]

    for data in mangled:
        try:
            fmt, rows = parse(data)
        except BadInput:
            continue
        assert fmt in {"wechat", "alipay", "csv", "xlsx"}
        assert all(type(row.amount_fen) is int and row.amount_fen > 0 for row in rows)


# --- matching -------------------------------------------------------------------------------------

NOON = beijing(2022, 11, 29, 12, 0)
WINDOW = (beijing(2022, 11, 29, 8, 0), beijing(2022, 11, 29, 20, 0))


def row(line: int, amount_fen: int, note: str = "", transaction_id: str = "", at: datetime | None = NOON,
        counterparty: str = "") -> StatementRow:
    return StatementRow(line=line, time=at, amount_fen=amount_fen, note=note,
                        transaction_id=transaction_id or f"42000016352022112900000{line:05d}",
                        counterparty=counterparty)


def order(order_id: str, amount_fen: int, tag: str, reference: str = "") -> Payable:
    return Payable(order_id=order_id, amount_fen=amount_fen, tag=tag, reference=reference)


def outcome(preview) -> dict:
    """The preview by row line and order id, for short assertions."""
    return {
        "matched": [(r.line, order_id) for r, order_id in preview.matched],
        "ambiguous": [(r.line, ids) for r, ids in preview.ambiguous],
        "unmatched": [r.line for r in preview.unmatched],
        "waiting": preview.orders_without_payment,
    }


@pytest.mark.parametrize("note", [
    "3-2-1502 #7K3Q", "#7K3Q", "7k3q", "3-2-1502#7k3q", "3栋2单元1502号7K3Q", "＃７Ｋ３Ｑ", "7K3Q 谢谢老板"])
def test_match__note_with_tag_and_same_amount__matches(note):
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, note)], orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "A")], "ambiguous": [], "unmatched": [], "waiting": ["B"]}


def test_match__note__matches_whenever_the_row_was_paid():
    orders = [order("A", 12800, "7K3Q")]

    preview = match([row(1, 12800, "#7K3Q", at=beijing(2022, 12, 25, 9, 0))], orders, WINDOW)

    assert outcome(preview)["matched"] == [(1, "A")]


@pytest.mark.parametrize("note", ["AB7K3Q", "7K3QX", "x7k3q", "#7K3Q9", "17K3Q"])
def test_match__tag_inside_a_longer_word__is_not_a_note_match(note):
    # Both orders cost the same, so only the note could tell them apart.
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, note)], orders, WINDOW)

    assert outcome(preview)["ambiguous"] == [(1, ["A", "B"])]
    assert outcome(preview)["matched"] == []


def test_match__room_number_that_equals_another_tag__loses_to_the_marked_tag():
    orders = [order("ROOM", 12800, "1502"), order("A", 12800, "7K3Q")]

    preview = match([row(1, 12800, "3-2-1502 #7K3Q")], orders, WINDOW)

    assert outcome(preview)["matched"] == [(1, "A")]


def test_match__marked_word_that_is_no_tag__falls_back_to_the_other_words():
    orders = [order("B", 12800, "9M2X"), order("A", 12800, "7K3Q")]

    preview = match([row(1, 12800, "#3-2-1502 7K3Q")], orders, WINDOW)

    assert outcome(preview)["matched"] == [(1, "A")]


def test_match__note_beats_amount__even_for_a_later_row():
    orders = [order("A", 12800, "7K3Q")]

    preview = match([row(1, 12800, ""), row(2, 12800, "#7K3Q")], orders, WINDOW)

    assert outcome(preview) == {"matched": [(2, "A")], "ambiguous": [], "unmatched": [1], "waiting": []}


def test_match__note_with_tag_but_no_order_of_that_amount__is_unmatched():
    orders = [order("A", 12800, "7K3Q")]

    preview = match([row(1, 9900, "3-2-1502 #7K3Q")], orders, WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [], "unmatched": [1], "waiting": ["A"]}


def test_match__note_naming_an_order_of_another_amount__is_not_given_to_an_order_by_amount():
    orders = [order("A", 13000, "7K3Q"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, "#7K3Q")], orders, WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [], "unmatched": [1], "waiting": ["A", "B"]}


def test_match__second_payment_naming_a_paid_order__is_unmatched_not_given_to_another():
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, "#7K3Q"), row(2, 12800, "#7K3Q")], orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "A")], "ambiguous": [], "unmatched": [2], "waiting": ["B"]}


def test_match__two_orders_with_the_same_tag_and_amount__are_ambiguous():
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "7k3q")]

    preview = match([row(1, 12800, "#7K3Q")], orders, WINDOW)

    assert outcome(preview)["ambiguous"] == [(1, ["A", "B"])]
    assert outcome(preview)["waiting"] == ["A", "B"]


def test_match__claim_reference_that_ends_the_transaction_id__matches():
    orders = [order("A", 12800, "7K3Q", reference="456789"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, "", transaction_id="4200001635202211290123456789")], orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "A")], "ambiguous": [], "unmatched": [], "waiting": ["B"]}


def test_match__claim_reference__matches_outside_the_window():
    orders = [order("A", 12800, "7K3Q", reference="6789")]
    late = row(1, 12800, "", transaction_id="4200001635202211290123456789", at=beijing(2022, 12, 1, 9, 0))

    assert outcome(match([late], orders, WINDOW))["matched"] == [(1, "A")]


def test_match__claim_reference_with_another_amount__does_not_match():
    orders = [order("A", 12800, "7K3Q", reference="6789")]

    preview = match([row(1, 12799, "", transaction_id="4200001635202211290123456789")], orders, WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [], "unmatched": [1], "waiting": ["A"]}


def test_match__claim_reference_fitting_two_orders__is_ambiguous():
    orders = [order("A", 12800, "7K3Q", reference="6789"), order("B", 12800, "9M2X", reference="456789"),
              order("C", 12800, "QX7P")]

    preview = match([row(1, 12800, "", transaction_id="4200001635202211290123456789")], orders, WINDOW)

    assert outcome(preview)["ambiguous"] == [(1, ["A", "B"])]


@pytest.mark.parametrize("reference", ["789", "1234567", "67a9", " "])
def test_match__reference_that_is_not_4_to_6_digits__is_ignored(reference):
    orders = [order("A", 12800, "7K3Q", reference=reference), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, "", transaction_id="42000016352022112901234567a9")], orders, WINDOW)

    assert outcome(preview)["ambiguous"] == [(1, ["A", "B"])]


def test_match__amount_within_the_window_with_one_order__matches():
    orders = [order("A", 12800, "7K3Q"), order("B", 6650, "9M2X")]

    preview = match([row(1, 6650, "谢谢")], orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "B")], "ambiguous": [], "unmatched": [], "waiting": ["A"]}


@pytest.mark.parametrize("at", [WINDOW[0], WINDOW[1], None], ids=["start", "end", "no time"])
def test_match__amount__window_is_inclusive_and_a_row_without_time_is_inside(at):
    preview = match([row(1, 6650, at=at)], [order("B", 6650, "9M2X")], WINDOW)

    assert outcome(preview)["matched"] == [(1, "B")]


@pytest.mark.parametrize("at", [WINDOW[0] - timedelta(seconds=1), WINDOW[1] + timedelta(seconds=1)])
def test_match__amount_outside_the_window__is_unmatched(at):
    preview = match([row(1, 6650, at=at)], [order("B", 6650, "9M2X")], WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [], "unmatched": [1], "waiting": ["B"]}


def test_match__no_window__takes_every_time():
    preview = match([row(1, 6650, at=beijing(2020, 1, 1, 0, 0))], [order("B", 6650, "9M2X")])

    assert outcome(preview)["matched"] == [(1, "B")]


def test_match__naive_window__is_read_as_utc():
    window = (datetime(2022, 11, 29, 0, 0), datetime(2022, 11, 29, 4, 0))   # 08:00-12:00 Beijing

    preview = match([row(1, 6650, at=NOON)], [order("B", 6650, "9M2X")], window)

    assert outcome(preview)["matched"] == [(1, "B")]


def test_match__two_orders_with_the_same_amount__are_ambiguous_and_both_still_wait():
    orders = [order("A", 12800, "7K3Q"), order("X", 6650, "QX7P"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800), row(2, 12800)], orders, WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [(1, ["A", "B"]), (2, ["A", "B"])],
                                "unmatched": [], "waiting": ["A", "X", "B"]}


def test_match__amount__an_order_matched_by_note_is_no_longer_a_candidate():
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "9M2X")]

    preview = match([row(1, 12800, ""), row(2, 12800, "#7K3Q")], orders, WINDOW)

    assert outcome(preview)["matched"] == [(1, "B"), (2, "A")]


def test_match__two_rows_for_one_order_by_amount__the_first_matches_the_second_is_unmatched():
    preview = match([row(1, 6650), row(2, 6650)], [order("B", 6650, "9M2X")], WINDOW)

    assert outcome(preview) == {"matched": [(1, "B")], "ambiguous": [], "unmatched": [2], "waiting": []}


@pytest.mark.parametrize("amount_fen", [12799, 12801, 1280, 128000])
def test_match__near_miss_amounts__never_match(amount_fen):
    orders = [order("A", 12800, "7K3Q", reference="6789")]
    rows = [row(1, amount_fen, "#7K3Q", transaction_id="4200001635202211290123456789")]

    preview = match(rows, orders, WINDOW)

    assert outcome(preview) == {"matched": [], "ambiguous": [], "unmatched": [1], "waiting": ["A"]}


def test_match__the_same_transaction_id_twice__confirms_one_order_only():
    twice = "4200001635202211290123456789"
    orders = [order("A", 12800, "7K3Q"), order("B", 12800, "9M2X")]

    rows = [row(1, 12800, "#7K3Q", transaction_id=twice), row(2, 12800, "#9M2X", transaction_id=twice)]

    preview = match(rows, orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "A")], "ambiguous": [], "unmatched": [2], "waiting": ["B"]}


def test_match__rows_without_transaction_id__are_not_taken_for_repeats():
    rows = [StatementRow(1, NOON, 12800, "#7K3Q", "", ""), StatementRow(2, NOON, 6650, "#9M2X", "", "")]

    preview = match(rows, [order("A", 12800, "7K3Q"), order("B", 6650, "9M2X")], WINDOW)

    assert outcome(preview)["matched"] == [(1, "A"), (2, "B")]


def test_match__results_follow_row_order_and_orders_keep_input_order():
    orders = [order("C", 500, "CCCC"), order("A", 12800, "7K3Q"), order("B", 6650, "9M2X"),
              order("D", 700, "DDDD")]
    rows = [row(1, 6650), row(2, 999), row(3, 12800, "#7K3Q")]

    preview = match(rows, orders, WINDOW)

    assert outcome(preview) == {"matched": [(1, "B"), (3, "A")], "ambiguous": [], "unmatched": [2],
                                "waiting": ["C", "D"]}


def test_match__same_input__same_output():
    orders = [order(f"O{n}", 1000 * (n % 4 + 1), f"T{n:03d}", reference=f"{n:04d}" if n % 3 else "")
              for n in range(40)]
    rows = [row(n, 1000 * (n % 5 + 1), f"#T{n:03d}" if n % 2 else "", transaction_id=f"42000{n:06d}")
            for n in range(1, 60)]

    first = match(rows, orders, WINDOW)

    assert all(match(list(rows), list(orders), WINDOW) == first for _ in range(5))
    every_row = [r for r, _ in first.matched] + [r for r, _ in first.ambiguous] + first.unmatched
    assert sorted(r.line for r in every_row) == list(range(1, 60))
    paid = [order_id for _, order_id in first.matched]
    assert len(paid) == len(set(paid))
    assert set(paid).isdisjoint(first.orders_without_payment)


def test_match__wechat_bill_against_a_round__gives_the_preview():
    _fmt, rows = parse(fixture("wechat_bill.csv"))
    orders = [
        order("01GQ-A", 12800, "7K3Q"),                        # note on line 19
        order("01GQ-B", 21500, "4HJW"),                        # tag in the transfer's goods text, line 22
        order("01GQ-C", 6650, "A1B2", reference="417720"),     # claimed; line 21 ends with 417720
        order("01GQ-D", 12800, "QX7P"),                        # line 27 paid ¥127.99: a near miss
        order("01GQ-E", 9900, "9M2X"),                         # paid then refunded: no row
    ]

    preview = match(rows, orders, (beijing(2022, 11, 28, 0, 0), beijing(2022, 11, 30, 0, 0)))

    assert outcome(preview) == {"matched": [(19, "01GQ-A"), (21, "01GQ-C"), (22, "01GQ-B")], "ambiguous": [],
                                "unmatched": [27], "waiting": ["01GQ-D", "01GQ-E"]}


def test_match__a_row_naming_a_closed_order__is_never_offered_to_another_order():
    # 7K3Q was confirmed by hand (or cancelled): its row must not pay the open order of the same amount.
    rows = [row(1, 12800, note="3-2-1502 #7K3Q")]
    preview = match(rows, [order("open", 12800, "AAAA")], WINDOW, closed=[order("closed", 12800, "7K3Q")])

    assert preview.matched == [] and preview.ambiguous == []
    assert [r.line for r in preview.unmatched] == [1]
    assert preview.orders_without_payment == ["open"]


def test_match__closed_orders__do_not_hide_a_row_without_a_note():
    preview = match([row(1, 12800)], [order("open", 12800, "AAAA")], WINDOW, closed=[order("closed", 12800, "7K3Q")])

    assert [(r.line, oid) for r, oid in preview.matched] == [(1, "open")]
