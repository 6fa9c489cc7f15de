"""CSV and XLSX injection (issue 12, point 6): every file the API produces × every formula payload.

Each payload is planted through the API in every user-text field that reaches a file (and, where no
route exists yet, through the domain module the routes would call: communities, buildings, units and
supplier names), the file is downloaded through its route and parsed back:

- CSV (csv module): no cell reads as a formula, whether the spreadsheet splits on commas, semicolons
  or tabs (honouring quotes, as Excel and LibreOffice do); a cell has the leading apostrophe exactly
  when its text would be a formula; the planted text is all there after the apostrophe;
- XLSX (openpyxl, and the raw sheet XML): no formula cell anywhere; formula-like text is a string cell
  with Excel's quote prefix (so an edit does not make it a formula), unchanged;
- PDF (pdftotext): the planted text, markup included, is drawn as text.

Producers (all of them, found by grepping api/ for csv, xlsxwriter, openpyxl, Book, reportlab):
round exports (picklist, packing, boxes, labels; CSV, XLSX, labels PDF; in the request and as a
background job), the gate log (CSV, XLSX), the demand summary (XLSX), settlement statements (XLSX,
PDF) and the join-QR poster (PDF).

`formula_like` below is the rule, written from the spec rather than imported, so the test checks
api/exports.py instead of agreeing with it.
"""
import csv
import io
import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlparse

import openpyxl
import pytest
import requests

from api import communities, config, exports, schemas
from api.models import Order
from tests.api import gate_helpers
from tests.api.gate_helpers import ARRIVAL_DAY, ARRIVE_FROM, DAY_BEFORE, PLATE
from tests.api.helpers import create_supplier, get, orders_in, place_order, post, register, round_body
from tests.api.supply_helpers import (
    community_with_liaison, demand_line, distributed_allocation, pdf_text, report_demand,
)

# The gate's fixtures, by name: its clock (autouse: every test here runs at its NOW), uploads bucket and site.
frozen, bucket, gate = gate_helpers.frozen, gate_helpers.bucket, gate_helpers.gate

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1",
            " =1"]
IDS = ["hyperlink", "dde", "minus", "at", "tab", "cr", "fullwidth", "space"]
# Drawn in a PDF: reportlab's Paragraph markup must come out as the characters typed.
MARKUP = '<font color="red">x</font>&amp;<b>'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_TRIGGERS = "=+-@"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def formula_like(text: str) -> bool:
    """Text a spreadsheet could take for a formula: = + - @ first, or a tab, CR or LF first; or = + - @
    in any width (＝ ＋ － ＠, ﹦ …) after leading whitespace or zero-width characters."""
    if not text:
        return False
    if text[0] in _TRIGGERS or text[0] in "\t\r\n":
        return True
    head = text
    while head and (head[0].isspace() or head[0] in _ZERO_WIDTH):
        head = head[1:]
    return bool(head) and unicodedata.normalize("NFKC", head[0])[:1] in _TRIGGERS


def typed(text: str) -> str:
    """What a Name field (buildings, units, people's names) keeps of the text typed."""
    return schemas.Name().deserialize(text)


def shown(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


# --- reading files back and checking them ---------------------------------------------------------------

def header(response, name: str) -> str:
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower(), "")


def body_bytes(response) -> bytes:
    return response.body if isinstance(response.body, bytes) else response.body.encode("utf-8")


def check_disposition(response) -> None:
    """The file's name carries no line break or stray quote into the header (names are typed by people)."""
    disposition = header(response, "Content-Disposition")
    assert re.fullmatch(r'attachment; filename="[^"\\\x00-\x1f\x7f]*"; filename\*=UTF-8\'\'[^\s"\\]+', disposition), \
        repr(disposition)


def split_cells(text: str, separators: str) -> list[str]:
    """The cells of a CSV as a spreadsheet splits it on any of `separators` (LibreOffice's import dialog lets
    several be ticked; a European Excel splits on ;), honouring double quotes: a field that starts with one
    runs to its closing quote, "" inside it is one quote."""
    cells, i, n = [], 0, len(text)
    while i < n:
        cell = []
        if text[i] == '"':
            i += 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        cell.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                cell.append(text[i])
                i += 1
        while i < n and text[i] not in separators and text[i] not in "\r\n":
            cell.append(text[i])
            i += 1
        cells.append("".join(cell))
        i += 1  # the separator or line break
    return cells


def check_csv(response, planted: list[str], whole: tuple[str, ...] = ()) -> list[list[str]]:
    """Every cell safe under , ; and tab splitting; an apostrophe exactly on formula-like text; `planted`
    found (after the apostrophe) in some cell, `whole` as a cell of its own."""
    assert response.status_code == 200, response.body
    assert header(response, "Content-Type").startswith("text/csv")
    check_disposition(response)
    text = body_bytes(response).decode("utf-8")
    assert text.startswith("\ufeff")
    text = text[1:]
    risky = [cell for cell in split_cells(text, ",;\t") if formula_like(cell)]
    assert not risky, f"split on , ; and tab: {risky}"
    rows = list(csv.reader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row]
    for cell in cells:
        assert not formula_like(cell), repr(cell)
        if cell.startswith("'"):
            assert formula_like(cell[1:]), f"needless apostrophe: {cell!r}"
    for value in planted:
        assert any(value in shown(cell) for cell in cells), f"{value!r} not in the CSV"
    for value in whole:
        expected = "'" + value if formula_like(value) else value
        assert expected in cells, f"{expected!r} not a cell of the CSV"
    return rows


def ooxml_text(value: str) -> str:
    """A string as Excel shows it: OOXML writes control characters as _xHHHH_ (a CR is _x000D_), which
    openpyxl leaves as they are."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def check_xlsx(response, planted: list[str], whole: tuple[str, ...] = ()) -> openpyxl.Workbook:
    """No formula anywhere; formula-like text a quote-prefixed string cell, as typed; `planted` found."""
    assert response.status_code == 200, response.body
    assert header(response, "Content-Type").startswith(XLSX)
    check_disposition(response)
    raw = body_bytes(response)
    with zipfile.ZipFile(io.BytesIO(raw)) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)
    workbook = openpyxl.load_workbook(io.BytesIO(raw))
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.append(ooxml_text(cell.value))
                    if formula_like(values[-1]):
                        assert cell.data_type == "s" and cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    for value in planted:
        assert any(value in v for v in values), f"{value!r} not in the XLSX"
    for value in whole:
        assert value in values, f"{value!r} not a cell of the XLSX"
    return workbook


def visible(text: str) -> str:
    return "".join(c for c in text if not c.isspace())


def check_pdf(response, tmp_path, planted: list[str]) -> None:
    assert response.status_code == 200, response.body
    assert header(response, "Content-Type").startswith("application/pdf")
    check_disposition(response)
    path = tmp_path / "file.pdf"
    path.write_bytes(body_bytes(response))
    text = visible(pdf_text(path))
    for value in planted:
        assert visible(value) in text, f"{value!r} not drawn in the PDF"


# --- round exports: picklist, packing, boxes, labels -----------------------------------------------------

def pay(client, round_id, token, order_ids):
    response = post(client, f"/api/rounds/{round_id}/payments/confirm", {"order_ids": list(order_ids)}, token)
    assert response.status_code == 200, response.body


def round_world(client, demo, payload: str) -> dict:
    """A community named `payload` whose building and unit are the payload as typed; a round named it,
    with a bundle, item, quantity and unit named it (POST /api/rounds); a flat in room -1 that registered
    with it as its name, ordered and paid; its pickup code has a leading zero."""
    flat = typed(payload[:20])
    community = communities.create(demo["sub_district_id"], payload, [{"name": flat, "units": [flat]}])
    bundle = {"name": payload, "price_fen": 1250, "stock": 5, "per_household_limit": 2,
              "items": [{"name": payload[:30], "qty": payload[:10], "unit": payload[:10]}]}
    made = post(client, "/api/rounds", round_body(community.community_id, name=payload, bundles=[bundle]),
                demo["tokens"]["supplier"])
    assert made.status_code == 201, made.body
    round_id, bundle_id = made.json_body["round_id"], made.json_body["bundles"][0]["bundle_id"]
    household = register(client, community.join_key, building=payload[:20], unit=payload[:20], room="-1",
                         phone="13800001234", name=payload[:20])
    assert household["flat"] == {"building": flat, "unit": flat, "room": "-1"}
    placed = place_order(client, household["token"], round_id, (bundle_id, 1))
    assert placed.status_code == 201, placed.body
    pay(client, round_id, demo["tokens"]["supplier"], [placed.json_body["order_id"]])
    for order in orders_in(round_id):
        order.update(actions=[Order.pickup_code.set("012345")])
    return {"round_id": round_id, "payload": payload, "flat": flat}


def round_export(client, token, round_id, kind, fmt):
    return get(client, f"/api/rounds/{round_id}/exports/{kind}?{urlencode({'format': fmt})}", token, accept="*/*")


def expected_round(world: dict, kind: str) -> tuple[list[str], tuple[str, ...]]:
    """(text found somewhere, text that is a cell of its own) in one export of the round world."""
    payload = world["payload"]
    if kind == "picklist":
        # the bundle and item names are cells; the spec holds the item's quantity and unit
        return [payload, payload[:30], payload[:10]], (payload, payload[:30])
    # the community, building, unit and room are cells; the items cell starts with the bundle's name
    return [payload + "×1"], (payload, world["flat"], "-1")


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_round_exports__csv_and_xlsx__no_formula_and_the_text_survives(client, demo, payload):
    world = round_world(client, demo, payload)
    supplier = demo["tokens"]["supplier"]
    for kind in exports.KINDS:
        planted, whole = expected_round(world, kind)
        rows = check_csv(round_export(client, supplier, world["round_id"], kind, "csv"), planted, whole)
        book = check_xlsx(round_export(client, supplier, world["round_id"], kind, "xlsx"), planted, whole)
        if kind == "packing":
            # money a number in both; the phone and the pickup code text, leading zero kept
            assert (rows[1][4], rows[1][5], rows[1][7]) == ("13800001234", "012345", "12.50")
            row = [c for c in book["全部 All"].iter_rows(min_row=2, max_row=2)][0]
            assert (row[4].value, row[4].data_type, row[5].value, row[5].data_type) == \
                ("13800001234", "s", "012345", "s")
            assert (row[7].value, row[7].data_type) == (12.5, "n")
        if kind == "picklist":
            assert [r[4:7] for r in rows[1:] if r[1] == "套餐 Bundle"][0] == ["1", "12.50", "12.50"]


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_labels_pdf__the_planted_text_is_drawn_as_text(client, demo, payload, tmp_path):
    world = round_world(client, demo, payload)
    response = round_export(client, demo["tokens"]["supplier"], world["round_id"], "labels", "pdf")
    # the community's name, and the items (the flat line is cut short with … when it is too long to fit)
    check_pdf(response, tmp_path, [payload, payload + "×1"])


def test_labels_pdf__markup_in_names_is_drawn_as_the_characters_typed(client, demo, tmp_path):
    world = round_world(client, demo, MARKUP)
    response = round_export(client, demo["tokens"]["supplier"], world["round_id"], "labels", "pdf")
    check_pdf(response, tmp_path, [MARKUP])  # the community's name (the items line is cut short with …)


@pytest.fixture
def exports_bucket(aws):
    from api import aws as aws_clients
    s3 = aws_clients.client("s3")
    s3.create_bucket(Bucket=config.EXPORTS_BUCKET, CreateBucketConfiguration={"LocationConstraint": config.REGION})
    yield
    for item in s3.list_objects_v2(Bucket=config.EXPORTS_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=config.EXPORTS_BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=config.EXPORTS_BUCKET)


class Downloaded:
    """A file fetched from a presigned S3 link, shaped like a route's answer for the checks above."""

    def __init__(self, url: str):
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200, answer.text
        self.status_code, self.body = 200, answer.content
        disposition = parse_qs(urlparse(url).query).get("response-content-disposition", [""])[0]
        self.headers = {"Content-Type": answer.headers.get("Content-Type", ""),
                        "Content-Disposition": unquote(disposition) if disposition else answer.headers.get(
                            "Content-Disposition", "")}


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_round_exports__background_job_files__no_formula_and_the_text_survives(client, demo, exports_bucket, payload):
    world = round_world(client, demo, payload)
    planted, whole = expected_round(world, "packing")
    for fmt, check in (("csv", check_csv), ("xlsx", check_xlsx)):
        started = post(client, f"/api/rounds/{world['round_id']}/exports/packing/jobs", {"format": fmt},
                       demo["tokens"]["supplier"])
        assert started.status_code == 202, started.body
        job = get(client, f"/api/export-jobs/{started.json_body['job_id']}", demo["tokens"]["supplier"]).json_body
        assert job["state"] == "done", job
        check(Downloaded(job["url"]), planted, whole)


# --- the gate log ---------------------------------------------------------------------------------------

def gate_world(gate, frozen, payload: str) -> list[str]:
    """A delivery rejected for `payload`; another arriving and disinfected by an operator named it with a
    disinfectant named it; a plate `payload` turned away for it. Returns the texts the log stored."""
    rejected = gate.registered()
    answer = gate.review(rejected["delivery_id"], "reject", reason=payload)
    assert answer.status_code == 200, answer.body
    delivery = gate.approved()
    frozen.move_to(ARRIVE_FROM + timedelta(minutes=10))
    gate.done(delivery["delivery_id"], "arrive", plate=PLATE)
    gate.done(delivery["delivery_id"], "disinfect", operator=payload[:20], disinfectant=payload[:40])
    turned = gate.post(f"{gate.base}/gate/turn-away", {"plate": payload[:20], "reason": payload},
                       gate.tokens["gate_officer"])
    assert turned.status_code == 201, turned.body
    events = gate.log(DAY_BEFORE)["events"] + gate.log(ARRIVAL_DAY)["events"]
    stored = [turned.json_body["plate"]]
    for event in events:
        stored += [v for k, v in event["details"].items() if k in ("reason", "operator", "disinfectant")]
    assert len(stored) == 5, events  # the plate; the rejection's and the turn-away's reasons; operator, disinfectant
    return stored


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_gate_log__csv_and_xlsx__no_formula_and_the_text_survives(gate, frozen, payload):
    stored = gate_world(gate, frozen, payload)
    for fmt, check in (("csv", check_csv), ("xlsx", check_xlsx)):
        response = get(gate.client, f"{gate.base}/log/export?format={fmt}&from={DAY_BEFORE}&to={ARRIVAL_DAY}",
                       gate.tokens["supervisor"], accept="*/*")
        check(response, stored, (stored[0],))  # the plate is a cell of its own


# --- the demand summary ---------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_demand_summary__xlsx__no_formula_and_the_text_survives(client, demo, payload):
    reporting = community_with_liaison(client, demo, payload)
    community_with_liaison(client, demo, payload + " 2")  # listed among those that did not report
    sent = report_demand(client, reporting["liaison"], reporting["community_id"],
                         [demand_line("rice", 40, payload[:8], payload)])
    assert sent.status_code in (200, 201), sent.body
    unit = sent.json_body["lines"][0]["unit"]
    response = get(client, "/api/sub-districts/mine/demand/export", demo["tokens"]["admin"], accept="*/*")
    check_xlsx(response, [payload, unit, payload + " 2"], (payload, unit, payload + " 2"))


# --- settlement statements ------------------------------------------------------------------------------

def settled_world(client, demo, payload: str) -> dict:
    """An allocation from a supplier named `payload` to a community named it, its spec the payload, and its
    unit as typed; distributed and settled at an entered price with the payload as its reason."""
    supplier = create_supplier(demo["sub_district_id"], payload)
    community = community_with_liaison(client, demo, payload)
    world = {**demo, "supplier_id": supplier["supplier_id"], "community_id": community["community_id"],
             "tokens": {**demo["tokens"], "liaison": community["liaison"]}}
    allocation = distributed_allocation(client, world, spec=payload[:60], unit=payload[:8], quantity=3,
                                        deliver_at="2026-12-02T01:00:00Z")
    settled = post(client, f"/api/allocations/{allocation['allocation_id']}/settle",
                   {"price_source": "entered", "unit_price": "4.50", "reason": payload}, demo["tokens"]["admin"])
    assert settled.status_code == 200, settled.body
    return {"supplier_id": supplier["supplier_id"], "community_id": community["community_id"],
            "texts": [payload[:60], allocation["unit"], payload]}


@pytest.mark.parametrize("payload", PAYLOADS, ids=IDS)
def test_settlement_statements__xlsx_and_pdf__no_formula_and_the_text_survives(client, demo, payload, tmp_path):
    world = settled_world(client, demo, payload)
    for who in ("supplier_id", "community_id"):
        path = f"/api/settlements/statement?{who}={world[who]}"
        book = check_xlsx(get(client, path + "&format=xlsx", demo["tokens"]["admin"], accept="*/*"),
                          world["texts"], tuple(world["texts"]))
        row = list(book.worksheets[0].iter_rows(min_row=2, max_row=2, values_only=True))[0]
        assert (row[3], row[9], row[10]) == (3, 4.5, 13.5)  # quantity and money stay numbers
        check_pdf(get(client, path + "&format=pdf", demo["tokens"]["admin"], accept="*/*"), tmp_path,
                  world["texts"])


def test_settlement_statement_pdf__markup_is_drawn_as_the_characters_typed(client, demo, tmp_path):
    world = settled_world(client, demo, MARKUP)
    response = get(client, f"/api/settlements/statement?supplier_id={world['supplier_id']}&format=pdf",
                   demo["tokens"]["admin"], accept="*/*")
    check_pdf(response, tmp_path, [MARKUP])


# --- the join-QR poster -------------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [*PAYLOADS, MARKUP], ids=[*IDS, "markup"])
def test_poster__the_community_name_is_drawn_as_text(client, demo, payload, tmp_path):
    community = community_with_liaison(client, demo, payload)
    response = get(client, f"/api/communities/{community['community_id']}/poster", community["liaison"],
                   accept="application/pdf")
    check_pdf(response, tmp_path, [payload])


# --- the writers' own rules: numbers stay numbers ---------------------------------------------------------

def test_yuan__negative_amounts_keep_their_sign_and_their_fen():
    assert [exports.yuan(f) for f in (0, 5, 1250, -5, -500, -550, -1)] == \
        ["0.00", "0.05", "12.50", "-0.05", "-5.00", "-5.50", "-0.01"]


def test_csv__a_negative_number_or_amount_stays_a_number_while_text_like_it_is_defused():
    out = io.BytesIO()
    table = exports.CsvFile(out)
    table.row([-5, exports.yuan(-550), "-5", "-2+3", "013800"], money_columns=(1,))
    table.close()
    assert list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline=""))) == \
        [["-5", "-5.50", "'-5", "'-2+3", "013800"]]


def test_xlsx__a_negative_number_or_amount_is_a_number_and_text_stays_text():
    out = io.BytesIO()
    book = exports.Book(out)
    sheet = book.sheet("数 Numbers", (("a", 8), ("b", 8), ("c", 8), ("d", 8)))
    book.append(sheet, [-5, exports.yuan(-550), "-2+3", "013800"], money_columns=(1,))
    book.close()
    cells = list(openpyxl.load_workbook(io.BytesIO(out.getvalue())).active.iter_rows(min_row=2))[0]
    assert [(c.value, c.data_type) for c in cells] == [(-5, "n"), (-5.5, "n"), ("-2+3", "s"), ("013800", "s")]
    assert [c.quotePrefix for c in cells] == [False, False, True, False]


@pytest.mark.parametrize("title", ["'" + "楼" * 29 + "'x", "𠀀" * 20, "a" * 30 + "'b", "=1+1"])
def test_xlsx__a_sheet_named_after_typed_text_is_always_a_valid_excel_sheet_name(title):
    out = io.BytesIO()
    book = exports.Book(out)
    first = book.sheet(title, (("a", 8),))
    again = book.sheet(title, (("a", 8),))
    book.close()
    for name in (first.name, again.name):
        assert len(name.encode("utf-16-le")) <= 62 and not name.startswith("'") and not name.endswith("'")
    assert first.name != again.name
    assert [s.title for s in openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets] == [first.name, again.name]


# --- what a spreadsheet application does with them (LibreOffice, where installed) ----------------------

@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed (apt: libreoffice-calc-nogui)")
@pytest.mark.parametrize("separators", ["44", "44/59/9"], ids=["comma", "comma-semicolon-tab"])
def test_round_exports__csv_opened_by_libreoffice_with_formulas_evaluated__no_formula_cell(
        client, demo, tmp_path, separators):
    """LibreOffice converts each CSV to XLSX with 'evaluate formulas' on; openpyxl finds no formula cell."""
    for n, payload in enumerate(PAYLOADS):
        world = round_world(client, demo, payload)
        for kind in exports.KINDS:
            response = round_export(client, demo["tokens"]["supplier"], world["round_id"], kind, "csv")
            (tmp_path / f"{n}-{kind}.csv").write_bytes(body_bytes(response))
    files = sorted(str(p) for p in tmp_path.glob("*.csv"))
    # separators, quote ", UTF-8, from line 1, no column types, language, quoted as text off, special numbers
    # on, …, token 13: evaluate formulas on
    options = f"CSV:{separators},34,76,1,,0,false,true,false,false,false,0,true"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "xlsx",
                    f"--infilter={options}", "--outdir", str(tmp_path / "out"), *files],
                   check=True, capture_output=True, timeout=300)
    converted = sorted((tmp_path / "out").glob("*.xlsx"))
    assert len(converted) == len(files)
    for path in converted:
        for row in openpyxl.load_workbook(path).active.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
