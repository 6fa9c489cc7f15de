"""Wallet statements: read a supplier's exported statement and match its rows to a round's orders.

Residents pay the supplier's personal WeChat Pay / Alipay QR. To see who paid, the supplier uploads
the statement their wallet exports. This module owns:

- `parse`: the bytes of that file -> the incoming, successful rows. It reads the WeChat Pay bill
  (UTF-8 CSV), both Alipay CSV layouts (GBK; web and app exports) and a hand-made CSV or XLSX
  whose header row names the columns in Chinese or English.
- `match`: rows + the round's orders -> a preview (matched, ambiguous, unmatched, unpaid orders).

Pure domain code: no HTTP, no storage, and nothing is confirmed here. Money is integer fen and is
read with string logic, never floats. Times are timezone-aware UTC; statements are read as Beijing
time unless a cell carries its own offset.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

from api.clock import SHANGHAI
from api.errors import BadInput

# 4 MB: a file reaches a deployed Lambda base64-encoded (4/3 its size) inside the 6 MB a synchronous
# invocation takes, so a larger one could never arrive; a round's statement is a few hundred KB.
MAX_BYTES = 4 * 1024 * 1024

# The header is near the top: WeChat has ~17 preamble lines, Alipay's app export ~25.
_HEADER_SCAN_ROWS = 100
# A 4 MB xlsx can unzip into millions of rows, while a supplier's statement has thousands at
# most. openpyxl reads ~12k rows a second here: the cap keeps an upload well inside API Gateway's 29 s.
_MAX_XLSX_ROWS = 50_000
_MAX_XLSX_UNZIPPED = 20 * MAX_BYTES


@dataclass(frozen=True)
class StatementRow:
    line: int                  # 1-based line (CSV) or row (XLSX) number, for people to find it
    time: datetime | None      # timezone-aware UTC
    amount_fen: int
    note: str
    transaction_id: str
    counterparty: str


@dataclass(frozen=True)
class Payable:
    order_id: str
    amount_fen: int
    tag: str                   # 4 Crockford base32 characters, e.g. "7K3Q"
    reference: str             # last 4-6 digits of the transaction number the resident claimed, or ""


@dataclass(frozen=True)
class Preview:
    matched: list[tuple[StatementRow, str]]
    ambiguous: list[tuple[StatementRow, list[str]]]
    unmatched: list[StatementRow]
    orders_without_payment: list[str]


# ---------------------------------------------------------------------------------------------
# Errors: each says what to do about it, in Chinese with the English alongside.

def _bad_file(message: str, message_en: str) -> BadInput:
    return BadInput(message, message_en, fields={"file": [f"{message} / {message_en}"]})


def _empty() -> BadInput:
    return _bad_file("文件是空的，请重新导出账单后上传",
                     "The file is empty; export the statement again and upload it")


def _too_big() -> BadInput:
    return _bad_file("文件超过 4 MB，请缩短账单的起止时间后重新导出",
                     "The file is larger than 4 MB; export a shorter date range")


def _not_spreadsheet() -> BadInput:
    return _bad_file("这不是账单表格，请上传微信或支付宝导出的 CSV 文件，或 Excel（.xlsx）表格",
                     "This is not a statement spreadsheet; upload the CSV exported from WeChat Pay "
                     "or Alipay, or an Excel (.xlsx) sheet")


def _old_excel() -> BadInput:
    return _bad_file("不支持旧版或加密的 Excel 文件，请在 Excel 中另存为 .xlsx 或 CSV 后上传",
                     "Old (.xls) or encrypted Excel files are not supported; save it as .xlsx "
                     "or CSV and upload that")


def _archive() -> BadInput:
    return _bad_file("这是压缩包，请先解压（微信账单的解压密码在微信支付的通知里），再上传里面的 CSV 文件",
                     "This is a zip archive; unzip it first (WeChat Pay sends the password in a "
                     "WeChat message) and upload the CSV inside")


def _unknown_encoding() -> BadInput:
    return _bad_file("无法识别文件的文字编码，请另存为 UTF-8 或 GBK 编码的 CSV 后上传",
                     "Unknown text encoding; save the file as CSV in UTF-8 or GBK and upload it")


def _unreadable_csv() -> BadInput:
    return _bad_file("文件无法按 CSV 读取（可能有未闭合的引号），请重新导出账单后上传",
                     "The file cannot be read as CSV (perhaps an unclosed quote); export the "
                     "statement again and upload it")


def _too_many_rows() -> BadInput:
    return _bad_file(f"表格超过 {_MAX_XLSX_ROWS} 行，请缩短账单的起止时间后重新导出",
                     f"The sheet has more than {_MAX_XLSX_ROWS} rows; export a shorter date range")


def _no_header() -> BadInput:
    return _bad_file("找不到表头：需要一行列名，其中有“金额”列。请上传微信或支付宝导出的原始账单，"
                     "或在表格中加一行列名，如 时间、金额、备注、交易单号",
                     "No header row found: a row of column names with an amount column is needed. "
                     "Upload the statement as your wallet exported it, or add a header row such as "
                     "time, amount, note, transaction id")


# ---------------------------------------------------------------------------------------------
# parse

def parse(data: bytes) -> tuple[str, list[StatementRow]]:
    """(format, incoming rows). format is "wechat", "alipay", "csv" or "xlsx".

    Keeps only money coming in that succeeded; drops outgoing, neutral, refunded, failed or closed
    rows, and rows whose transaction_id repeats an earlier kept row (a duplicate export line).
    """
    if not data:
        raise _empty()
    if len(data) > MAX_BYTES:
        raise _too_big()
    if data.startswith(b"PK\x03\x04"):
        container, table = "xlsx", _xlsx_table(data)
    else:
        _refuse_binary(data)
        container, table = "csv", _csv_table(_decode(data))
    if table is None:
        raise _no_header()
    return table.layout or container, _incoming_rows(table)


_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"BM", b"RIFF", b"\x1f\x8b",
                 b"Rar!", b"7z\xbc\xaf")


def _refuse_binary(data: bytes) -> None:
    if data.startswith(b"\xd0\xcf\x11\xe0"):   # OLE2: .xls, or an xlsx with a password
        raise _old_excel()
    if data.startswith(_BINARY_MAGIC):
        raise _not_spreadsheet()


def _decode(data: bytes) -> str:
    # Text CSV never holds NUL; UTF-16 does, and GB18030 would otherwise "decode" it as ASCII.
    if b"\x00" in data:
        raise _unknown_encoding()
    # UTF-8 first: GBK bytes are almost never valid UTF-8, while the reverse often is.
    # GB18030 is a superset of GBK, so it also reads the odd character GBK lacks.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _unknown_encoding()


# --- reading cells into a grid of (line, cells) -------------------------------------------------

def _csv_table(text: str) -> _Table | None:
    # Commas first (every wallet export); tabs or semicolons for a sheet saved by hand.
    for delimiter in (",", "\t", ";"):
        table = _find_table(_csv_grid(text, delimiter))
        if table is not None:
            return table
    return None


def _csv_grid(text: str, delimiter: str) -> list[tuple[int, list]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid, start = [], 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                grid.append((start, cells))     # the line a record starts on, not where it ends
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _unreadable_csv() from exc
    return grid


def _xlsx_table(data: bytes) -> _Table | None:
    _require_workbook(data)
    # Imported here: only xlsx uploads pay for loading openpyxl.
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return _first_sheet_table(book)
        finally:
            book.close()
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001
        # openpyxl has no error of its own for a damaged file: it raises KeyError, ValueError,
        # TypeError, XML parse and zip errors. Every one of them means "not a sheet we can read".
        raise _not_spreadsheet() from exc


def _require_workbook(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _not_spreadsheet() from exc
    if "xl/workbook.xml" not in {member.filename for member in members}:
        raise _archive()
    # openpyxl holds the shared strings in memory: refuse a zip bomb before it unpacks.
    if sum(member.file_size for member in members) > _MAX_XLSX_UNZIPPED:
        raise _too_big()


def _first_sheet_table(book) -> _Table | None:
    for sheet in book.worksheets:
        table = _find_table(_sheet_grid(sheet))
        if table is not None:
            return table
    return None


def _sheet_grid(sheet) -> list[tuple[int, list]]:
    grid = []
    # read-only iter_rows yields the gaps as empty rows, so the count is the sheet's row number
    for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
        if number > _MAX_XLSX_ROWS:
            raise _too_many_rows()
        if any(_text(value) for value in values):
            grid.append((number, list(values)))
    return grid


# --- finding the header --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Table:
    layout: str | None                  # "wechat" or "alipay"; None for a hand-made sheet
    columns: dict[str, list[int]]       # role -> column indexes, the preferred header first
    body: list[tuple[int, list]]        # (line, cells) after the header


# Header names per role, normalised by _header_name, most specific first.
_ROLES = {
    "amount": ["金额", "收款金额", "交易金额", "收入金额", "实收金额", "amount", "sum"],
    "time": ["交易时间", "付款时间", "收款时间", "交易创建时间", "时间", "日期时间", "datetime",
             "time", "timestamp"],
    "date": ["日期", "交易日期", "付款日期", "收款日期", "date"],
    "note": ["备注", "附言", "留言", "说明", "付款说明", "转账说明", "note", "notes", "memo",
             "remark", "remarks", "comment", "message"],
    # The goods text: read as the note only when the note is empty, since some transfers carry
    # the payer's words here while most rows hold boilerplate like 收钱码收款.
    "goods": ["商品", "商品说明", "商品名称", "description"],
    "transaction_id": ["交易单号", "交易号", "交易订单号", "订单号", "流水号", "交易流水号",
                       "transaction", "transactionid", "transactionno", "txn", "txnid", "tradeno"],
    "counterparty": ["交易对方", "付款人", "付款方", "对方", "对方户名", "姓名", "payer", "name",
                     "counterparty"],
    "direction": ["收/支", "收支", "收支类型", "direction", "in/out"],
    "status": ["当前状态", "交易状态", "状态", "status"],
    "kind": ["交易类型", "类型", "交易分类"],
    "refunded": ["成功退款", "退款金额", "refunded"],
    "funds": ["资金状态"],
}

# The wallet exports, told apart by header names only they have.
_LAYOUTS = (
    ("wechat", [{"交易类型", "当前状态", "交易单号", "收/支"}]),
    ("alipay", [{"交易号", "交易状态", "资金状态", "收/支"},           # web export
                {"交易订单号", "交易分类", "交易状态", "收/支"}]),     # app export
)


def _header_name(cell) -> str:
    name = unicodedata.normalize("NFKC", _text(cell)).lower()   # NFKC: （元） -> (元)
    name = re.sub(r"[\s_]", "", name)
    return re.sub(r"\([^()]*\)$", "", name)                     # 金额(元) -> 金额, amount(cny) -> amount


def _find_table(grid: list[tuple[int, list]]) -> _Table | None:
    """The first row naming an amount column and another role; else the first naming an amount."""
    fallback = None
    for position, (_line, cells) in enumerate(grid[:_HEADER_SCAN_ROWS]):
        names = [_header_name(cell) for cell in cells]
        columns = _columns(names)
        if "amount" not in columns:
            continue
        table = _Table(_layout(set(names)), columns, grid[position + 1:])
        if table.layout or len(columns) >= 2:
            return table
        fallback = fallback or table
    return fallback


def _columns(names: list[str]) -> dict[str, list[int]]:
    columns = {}
    for role, aliases in _ROLES.items():
        found = [index for alias in aliases for index, name in enumerate(names) if name == alias]
        if found:
            columns[role] = list(dict.fromkeys(found))
    return columns


def _layout(names: set[str]) -> str | None:
    for layout, signatures in _LAYOUTS:
        if any(signature <= names for signature in signatures):
            return layout
    return None


# --- reading rows --------------------------------------------------------------------------------

def _incoming_rows(table: _Table) -> list[StatementRow]:
    reversed_ids = _refunded_transaction_ids(table)
    rows, seen = [], set()
    for line, cells in table.body:
        row = _row(table, line, cells)
        if row is None or not _is_incoming(table, cells):
            continue
        if row.transaction_id:
            # A repeat is a duplicate export line; an id also on a refund row was given back.
            if row.transaction_id in seen or row.transaction_id in reversed_ids:
                continue
            seen.add(row.transaction_id)
        rows.append(row)
    return rows


def _row(table: _Table, line: int, cells: list) -> StatementRow | None:
    amount = _fen(_cell(table, cells, "amount"))
    if amount is None or amount <= 0 or _is_total_line(cells):
        return None
    return StatementRow(
        line=line,
        time=_row_time(table, cells),
        amount_fen=amount,
        note=_note(table, cells),
        transaction_id=_transaction_id(table, cells),
        counterparty=_blank_dash(_first_text(table, cells, "counterparty")),
    )


def _cell(table: _Table, cells: list, role: str, which: int = 0):
    indexes = table.columns.get(role, [])
    if which >= len(indexes) or indexes[which] >= len(cells):
        return None
    return cells[indexes[which]]


def _cells(table: _Table, cells: list, role: str) -> list:
    return [_cell(table, cells, role, which) for which in range(len(table.columns.get(role, [])))]


def _first_text(table: _Table, cells: list, role: str) -> str:
    return next((text for text in map(_text, _cells(table, cells, role)) if text), "")


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()     # str.strip also takes the tabs and ideographic spaces


def _blank_dash(text: str) -> str:
    # The wallets write "/" (WeChat) or "-" for an empty cell.
    return "" if text in {"/", "-", "--"} else text


def _note(table: _Table, cells: list) -> str:
    for role in ("note", "goods"):
        parts = [_blank_dash(_text(value)) for value in _cells(table, cells, role)]
        text = " ".join(dict.fromkeys(part for part in parts if part))
        if text:
            return text
    return ""


def _transaction_id(table: _Table, cells: list) -> str:
    value = next((value for value in _cells(table, cells, "transaction_id") if _text(value)), None)
    return _id_of_number(value) if isinstance(value, float) else _clean_id(_text(value))


def _id_of_number(value: float) -> str:
    # Excel keeps numbers as doubles: past 2**53 an id's last digits are gone, and wrong last
    # digits could match someone's claim reference. Better no id than a wrong one.
    exact = Decimal(value)
    if not exact.is_finite() or exact != exact.to_integral_value() or abs(exact) >= 2 ** 53:
        return ""
    return str(int(exact))


def _clean_id(text: str) -> str:
    # WeChat pads ids with a tab and people paste them as '4200… or ="4200…" to keep Excel
    # from turning them into 4.2E+27.
    text = re.sub(r"\s", "", text).lstrip("'=").strip('"')
    return _blank_dash(text)


_TOTAL_LABELS = {"合计", "总计", "小计", "共计", "total", "subtotal", "sum"}


def _is_total_line(cells: list) -> bool:
    # A hand-made sheet often ends with a 合计 row; it is a sum, not a payment.
    return any(_text(cell).lower().rstrip(":：") in _TOTAL_LABELS for cell in cells)


# --- keeping only money that came in -------------------------------------------------------------

_INCOMING = {"收入", "已收入", "收", "入", "收款", "in", "income", "incoming", "credit", "received"}
_FAILED = ("退款", "退还", "已退", "关闭", "失败", "撤销", "取消", "冻结", "等待", "待", "处理中", "未",
           "拒", "超时", "refund", "fail", "closed", "cancel", "pending", "reversed", "declined",
           "unpaid")
_SUCCEEDED = ("成功", "已收钱", "已收款", "已存入", "已到账", "已入账", "已收入", "完成",
              "success", "paid", "complete", "received")


def _is_incoming(table: _Table, cells: list) -> bool:
    status = _text(_cell(table, cells, "status")).lower()
    if _mentions(status, _FAILED) or _is_refund(table, cells):
        return False
    # The Alipay web export leaves 收/支 blank on some rows; 资金状态 then says 已收入.
    direction = (_text(_cell(table, cells, "direction")) or
                 _text(_cell(table, cells, "funds"))).lower()
    if table.layout:
        # A wallet export always says both; anything else ("/", 不计收支, 支出) is not income.
        return direction in _INCOMING and _mentions(status, _SUCCEEDED)
    # A hand-made sheet: a positive amount is income unless a 收/支 column says otherwise.
    return not direction or direction in _INCOMING


def _is_refund(table: _Table, cells: list) -> bool:
    refunded = _fen(_cell(table, cells, "refunded"))
    return _mentions(_text(_cell(table, cells, "kind")).lower(), ("退款", "refund")) or \
        bool(refunded and refunded > 0)


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _refunded_transaction_ids(table: _Table) -> set[str]:
    ids = set()
    for _line, cells in table.body:
        status = _text(_cell(table, cells, "status")).lower()
        if _is_refund(table, cells) or _mentions(status, ("退款", "退还", "refund")):
            ids.add(_transaction_id(table, cells))
    ids.discard("")
    return ids


# --- money ---------------------------------------------------------------------------------------

_PLAIN_AMOUNT = re.compile(r"([+-]?)(\d+)(?:\.(\d{1,2}))?")
_GROUPED_AMOUNT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?")
_FEN = Decimal("0.01")


def _fen(value) -> int | None:
    """Yuan as written ("¥128.00", "128.5", "1,280.00", "-20") -> integer fen; None if not money."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value * 100
    if isinstance(value, float):
        return _fen_of_number_cell(value)
    text = unicodedata.normalize("NFKC", str(value))                 # ￥ -> ¥, full-width digits
    text = re.sub(r"\s|¥|元|rmb|cny", "", text, flags=re.IGNORECASE)
    if "," in text:
        # Only thousands separators: "128,50" is not 12,850 yuan.
        if not _GROUPED_AMOUNT.fullmatch(text):
            return None
        text = text.replace(",", "")
    found = _PLAIN_AMOUNT.fullmatch(text)
    if found is None:
        return None
    sign, yuan, decimals = found.groups()
    fen = int(yuan) * 100 + int((decimals or "").ljust(2, "0"))
    return -fen if sign == "-" else fen


def _fen_of_number_cell(value: float) -> int | None:
    # openpyxl hands a number cell over as a binary float. Decimal(value) is its exact value;
    # a sum in a formula may sit a hair off the fen (127.99999999999999), so take the nearest fen
    # only when it is that close, and never do arithmetic on the float itself.
    exact = Decimal(value)
    if not exact.is_finite():
        return None
    try:
        fen = exact.quantize(_FEN)
    except InvalidOperation:        # too many digits for the context
        return None
    if abs(exact - fen) > Decimal("0.000001"):
        return None
    return int(fen * 100)


# --- time ----------------------------------------------------------------------------------------

_MOMENT = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[T\s]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"
    r"\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?")


def _row_time(table: _Table, cells: list) -> datetime | None:
    """The first time column that reads (the Alipay web export leaves 付款时间 blank on unpaid rows).

    A hand-made sheet may split 日期 and 时间 into two columns; a date alone is that midnight.
    """
    day_value = next((value for value in _cells(table, cells, "date") if _text(value)), None)
    day = _as_date(day_value)
    for value in _cells(table, cells, "time"):
        clock = _as_clock(value)
        moment = _as_datetime(value) or (datetime.combine(day, clock) if day and clock else None)
        if moment is not None:
            return _utc(moment)
    moment = _as_datetime(day_value)      # the date column may hold the whole time
    return _utc(moment) if moment is not None else None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(timezone.utc)


def _as_datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if value is None or isinstance(value, (time, int, float)):
        return None
    found = _MOMENT.fullmatch(unicodedata.normalize("NFKC", str(value)).strip())
    if found is None:
        return None
    year, month, day_, hour, minute, second, zone = found.groups()
    try:
        return datetime(int(year), int(month), int(day_), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=_zone(zone))
    except ValueError:          # 2022-13-40, 25:00
        return None


def _as_date(value) -> date | None:
    moment = _as_datetime(value)
    return moment.date() if moment is not None else None


def _as_clock(value) -> time | None:
    if isinstance(value, time):
        return value
    found = _CLOCK.fullmatch(_text(value))
    if found is None:
        return None
    hour, minute, second = found.groups()
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError:
        return None


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None         # naive: the caller reads it as Beijing time
    if text.lower() in {"z", "utc", "gmt"}:
        return timezone.utc
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-offset if text[0] == "-" else offset)


# ---------------------------------------------------------------------------------------------
# match

def match(rows: list[StatementRow], orders: list[Payable],
          window: tuple[datetime, datetime] | None = None, closed: list[Payable] = ()) -> Preview:
    """Match statement rows to orders: by payment note, then claim reference, then amount in window.

    Each row confirms at most one order and each order gets at most one row; amounts must be
    equal to the fen. A row whose note names an order's tag is only ever matched to that order
    (if the amounts differ or another row paid it already, it stays unmatched for a person to
    look at). That holds for the `closed` orders too (confirmed by hand, cancelled, expired): a
    row naming one of them is never offered to another order. A row that repeats an earlier
    row's transaction id matches nothing.
    """
    matching = _Matching(rows, orders, closed)
    matching.run(window)
    return matching.preview()


class _Matching:
    def __init__(self, rows: list[StatementRow], orders: list[Payable], closed: list[Payable] = ()):
        self.rows = list(rows)
        self.orders = list(orders)
        self.closed_tags = {_normal_tag(order.tag) for order in closed} - {""}
        self.position: dict[str, int] = {}
        for index, order in enumerate(self.orders):
            self.position.setdefault(order.order_id, index)
        self.by_tag = _index(orders, lambda order: _normal_tag(order.tag))
        self.by_reference = _index(orders, lambda order: _valid_reference(order.reference))
        self.by_amount = _index(orders, lambda order: order.amount_fen)
        self.paid: set[str] = set()                            # order ids a row has matched
        self.decided: dict[int, tuple[str, list[str]]] = {}    # row index -> (kind, order ids)

    def run(self, window: tuple[datetime, datetime] | None) -> None:
        unnamed = []
        for index in _first_of_each_transaction(self.rows):
            named = self._named(self.rows[index])
            if named:
                # A note that names an order is trusted over any guess: if that order's amount
                # differs or another row already paid it, a person must look, so stop here.
                self._decide(index, named)
            else:
                unnamed.append(index)
        left = [index for index in unnamed
                if not self._decide(index, self._by_reference(self.rows[index]))]
        for index in left:
            if _inside(self.rows[index].time, window):
                self._decide(index, self.by_amount.get(self.rows[index].amount_fen, []))

    def _named(self, row: StatementRow) -> list[Payable]:
        # Words marked with "#" first (our note is "3-2-1502 #7K3Q"), so the room 1502 is never
        # read as a tag 1502; the other words only when no marked word is a known tag.
        for tags in _note_tags(row.note):
            orders = [order for tag in tags for order in self.by_tag.get(tag, [])]
            if orders:
                return self._in_order(orders)
            if any(tag in self.closed_tags for tag in tags):
                return [_CLOSED]  # names an order that cannot be paid now: nobody else's payment
        return []

    def _by_reference(self, row: StatementRow) -> list[Payable]:
        txn = row.transaction_id
        orders = [order for length in (4, 5, 6) if len(txn) >= length
                  for order in self.by_reference.get(txn[-length:], [])]
        return self._in_order(orders)

    def _in_order(self, orders: list[Payable]) -> list[Payable]:
        unique = {order.order_id: order for order in orders}
        return sorted(unique.values(), key=lambda order: self.position[order.order_id])

    def _decide(self, index: int, candidates: list[Payable]) -> bool:
        """Matched if exactly one unpaid candidate has the row's amount, ambiguous if several."""
        amount = self.rows[index].amount_fen
        fitting = [order.order_id for order in candidates
                   if order.amount_fen == amount and order.order_id not in self.paid]
        if len(fitting) == 1:
            self.decided[index] = ("matched", fitting)
            self.paid.add(fitting[0])
        elif fitting:
            self.decided[index] = ("ambiguous", fitting)
        return bool(fitting)

    def preview(self) -> Preview:
        matched, ambiguous, unmatched = [], [], []
        for index, row in enumerate(self.rows):
            kind, order_ids = self.decided.get(index, ("unmatched", []))
            if kind == "matched":
                matched.append((row, order_ids[0]))
            elif kind == "ambiguous":
                ambiguous.append((row, order_ids))
            else:
                unmatched.append(row)
        waiting = [order.order_id for order in self.orders if order.order_id not in self.paid]
        return Preview(matched, ambiguous, unmatched, list(dict.fromkeys(waiting)))


# Stands for a closed order a row names: no amount equals it, so the row stays unmatched.
_CLOSED = Payable(order_id="", amount_fen=-1, tag="", reference="")


def _index(orders: list[Payable], key) -> dict:
    index: dict = {}
    for order in orders:
        value = key(order)
        if value not in ("", None):
            index.setdefault(value, []).append(order)
    return index


def _first_of_each_transaction(rows: list[StatementRow]) -> list[int]:
    # One transaction pays one order, ever: a repeated id (two uploads merged) stays unmatched.
    seen, kept = set(), []
    for index, row in enumerate(rows):
        if row.transaction_id and row.transaction_id in seen:
            continue
        seen.add(row.transaction_id)
        kept.append(index)
    return kept


def _normal_tag(tag: str) -> str:
    return unicodedata.normalize("NFKC", tag).strip().lstrip("#").upper()


def _valid_reference(reference: str) -> str:
    reference = (reference or "").strip()
    return reference if re.fullmatch(r"[0-9]{4,6}", reference) else ""


_TOKEN = re.compile(r"(#?)([0-9A-Z]+)")


def _note_tags(note: str) -> tuple[list[str], list[str]]:
    """(words marked with "#", all words) of a note, in the order they appear.

    A word is a run of ASCII letters and digits, so 7K3Q is a word of "3-2-1502 #7K3Q" and of
    "1502号7K3Q" but not of "AB7K3Q".
    """
    found = _TOKEN.findall(unicodedata.normalize("NFKC", note).upper())   # ＃７ｋ３ｑ from an IME
    marked = [token for mark, token in found if mark]
    return list(dict.fromkeys(marked)), list(dict.fromkeys(token for _mark, token in found))


def _inside(moment: datetime | None, window: tuple[datetime, datetime] | None) -> bool:
    if window is None or moment is None:
        return True
    start, end = (_aware(edge) for edge in window)
    return start <= _aware(moment) <= end


def _aware(moment: datetime) -> datetime:
    # Stored times are UTC; a naive one can only mean that.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
