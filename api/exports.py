"""A round's consolidated orders as files for its supplier: 拣货单 pick list, 装袋清单 packing list,
装箱单 boxes (one box per community, 大型商超), and 标签 bag labels.

Every export reads a round's orders with paginated Queries in walking order (community →
building → unit → room: see the Order key) and streams them into its writer: CSV row by row,
XLSX with xlsxwriter's constant_memory mode, the labels PDF page by page (api/labels.py). So
memory stays flat however large the round (the PDF's grows by about 1 KB a label: reportlab
keeps each page until it saves; docs/benchmarks.md), and nothing here knows about HTTP or S3: a request
builds a small export at once (`build`), a background job a large one (api/export_jobs.py).

Who sees what: the round's supplier, every community; a liaison, their own community only. The
supplier's packing list carries the full phone (the supplier must reach the household) and the
pickup code; a liaison's has neither (masked phone, no code). The box manifest and the labels
travel with the bags, so they carry the masked phone and never the code: it is the resident's
proof of collection. Communities come in the round's own order (the supplier's), and a box's
number is its community's place in the round, so box 2 is box 2 in every file.
"""
import csv
import io
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO, Callable, Iterable, Iterator

from api import clock, communities, roster, rounds
from api.auth import Principal
from api.errors import BadInput, NotFound, TooLarge, storage_errors
from api.households import mask_phone
from api.models import Bundle, Community, Order, Round

KINDS = ("picklist", "packing", "boxes", "labels")
FORMATS = {"picklist": ("csv", "xlsx"), "packing": ("csv", "xlsx"), "boxes": ("csv", "xlsx"),
           "labels": ("csv", "xlsx", "pdf")}
PAID = ("paid", "packed", "at_gate", "picked_up")
LIVE = ("placed", "payment_claimed", *PAID)
STATUS_FILTERS = {"paid": PAID, "all_live": LIVE}
# A request answers within API Gateway's 29 s and Lambda's 6 MB; past these, a background job.
SYNC_LIMIT = 2000
SYNC_LIMIT_PDF = 300
# One packing sheet per building, unless the round's communities have more buildings than this
# (each constant_memory sheet holds a temporary file open until the workbook closes).
MAX_BUILDING_SHEETS = 400
PROGRESS_EVERY = 250
_PAGE_SIZE = 500
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
STATUS_TEXT = {"placed": "未付款", "payment_claimed": "已付款待确认", "paid": "已付款", "packed": "已打包",
               "at_gate": "已到门口", "picked_up": "已取货"}


@dataclass
class Selection:
    """What one export covers: the round, its bundles, the community names, the filters."""

    round: Round
    bundles: dict[str, Bundle]
    communities: dict[str, Community]
    kind: str
    fmt: str
    layout: str = "a4-3x7"
    status: str = "paid"
    community_id: str | None = None
    building: str | None = None
    # The supplier's own file: full phones and pickup codes on the packing list. Anyone else (a
    # liaison) gets masked phones and no codes: the code is the resident's proof of collection.
    for_supplier: bool = True
    names: dict[str, str] = field(init=False)

    def __post_init__(self):
        self.names = {cid: c.name for cid, c in self.communities.items()}

    @property
    def prefix(self) -> str:
        """The orders' sort-key prefix: the round, one community, or one building of it."""
        if not self.community_id:
            return "ORDER#"
        return f"ORDER#{self.community_id}#" + roster.building_prefix(self.communities[self.community_id],
                                                                    self.building)

    @property
    def prefixes(self) -> list[str]:
        """The Queries to run, in order: one per community, in the round's own order of them (the
        order the supplier chose, which box numbers follow), or the one community or building asked for."""
        if self.community_id or len(self.round.community_ids) == 1:
            return [self.prefix]
        return [f"ORDER#{cid}#" for cid in self.round.community_ids]

    def box_number(self, community_id: str) -> int:
        """A community's box: its place in the round, the same whether the file is filtered or not."""
        ids = list(self.round.community_ids)
        return ids.index(community_id) + 1 if community_id in ids else 0

    @property
    def scope_name(self) -> str:
        """What the selection covers, for a pick list's first table."""
        if not self.community_id:
            return "全部 Whole round"
        return " ".join(p for p in (self.names.get(self.community_id, ""), self.building) if p)

    @property
    def filename(self) -> str:
        scope = "-".join(part for part in (self.community_id and self.names.get(self.community_id), self.building)
                         if part)
        layout = f"-{self.layout}" if self.fmt == "pdf" else ""
        name = f"{self.round.name}-{scope}" if scope else self.round.name
        safe = re.sub(r'[\\/:*?"<>|\s]+', "_", name).strip("_")[:60]
        return f"{safe}-{self.kind}{layout}.{self.fmt}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]


def _bad(field_name: str, zh: str, en: str) -> BadInput:
    return BadInput("输入有误，请按提示修改", "Invalid input; fix the fields listed", fields={field_name: [f"{zh} / {en}"]})


def select(principal: Principal, round_id: str, kind: str, query: dict) -> Selection:
    """Check who asks for what; the round of another supplier, or outside a liaison's community, is 404."""
    if kind not in KINDS:
        raise NotFound("没有这种导出，可选：" + "、".join(KINDS), "No such export; choose " + ", ".join(KINDS))
    fmt = query.get("format") or "csv"
    if fmt not in FORMATS[kind]:
        raise _bad("format", "PDF 只用于标签，请用 csv 或 xlsx", "PDF is for labels only; use csv or xlsx")
    rnd, bundles = rounds.load(round_id)
    own = rounds.viewer_scope(principal, rnd, roles=("liaison",))
    community_id = query.get("community_id")
    if own is not None:
        if community_id not in (None, own.community_id):
            raise rounds.no_such_round()
        community_id = own.community_id
    elif community_id is not None and community_id not in rnd.community_ids:
        raise _bad("community_id", "本轮团购不服务这个小区", "This round does not serve that community")
    if query.get("building") and not community_id:
        raise _bad("community_id", "按楼栋导出时请先选小区", "Choose the community to export one building")
    found = {own.community_id: own} if own else None
    return selection_of(rnd, bundles, kind, fmt, layout=query.get("layout") or "a4-3x7",
                        status=query.get("status") or "paid", community_id=community_id,
                        building=query.get("building"), for_supplier=own is None, found=found)


def selection_of(rnd: Round, bundles: list[Bundle], kind: str, fmt: str, *, layout: str, status: str,
                 community_id: str | None, building: str | None, for_supplier: bool = True,
                 found: dict | None = None) -> Selection:
    """The Selection for an export already allowed (a background job rebuilds it from its record)."""
    if found is None:
        found = communities.get_many([community_id] if community_id else list(rnd.community_ids))
    selection = Selection(rnd, {b.bundle_id: b for b in bundles}, found, kind, fmt, layout=layout, status=status,
                          community_id=community_id, building=building, for_supplier=for_supplier)
    selection.prefix  # noqa: B018 - an unknown building is a 400 now, not in the middle of a file
    return selection


def content_disposition(selection: Selection) -> str:
    return attachment(selection.filename, ascii_name(selection))


def attachment(filename: str, fallback: str) -> str:
    """attachment, with the Chinese file name for browsers (RFC 6266) and a plain one for the rest."""
    from urllib.parse import quote

    return f'attachment; filename="{fallback}"; filename*=UTF-8\'\'{quote(filename)}'


def ascii_name(selection: Selection) -> str:
    layout = f"-{selection.layout}" if selection.fmt == "pdf" else ""
    return f"{selection.round.round_id}-{selection.kind}{layout}.{selection.fmt}"


def _status_condition(selection: Selection):
    return Order.status.is_in(*STATUS_FILTERS[selection.status])


def orders(selection: Selection) -> Iterator[Order]:
    """The selected orders in walking order, one page of a Query at a time (never a Scan)."""
    with storage_errors():
        for prefix in selection.prefixes:
            yield from Order.query(selection.round.pk, Order.sk.startswith(prefix),
                                   filter_condition=_status_condition(selection), consistent_read=True,
                                   page_size=_PAGE_SIZE)


def count(selection: Selection) -> int:
    """How many orders the export will hold: COUNT Queries, so the job can show `done / total`."""
    with storage_errors():
        return sum(Order.count(selection.round.pk, Order.sk.startswith(prefix),
                               filter_condition=_status_condition(selection), consistent_read=True)
                   for prefix in selection.prefixes)


def build(principal: Principal, round_id: str, kind: str, query: dict) -> tuple[str, str, str | bytes]:
    """(content type, Content-Disposition, body) of a small export, built in the request; a large one is 413."""
    selection = select(principal, round_id, kind, query)
    limit = SYNC_LIMIT_PDF if selection.fmt == "pdf" else SYNC_LIMIT

    def capped() -> Iterator[Order]:
        for n, order in enumerate(orders(selection), start=1):
            if n > limit:
                raise TooLarge(f"订单超过 {limit} 份，请用后台导出（POST …/exports/{kind}/jobs）",
                               f"More than {limit} orders: use a background export (POST …/exports/{kind}/jobs)",
                               code="export_too_large")
            yield order

    buffer = io.BytesIO()
    write(selection, capped(), buffer)
    body = buffer.getvalue()
    # CSV is text to API Gateway (not one of the app's binary types); the BOM stays in it.
    return selection.content_type, content_disposition(selection), body.decode("utf-8") if selection.fmt == "csv" else body


# --- writing ---------------------------------------------------------------------------

def write(selection: Selection, found: Iterable[Order], out: BinaryIO,
          progress: Callable[[int], None] | None = None) -> int:
    """Write the export of `found` (consumed once, in walking order) to the binary file `out`.

    Returns how many orders went in; `progress(n)` is called every PROGRESS_EVERY orders and at the end.
    """
    counted = _Counter(found, progress)
    if selection.fmt == "pdf":
        from api import labels  # reportlab loads only for a PDF, off the cold start of every other route

        labels.render(counted, selection.names, selection.layout,
                      title=f"{selection.round.name} 标签 labels", out=out)
    elif selection.kind == "picklist":
        _picklist(selection, counted, out)
    elif selection.fmt == "csv":
        _csv(selection, counted, out)
    else:
        _xlsx(selection, counted, out)
    counted.finish()
    return counted.n


class _Counter:
    """Passes orders through, counting them and reporting progress."""

    def __init__(self, found: Iterable[Order], progress):
        self.found, self.progress, self.n = found, progress, 0

    def __iter__(self):
        for order in self.found:
            self.n += 1
            if self.progress is not None and self.n % PROGRESS_EVERY == 0:
                self.progress(self.n)
            yield order

    def finish(self):
        if self.progress is not None:
            self.progress(self.n)


# --- spreadsheet safety (CSV and XLSX injection) -----------------------------------------
#
# Excel takes a cell of a CSV that starts with = + - or @ for a formula (=HYPERLINK, DDE's
# =cmd|' /C calc'!A0), and a leading tab or line break hides one from the eye. Which text is
# "risky": its first character is one of those or a tab, CR or LF; or, after any leading
# whitespace (space, the ideographic space U+3000, NBSP) and zero-width characters, its first
# character is = + - or @ in any width: ＝ ＋ － ＠ and the small forms ﹦ ﹢ ﹣ ﹫ (NFKC folds
# them; an East Asian Excel may take a full-width ＝ for =). LibreOffice 7.4, measured, evaluates
# only a bare leading '=' in a CSV; the rest is for Excel and for importers that trim first.
#
# A risky text cell is written with a leading apostrophe in a CSV (Excel and LibreOffice show it;
# the text after it is intact) and, in an XLSX, as a string cell (write_string, never write())
# with Excel's quote-prefix style, so editing the cell does not turn it into a formula either.
# Numbers are written as numbers: ints, and money columns, whose text comes from yuan() of
# integer fen and may be negative (-5.50); those never get the apostrophe. Every CSV field is
# quoted (QUOTE_ALL): a spreadsheet that also splits on ; or tab (LibreOffice's import dialog,
# a European Excel) would otherwise cut "x;=1+1" into "x" and a live "=1+1".

_TRIGGERS = frozenset("=+-@")
_CONTROL_TRIGGERS = frozenset("\t\r\n")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def risky(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula (see above)."""
    if not text:
        return False
    if text[0] in _CONTROL_TRIGGERS or text[0] in _TRIGGERS:
        return True
    head = text
    while head and (head[0].isspace() or head[0] in _ZERO_WIDTH):
        head = head[1:]
    return bool(head) and unicodedata.normalize("NFKC", head[0])[:1] in _TRIGGERS


def safe_cell(value):
    """A CSV cell a spreadsheet will not run: risky text gets a leading apostrophe; numbers and other text pass."""
    if isinstance(value, str) and risky(value):
        return "'" + value
    return value


def safe_row(row: Iterable, money_columns: tuple[int, ...] = ()) -> list:
    """A CSV row: every text cell through safe_cell, except the money columns (numbers from yuan(), maybe negative)."""
    return [v if c in money_columns else safe_cell(v) for c, v in enumerate(row)]


class CsvFile:
    """A CSV written into a binary file: UTF-8 with the BOM (so Excel on Windows reads the Chinese text),
    every field quoted, every text cell defused (safe_row). `close()` leaves `out` open for the caller."""

    def __init__(self, out: BinaryIO):
        self._text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text, quoting=csv.QUOTE_ALL)

    def header(self, columns) -> None:
        self._writer.writerow([h for h, _ in columns])

    def row(self, values: Iterable, money_columns: tuple[int, ...] = ()) -> None:
        self._writer.writerow(safe_row(values, money_columns))

    def rows(self, rows: Iterable[Iterable], money_columns: tuple[int, ...] = ()) -> None:
        for values in rows:
            self.row(values, money_columns)

    def close(self) -> None:
        self._text.flush()
        self._text.detach()  # the caller owns `out`


def yuan(fen: int) -> str:
    """Integer fen as yuan text, 0.00; a negative amount (a correction) keeps its sign: -550 → -5.50."""
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _items_text(order: Order) -> str:
    return "；".join(f"{line.name}×{int(line.qty)}" for line in order.lines)


# Each table: its columns (header, XLSX width in characters) and one row per order.
PACKING = (("小区 Community", 18), ("楼栋 Building", 10), ("单元 Unit", 8), ("房号 Room", 8),
           ("电话 Phone", 14), ("取货码 Pickup code", 10), ("订单内容 Items", 40), ("金额 Amount (¥)", 11),
           ("付款状态 Payment", 14), ("订单号 Order", 28), ("下单时间 Placed (Beijing)", 18))
BOXES = (("箱号 Box", 7), ("小区 Community", 18), ("袋号 Bag", 7), ("楼栋 Building", 10), ("单元 Unit", 8),
         ("房号 Room", 8), ("电话 Phone", 14), ("订单内容 Items", 40), ("订单号 Order", 28))
BOX_SUMMARY = (("箱号 Box", 7), ("小区 Community", 18), ("袋数 Bags", 8), ("套餐 Bundles", 60))
LABELS = (("小区 Community", 18), ("楼栋 Building", 10), ("单元 Unit", 8), ("房号 Room", 8),
          ("电话 Phone", 14), ("订单内容 Items", 40), ("订单号 Order", 28), ("二维码 QR", 40))
PICKLIST = (("范围 Scope", 18), ("类别 Type", 10), ("名称 Name", 20), ("规格 Spec", 30), ("数量 Qty", 9),
            ("单价 Unit price (¥)", 12), ("金额 Amount (¥)", 12))
# The money columns (yuan() text): numbers in both files, never defused as text.
PACKING_MONEY = (7,)
PICKLIST_MONEY = (5, 6)


def _packing_row(selection: Selection, order: Order) -> list:
    own = selection.for_supplier
    return [selection.names.get(order.community_id, ""), order.building, order.unit, order.room,
            order.phone if own else mask_phone(order.phone or ""), order.pickup_code if own else "",
            _items_text(order), yuan(int(order.total_fen)),
            f"{STATUS_TEXT.get(order.status, order.status)} {order.status}", order.order_id,
            clock.shanghai(order.created_at)]


def _label_row(selection: Selection, order: Order) -> list:
    return [selection.names.get(order.community_id, ""), order.building, order.unit, order.room,
            mask_phone(order.phone or ""), _items_text(order), order.order_id, f"baogong:order:{order.order_id}"]


def _boxes(selection: Selection, found: Iterable[Order]) -> Iterator[tuple[int, int, Order]]:
    """(box number, bag number in its box, order): one box per community, numbered by its place in the round."""
    box, bag, current = 0, 0, None
    for order in found:
        if order.community_id != current:
            box, bag, current = selection.box_number(order.community_id), 0, order.community_id
        bag += 1
        yield box, bag, order


def _box_row(selection: Selection, box: int, bag: int, order: Order) -> list:
    return [box, selection.names.get(order.community_id, ""), bag, order.building, order.unit, order.room,
            mask_phone(order.phone or ""), _items_text(order), order.order_id]


def _csv(selection: Selection, found: Iterable[Order], out: BinaryIO) -> None:
    table = CsvFile(out)
    if selection.kind == "packing":
        table.header(PACKING)
        table.rows((_packing_row(selection, o) for o in found), money_columns=PACKING_MONEY)
    elif selection.kind == "labels":
        table.header(LABELS)
        table.rows(_label_row(selection, o) for o in found)
    else:
        table.header(BOXES)
        table.rows(_box_row(selection, *b) for b in _boxes(selection, found))
    table.close()


class Book:
    """An xlsxwriter workbook in constant_memory mode: sheets with a bold frozen header and set widths."""

    def __init__(self, out: BinaryIO):
        import tempfile

        import xlsxwriter  # only exports need it; kept off the cold start of every other route

        self.book = xlsxwriter.Workbook(out, {"constant_memory": True, "tmpdir": tempfile.gettempdir(),
                                              "strings_to_formulas": False, "strings_to_urls": False})
        self.bold = self.book.add_format({"bold": True, "bg_color": "#E8F1EC", "border": 1})
        self.money = self.book.add_format({"num_format": "0.00"})
        # Excel's own mark for text typed as '=…: shown without the apostrophe, and still text after an edit.
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.names: set[str] = set()
        self.rows: dict = {}

    def sheet(self, title: str, columns):
        name = self._unique(title)
        sheet = self.book.add_worksheet(name)
        for c, (header, width) in enumerate(columns):
            sheet.set_column(c, c, width)
            sheet.write_string(0, c, header, self.bold)
        sheet.freeze_panes(1, 0)
        self.rows[name] = 0
        return sheet

    def _unique(self, title: str) -> str:
        # Excel: at most 31 UTF-16 units (a character outside the BMP, a rare surname or an emoji, is two),
        # none of []:*?/\, no apostrophe first or last, unique regardless of case.
        base = _sheet_cut(re.sub(r"[\[\]:*?/\\]", "_", title), 31) or "Sheet"
        name, n = base, 1
        while name.lower() in self.names:
            n += 1
            name = f"{_sheet_cut(base, 31 - len(str(n)) - 1)}~{n}"
        self.names.add(name.lower())
        return name

    def append(self, sheet, row: list, money_columns: tuple[int, ...] = ()) -> None:
        r = self.rows[sheet.name] = self.rows[sheet.name] + 1
        for c, value in enumerate(row):
            if c in money_columns and value != "":
                sheet.write_number(r, c, int(value.replace(".", "")) / 100, self.money)  # "-5.50" → -5.5
            elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                sheet.write_number(r, c, value)
            elif value and risky(str(value)):
                # write_string, never write(): a cell of text is never taken for a formula.
                sheet.write_string(r, c, str(value), self.quoted)
            else:
                sheet.write_string(r, c, "" if value is None else str(value))

    def close(self) -> None:
        self.book.close()


def _sheet_cut(title: str, units: int) -> str:
    """`title` cut to at most `units` UTF-16 code units, without a leading or trailing apostrophe."""
    title = title.strip("'")
    while len(title.encode("utf-16-le")) > 2 * units:
        title = title[:-1]
    return title.strip("'")


def _xlsx(selection: Selection, found: Iterable[Order], out: BinaryIO) -> None:
    book = Book(out)
    if selection.kind == "packing":
        _packing_xlsx(selection, found, book)
    elif selection.kind == "labels":
        sheet = book.sheet("标签 Labels", LABELS)
        for order in found:
            book.append(sheet, _label_row(selection, order))
    else:
        _boxes_xlsx(selection, found, book)
    book.close()


def _packing_xlsx(selection: Selection, found: Iterable[Order], book: Book) -> None:
    """A sheet of every bag, then one sheet per building (one per community if there are too many)."""
    everything = book.sheet("全部 All", PACKING)
    many = len(selection.communities) > 1
    per_building = sum(len(c.buildings) for c in selection.communities.values()) <= MAX_BUILDING_SHEETS
    sheets: dict = {}
    for order in found:
        row = _packing_row(selection, order)
        book.append(everything, row, money_columns=PACKING_MONEY)
        key = (order.community_id, order.building if per_building else "")
        if key not in sheets:
            community = selection.names.get(order.community_id, "")
            title = (f"{community[:16]} {order.building}" if many else order.building) if per_building else community
            sheets[key] = book.sheet(title, PACKING)
        book.append(sheets[key], row, money_columns=PACKING_MONEY)


def _boxes_xlsx(selection: Selection, found: Iterable[Order], book: Book) -> None:
    """The boxes, one summary row each, then each box's manifest on its own sheet."""
    summary = book.sheet("装箱汇总 Boxes", BOX_SUMMARY)
    box_sheet, box_no, bags, bundles = None, 0, 0, OrderedDict()

    def close_box():
        if box_sheet is not None:
            contents = "；".join(f"{name}×{qty}" for name, qty in bundles.items())
            book.append(summary, [box_no, selection.names.get(current, ""), bags, contents])

    current = None
    for box, bag, order in _boxes(selection, found):
        if box != box_no:
            close_box()
            current, box_no, bags, bundles = order.community_id, box, 0, OrderedDict()
            box_sheet = book.sheet(f"{box}号箱 {selection.names.get(current, '')}", BOXES)
        bags = bag
        for line in order.lines:
            bundles[line.name] = bundles.get(line.name, 0) + int(line.qty)
        book.append(box_sheet, _box_row(selection, box, bag, order))
    close_box()


# --- the pick list: totals, not rows ------------------------------------------------

def _picklist(selection: Selection, found: Iterable[Order], out: BinaryIO) -> None:
    """Totals per bundle and per item inside the bundles (大米 5 kg × 120): the round, then each community."""
    scopes: OrderedDict[str, OrderedDict] = OrderedDict([("", OrderedDict())])
    parts = not selection.community_id  # filtered to one community, its part would repeat the first table
    for order in found:
        for scope in ("", order.community_id) if parts else ("",):
            tally = scopes.setdefault(scope, OrderedDict())
            for line in order.lines:
                tally[line.bundle_id] = tally.get(line.bundle_id, 0) + int(line.qty)
    # Communities in the round's own order, bundles in their display order.
    positions = {b: n for n, b in enumerate(sorted(selection.bundles, key=lambda b: selection.bundles[b].position))}
    order_of = {cid: n for n, cid in enumerate(selection.round.community_ids)}
    tables = [(scope, sorted(tally.items(), key=lambda kv: positions.get(kv[0], len(positions))))
              for scope, tally in sorted(scopes.items(), key=lambda kv: -1 if not kv[0] else order_of.get(kv[0], 0))]
    rows_of = {scope: _picklist_rows(selection, scope, counts) for scope, counts in tables}
    if selection.fmt == "csv":
        table = CsvFile(out)
        table.header(PICKLIST)
        for rows in rows_of.values():
            table.rows(rows, money_columns=PICKLIST_MONEY)
        table.close()
        return
    book = Book(out)
    for scope, rows in rows_of.items():
        sheet = book.sheet(("全部 All" if not selection.community_id else selection.scope_name) if not scope
                           else selection.names.get(scope, scope), PICKLIST)
        for row in rows:
            book.append(sheet, row, money_columns=PICKLIST_MONEY)
    book.close()


def _picklist_rows(selection: Selection, scope: str, counts: list[tuple[str, int]]) -> list[list]:
    name = selection.scope_name if not scope else selection.names.get(scope, scope)
    rows, items = [], OrderedDict()
    for bundle_id, qty in counts:
        bundle = selection.bundles.get(bundle_id)
        if bundle is None:
            continue
        spec = "、".join(f"{i.name} {i.qty} {i.unit}".strip() for i in bundle.items)
        price = int(bundle.price_fen)
        rows.append([name, "套餐 Bundle", bundle.name, spec, qty, yuan(price), yuan(price * qty)])
        for item in bundle.items:
            key = (item.name, f"{item.qty} {item.unit}".strip())
            items[key] = items.get(key, 0) + qty
    rows += [[name, "物品 Item", item, spec, qty, "", ""] for (item, spec), qty in items.items()]
    return rows
