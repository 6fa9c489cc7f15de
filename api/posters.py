"""Join-QR posters for the gate, and sheets of volunteer invite QR codes, as A4 PDFs.

The poster is what a resident meets first: the community's join QR (the join link
`PUBLIC_URL/#/join/<join_key>`, the same one the liaison copies from the console), large
enough to scan from a metre away, the community's name, five steps in Chinese (扫码 →
登记楼栋房号 → 下单 → 付款 → 按通知取货), the fair-share rule (the community's own
`fair_share_days`), the pickup rules (取货码, 2 米间距, 分楼栋错峰) and the one
distribution point.

The volunteer sheet holds one-time invites (api/invites.create, role volunteer) as QR codes,
six to an A4 page, each with its number and expiry. An invite is a key to the staff console:
the sheet is cut up and handed to people, never posted.

Pure drawing plus the few reads it needs; nothing here knows about HTTP. The font is the
labels' WenQuanYi Micro Hei subset (api/labels.py), embedded in every PDF; the canvas starts
in it, so no page references an unembedded Helvetica.
"""
import html
import io
from typing import NamedTuple


from api import clock, communities, invites, labels
from api.auth import Principal
from api.errors import DomainError, storage_errors
from api.models import Community, SubDistrict

FONT = labels.FONT
mm = labels.mm
A4 = (210.0, 297.0)  # mm
MARGIN = 12.0
QUIET_ZONE = 4  # modules of white around a QR code, as ISO/IEC 18004 asks

# The poster's QR: the symbol (modules only) is 120 mm across. Scanning distance is roughly ten
# times a code's width, so 12 cm reads from a metre or more, and a join link (QR version 4 to 6)
# gives modules of 3 mm and more. Error level Q survives a torn corner or a strip of tape.
POSTER_QR_MM = 120.0
POSTER_QR_ERROR = "q"
# The volunteer sheet: 2 × 3 cards on a page, each QR up to 50 mm across (read at arm's length).
SHEET_COLS, SHEET_ROWS = 2, 3
CARD_QR_MM = 50.0
CARD_QR_ERROR = "m"
MAX_INVITES = 60

INK = (0.05, 0.05, 0.05)
ACCENT = (0.043, 0.365, 0.231)  # the app's theme colour, #0b5d3b
SHADE = (0.93, 0.96, 0.94)

STEPS = (  # (step, how), each hint short enough to wrap cleanly in its box
    ("扫码", "微信或相机扫描上方二维码"),
    ("登记楼栋房号", "选楼栋、单元，填房号和手机号"),
    ("下单", "选套餐和数量，提交订单"),
    ("付款", "扫订单页的收款码，备注房号"),
    ("按通知取货", "等本楼栋的取货通知，凭取货码取货"),
)
PICKUP_RULES = (
    "分楼栋错峰取货：收到本楼栋的取货通知后再下楼，不要提前聚集。",
    "凭 6 位取货码取货：只给配送点的志愿者看，不要发到群里。",
    "排队保持 2 米间距，全程佩戴口罩，取货后尽快回家。",
)


def fair_share_rule(days: int) -> str:
    """The community's fair-share setting (one live order per household per `days`; 0 is off), as residents read it."""
    if days <= 0:
        return "本小区目前不限制下单次数，请按需购买，不囤货。"
    period = "每天" if days == 1 else f"每 {days} 天"
    return f"公平限购：每户{period}只能下 1 单；订单取消或过期后可以重新下单。"


# --- what goes on the paper ------------------------------------------------------------------

class Poster(NamedTuple):
    community: str
    sub_district: str
    join_url: str
    fair_share_days: int
    distribution_point: tuple[str, str] | None  # (name, note)
    info_officer: str


class InviteCard(NamedTuple):
    number: int
    url: str
    code: str
    expires: str  # Beijing time, as a person reads it


def join_url(community: Community) -> str:
    """The join link, exactly as the console shows it (api/communities.view); it must be absolute to print."""
    url = communities.view(community)["join_url"]
    if not url.startswith(("https://", "http://")):
        raise DomainError("系统未设置对外网址（BAOGONG_PUBLIC_URL），无法生成二维码",
                          "The public address (BAOGONG_PUBLIC_URL) is not set, so no QR code can be made",
                          code="public_url_unset")
    return url


def poster_of(community: Community) -> Poster:
    with storage_errors():
        try:
            sub_district = SubDistrict.get(f"SUBDISTRICT#{community.sub_district_id}", "SUBDISTRICT").name
        except SubDistrict.DoesNotExist:
            sub_district = ""
    point = community.distribution_point
    return Poster(
        community=community.name, sub_district=sub_district, join_url=join_url(community),
        fair_share_days=int(community.fair_share_days),
        distribution_point=(point.name, point.note or "") if point else None,
        info_officer=community.info_officer.name if community.info_officer else "",
    )


STAFF_ROLES = ("liaison", "info_officer", "admin")


def poster_for_staff(principal: Principal, community_id: str) -> tuple[str, bytes]:
    """(file name, PDF) of the community's poster, for its liaison, information officer or admin; 404 otherwise."""
    community = communities.for_staff(principal, community_id, roles=STAFF_ROLES)
    return poster_filename(community.name), render_poster(poster_of(community))


def poster_filename(name: str) -> str:
    return f"{name}-入户二维码海报.pdf"


def volunteer_invites(principal: Principal, community: Community, count: int) -> list[InviteCard]:
    """`count` fresh one-time volunteer invites for the community, made by `principal` through api/invites."""
    if not 1 <= count <= MAX_INVITES:
        raise ValueError(f"count must be 1..{MAX_INVITES}")
    cards = []
    for number in range(1, count + 1):
        invite = invites.create(principal, "volunteer", community.community_id, f"志愿者 {number}")
        expires = clock.shanghai(_parse_iso(invite["expires_at"]))
        cards.append(InviteCard(number=number, url=invite["url"], code=invite["code"], expires=expires))
    return cards


def _parse_iso(text: str):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- PDFs ----------------------------------------------------------------------------------

def _canvas(buffer, title: str):
    from reportlab.pdfgen.canvas import Canvas

    labels.register_font()
    # Our font from the start: no page names an unembedded Helvetica (a non-embedded font prints as boxes).
    canvas = Canvas(buffer, pagesize=(A4[0] * mm, A4[1] * mm), pageCompression=1,
                    initialFontName=FONT, initialFontSize=10)
    canvas.setTitle(title)
    canvas.setCreator("Baogong 保供")
    return canvas


def render_poster(poster: Poster) -> bytes:
    """One A4 page: the join QR and everything a resident needs to know to use it."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"{poster.community} 入户二维码")
    _draw_poster(canvas, poster)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_invite_sheet(community_name: str, cards: list[InviteCard]) -> bytes:
    """The cards, SHEET_COLS × SHEET_ROWS to an A4 page, each a volunteer invite QR with its label."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"{community_name} 志愿者邀请码")
    per_page = SHEET_COLS * SHEET_ROWS
    for index, card in enumerate(cards):
        if index and index % per_page == 0:
            canvas.showPage()
        if index % per_page == 0:
            _draw_sheet_header(canvas, community_name, len(cards))
        _draw_card(canvas, community_name, card, index % per_page)
    if not cards:
        _text(canvas, A4[0] / 2 * mm, A4[1] / 2 * mm, "没有邀请码 / No invites", 20, centre=True)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- drawing -------------------------------------------------------------------------------

def _width(text: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    return stringWidth(text, FONT, size)


def _fit(text: str, size: float, width: float, smallest: float) -> tuple[str, float]:
    """`text` shrunk towards `smallest` points to fit `width` (points); past that, cut short with …."""
    if _width(text, size) > width:
        size = max(smallest, size * width / _width(text, size))
    if _width(text, size) <= width:
        return text, size
    while text and _width(text + "…", size) > width:
        text = text[:-1]
    return text + "…", size


def _text(canvas, x: float, baseline: float, text: str, size: float, *, bold: bool = False, centre: bool = False,
          colour=INK, max_width: float | None = None) -> float:
    """Draw one line (points); returns the size it was drawn at. Bold is the one weight filled and stroked."""
    if max_width is not None:
        text, size = _fit(text, size, max_width, size * 0.5)
    if centre:
        x -= _width(text, size) / 2
    canvas.saveState()
    canvas.setFillColorRGB(*colour)
    t = canvas.beginText(x, baseline)
    t.setFont(FONT, size)
    if bold:
        canvas.setStrokeColorRGB(*colour)
        canvas.setLineWidth(size * 0.025)
        t.setTextRenderMode(2)
    t.textOut(text)
    if bold:
        t.setTextRenderMode(0)
    canvas.drawText(t)
    canvas.restoreState()
    return size


def _para(text: str, size: float, colour=INK, bullet: str = ""):
    from reportlab.lib.colors import Color
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    style = ParagraphStyle("p", fontName=FONT, bulletFontName=FONT, fontSize=size, leading=size * 1.35,
                           textColor=Color(*colour), wordWrap="CJK",
                           leftIndent=size * 1.1 if bullet else 0, bulletIndent=0)
    return Paragraph(html.escape(text, quote=False), style, bulletText=bullet or None)  # as markup: & < > only


def _paragraph(canvas, text: str, x: float, top: float, width: float, size: float, *, colour=INK,
               bullet: str = "") -> float:
    """Text wrapped at any CJK character into `width` from `top` down (points); returns the height used."""
    para = _para(text, size, colour, bullet)
    _, height = para.wrap(width, 1000 * mm)
    para.drawOn(canvas, x, top - height)
    return height


def _bullets_height(lines, width: float, size: float) -> float:
    return sum(_para(line, size, bullet="●").wrap(width, 1000 * mm)[1] + size * 0.45 for line in lines)


def qr_matrix(text: str, error: str):
    import segno
    return segno.make_qr(text, error=error).matrix


def _draw_qr(canvas, text: str, x: float, y: float, symbol: float, error: str) -> float:
    """The QR code's modules as filled rectangles (sharp at any print size), symbol `symbol` points wide with
    its bottom-left corner at (x, y); a white quiet zone of QUIET_ZONE modules around it. Returns the
    quiet zone's width in points."""
    matrix = qr_matrix(text, error)
    n = len(matrix)
    module = symbol / n
    quiet = QUIET_ZONE * module
    canvas.saveState()
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x - quiet, y - quiet, symbol + 2 * quiet, symbol + 2 * quiet, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                # Rows run top down; PDF's y runs bottom up. A hair of overlap hides seams between runs.
                path.rect(x + start * module, y + (n - r - 1) * module, (c - start) * module, module * 1.002)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()
    return quiet


def _box(canvas, x, y, w, h, fill=SHADE):
    canvas.saveState()
    canvas.setFillColorRGB(*fill)
    canvas.setStrokeColorRGB(*ACCENT)
    canvas.setLineWidth(0.8)
    canvas.roundRect(x, y, w, h, 2.5 * mm, stroke=1, fill=1)
    canvas.restoreState()


def _draw_poster(canvas, poster: Poster) -> None:
    page_w, page_h = A4[0] * mm, A4[1] * mm
    left, inner = MARGIN * mm, (A4[0] - 2 * MARGIN) * mm
    centre = page_w / 2

    # Header: what this is, then the community's name as large as fits.
    canvas.saveState()
    canvas.setFillColorRGB(*ACCENT)
    canvas.rect(0, page_h - 24 * mm, page_w, 24 * mm, stroke=0, fill=1)
    canvas.restoreState()
    _text(canvas, centre, page_h - 15.5 * mm, "扫码登记 · 保供团购", 30, bold=True, centre=True, colour=(1, 1, 1),
          max_width=inner)
    _text(canvas, centre, page_h - 37 * mm, poster.community, 34, bold=True, centre=True, max_width=inner)
    subtitle = f"{poster.sub_district} · 居民入户二维码" if poster.sub_district else "居民入户二维码"
    _text(canvas, centre, page_h - 45 * mm, subtitle, 12, centre=True, max_width=inner, colour=(0.3, 0.3, 0.3))

    # The QR, centred; its quiet zone stays clear of every other mark.
    symbol = POSTER_QR_MM * mm
    modules = len(qr_matrix(poster.join_url, POSTER_QR_ERROR))
    quiet = QUIET_ZONE * symbol / modules
    qr_top = page_h - 49 * mm - quiet
    qr_bottom = qr_top - symbol
    _draw_qr(canvas, poster.join_url, centre - symbol / 2, qr_bottom, symbol, POSTER_QR_ERROR)
    below = qr_bottom - quiet

    # The five steps, one box each.
    gap = 3 * mm
    step_w = (inner - 4 * gap) / 5
    step_h = 23 * mm
    step_top = below - 1 * mm
    for i, (title, hint) in enumerate(STEPS):
        x = left + i * (step_w + gap)
        _box(canvas, x, step_top - step_h, step_w, step_h)
        _text(canvas, x + 2 * mm, step_top - 6.5 * mm, f"{'①②③④⑤'[i]} {title}", 12, bold=True, colour=ACCENT,
              max_width=step_w - 4 * mm)
        _paragraph(canvas, hint, x + 2 * mm, step_top - 9 * mm, step_w - 4 * mm, 8.5)
        if i < len(STEPS) - 1:
            _text(canvas, x + step_w + gap / 2, step_top - step_h / 2 - 1.5 * mm, "→", 9, centre=True,
                  colour=ACCENT)

    # The distribution point, in a band of its own.
    band_top = step_top - step_h - 3 * mm
    band_h = 13 * mm
    _box(canvas, left, band_top - band_h, inner, band_h, fill=(1, 1, 1))
    if poster.distribution_point:
        name, note = poster.distribution_point
        _text(canvas, left + 3 * mm, band_top - 6.5 * mm, f"配送点：{name}", 15, bold=True, max_width=inner - 6 * mm)
        if note:
            _text(canvas, left + 3 * mm, band_top - 11 * mm, note, 9, max_width=inner - 6 * mm,
                  colour=(0.25, 0.25, 0.25))
    else:
        _text(canvas, left + 3 * mm, band_top - 8 * mm, "配送点：另行通知，请留意群消息", 15, bold=True,
              max_width=inner - 6 * mm)

    # Two columns: ordering rules, pickup rules.
    cols_top = band_top - band_h - 3 * mm
    col_w = (inner - gap) / 2
    col_h = cols_top - (MARGIN + 5) * mm
    ordering = [fair_share_rule(poster.fair_share_days),
                "请在付款截止前付款；截止时仍未付款的订单不配送。"]
    officer = f"信息员{poster.info_officer}" if poster.info_officer else "小区信息员"
    ordering.append(f"独居老人、残疾人等不方便下楼的住户，请联系{officer}，可以代下单、送货上门。")
    columns = (("下单规则", ordering), ("取货须知", PICKUP_RULES))
    room = col_h - 12 * mm
    size = 10.5  # the largest type at which both columns fit their boxes (an officer's long name wraps more)
    while size > 7 and max(_bullets_height(lines, col_w - 6 * mm, size) for _, lines in columns) > room:
        size -= 0.5
    for column, (heading, lines) in enumerate(columns):
        x = left + column * (col_w + gap)
        _box(canvas, x, cols_top - col_h, col_w, col_h)
        _text(canvas, x + 3 * mm, cols_top - 7 * mm, heading, 13, bold=True, colour=ACCENT)
        top = cols_top - 10 * mm
        for line in lines:
            top -= _paragraph(canvas, line, x + 3 * mm, top, col_w - 6 * mm, size, bullet="●") + size * 0.45

    # Footer: the link in words, for anyone who can't scan.
    _text(canvas, centre, MARGIN * mm, f"扫不了码？在浏览器打开：{poster.join_url}", 8, centre=True,
          max_width=inner, colour=(0.3, 0.3, 0.3))


def _card_cell(index: int) -> tuple[float, float, float, float]:
    """(x, y, w, h) in points of card `index` on its page, y from the bottom; the header takes the top 20 mm."""
    top = (A4[1] - MARGIN - 14) * mm
    w = (A4[0] - 2 * MARGIN) * mm / SHEET_COLS
    h = (top - MARGIN * mm) / SHEET_ROWS
    row, col = divmod(index, SHEET_COLS)
    return MARGIN * mm + col * w, top - (row + 1) * h, w, h


def _draw_sheet_header(canvas, community_name: str, count: int) -> None:
    inner = (A4[0] - 2 * MARGIN) * mm
    _text(canvas, MARGIN * mm, (A4[1] - MARGIN - 6) * mm, f"{community_name} · 志愿者邀请码（共 {count} 张）", 15,
          bold=True, colour=ACCENT, max_width=inner)
    _text(canvas, MARGIN * mm, (A4[1] - MARGIN - 11.5) * mm,
          "沿虚线剪开，一人一张当面交给志愿者；每张只能用一次，扫码即成为本小区志愿者。请勿张贴或发到群里。", 9,
          max_width=inner, colour=(0.25, 0.25, 0.25))


def _draw_card(canvas, community_name: str, card: InviteCard, index: int) -> None:
    x, y, w, h = _card_cell(index)
    canvas.saveState()
    canvas.setStrokeGray(0.6)
    canvas.setLineWidth(0.4)
    canvas.setDash(3, 3)
    canvas.rect(x, y, w, h, stroke=1, fill=0)
    canvas.restoreState()
    pad = 4 * mm
    text_w = w - 2 * pad
    _text(canvas, x + pad, y + h - pad - 5 * mm, f"志愿者邀请 No.{card.number}", 13, bold=True, colour=ACCENT,
          max_width=text_w)
    _text(canvas, x + pad, y + h - pad - 10 * mm, community_name, 10, max_width=text_w)
    # The QR and its quiet zone between the lines above (down to 16 mm from the top) and below (12 mm up).
    span_bottom, span_top = y + 12 * mm, y + h - pad - 12 * mm
    modules = len(qr_matrix(card.url, CARD_QR_ERROR))
    symbol = min(CARD_QR_MM * mm, (span_top - span_bottom) * modules / (modules + 2 * QUIET_ZONE))
    middle = (span_bottom + span_top) / 2
    _draw_qr(canvas, card.url, x + (w - symbol) / 2, middle - symbol / 2, symbol, CARD_QR_ERROR)
    _text(canvas, x + w / 2, y + 8.5 * mm, f"有效期至 {card.expires}（北京时间）· 限一人使用", 8.5, centre=True,
          max_width=text_w)
    _text(canvas, x + w / 2, y + 4 * mm, f"邀请码 {card.code}", 7.5, centre=True, max_width=text_w,
          colour=(0.35, 0.35, 0.35))
