"""Bag labels as a PDF: one label per household bag, for A4 label sheets or a 60×40 mm roll.

Pure: orders (anything with order_id, community_id, building, unit, room, phone and
lines of name and qty), the community names and a layout in; PDF bytes out. No HTTP,
no storage. api/exports.py fetches the orders and calls `render`.

Each label shows the community, the flat (building, unit, room) in large type, the
masked phone (the bag sits in a public place), the bundle lines, and a QR code of
`baogong:order:<order_id>` that the volunteer's phone decodes back to the order. The
pickup code is never printed: it is the resident's proof of collection.

The pages are drawn one at a time (canvas.showPage), so 10,000 labels never exist as
objects at once; reportlab still keeps each drawn page until it saves the file, which is why
each QR is a small inline image (about 1 KB a label in all; docs/benchmarks.md). The font is WenQuanYi Micro Hei cut down to GB2312
(api/fonts/wqy-microhei-gb2312.ttf, made by scripts/subset_font.py); reportlab embeds
the subset of glyphs each PDF uses. A character outside it (a rare surname) is drawn
as the font's missing glyph, a box.

The sheets follow common A4 label stock, so they also print onto pre-cut sheets:
2×5 is 99.1×57 mm (L7173), 3×7 is 63.5×38.1 mm (L7160), 4×10 is 45.7×25.4 mm (L7654).
A light dashed outline shows where to cut on plain paper.
"""
import io
from pathlib import Path
from typing import NamedTuple

from api.households import mask_phone

# reportlab.lib.units.mm, the same float. reportlab and segno are imported where a PDF is drawn, not
# here: every route's cold start imports this module (posters, statements) and most never draw.
mm = 72.0 / 2.54 * 0.1

FONT = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei-gb2312.ttf"
QR_PREFIX = "baogong:order:"
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
ELLIPSIS = "…"


class Layout(NamedTuple):
    """A page of labels. Lengths in mm; cells fill row by row from the top left."""

    name: str
    page: tuple[float, float]
    cols: int
    rows: int
    label: tuple[float, float]
    left: float          # page edge to the first column
    top: float           # page top to the first row
    gap: tuple[float, float]
    pad: float           # label edge to its content
    sizes: tuple[float, float, float]  # type in points: community, flat, body (phone and bundle lines)

    @property
    def header(self) -> float:
        """Height in points of the community and flat lines at the top of a label."""
        community, flat, _ = self.sizes
        return community * 1.15 + flat * 1.17

    @property
    def qr(self) -> float:
        """The QR code's side in mm, quiet zone included: all the height under the header."""
        return min(self.label[1] - 2 * self.pad - self.header / mm, self.label[0] / 2)

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    def cell(self, index: int) -> tuple[float, float, float, float]:
        """(x, y, width, height) in mm of the label at `index` on its page, y from the page's bottom."""
        row, col = divmod(index % self.per_page, self.cols)
        width, height = self.label
        x = self.left + col * (width + self.gap[0])
        y = self.page[1] - self.top - row * (height + self.gap[1]) - height
        return x, y, width, height


A4 = (210.0, 297.0)
LAYOUTS = {layout.name: layout for layout in (
    Layout("a4-2x5", A4, 2, 5, (99.1, 57.0), 4.65, 6.0, (2.5, 0.0), 4.0, (11, 26, 10.5)),
    Layout("a4-3x7", A4, 3, 7, (63.5, 38.1), 7.2, 15.15, (2.5, 0.0), 2.5, (7.5, 18, 7.5)),
    Layout("a4-4x10", A4, 4, 10, (45.7, 25.4), 9.7, 21.5, (2.6, 0.0), 1.6, (5.5, 11, 5.5)),
    Layout("roll-60x40", (60.0, 40.0), 1, 1, (60.0, 40.0), 0.0, 0.0, (0.0, 0.0), 2.5, (7.5, 17, 7.5)),
)}
DEFAULT_LAYOUT = "a4-3x7"


class Label(NamedTuple):
    community: str
    flat: str
    phone: str
    lines: tuple[tuple[str, str], ...]  # (bundle name, " ×2")
    qr_text: str


def label_of(order, community_name: str) -> Label:
    """What one bag's label says. Never the full phone, never the pickup code."""
    flat = " ".join(part for part in (order.building, order.unit, order.room) if part)
    lines = tuple((line.name, f" ×{int(line.qty)}") for line in order.lines)
    return Label(community_name, flat, mask_phone(order.phone or ""), lines, f"{QR_PREFIX}{order.order_id}")


_registered = False


def register_font() -> None:
    global _registered
    if not _registered:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
        _registered = True


def render(orders, names: dict[str, str], layout_name: str = DEFAULT_LAYOUT, title: str = "",
           out=None, progress=None) -> bytes | None:
    """The labels PDF of `orders` (any iterable, consumed once, in its order); one page saying
    没有订单 / No orders if there are none. Written to the binary file `out` if given (then None
    is returned), else returned as bytes. `progress(n)` is called after every page with the labels so far.
    """
    from reportlab.pdfgen.canvas import Canvas

    layout = LAYOUTS[layout_name]
    register_font()
    buffer = io.BytesIO() if out is None else out
    # The initial font is ours, so no unembedded Helvetica is referenced by any page.
    canvas = Canvas(buffer, pagesize=(layout.page[0] * mm, layout.page[1] * mm), pageCompression=1,
                    initialFontName=FONT, initialFontSize=layout.sizes[2])
    canvas.setTitle(title or "保供 bag labels")
    canvas.setCreator("Baogong 保供")
    count = 0
    for count, order in enumerate(orders, start=1):
        index = count - 1
        if index and index % layout.per_page == 0:
            canvas.showPage()
            if progress is not None:
                progress(index)
        _draw_label(canvas, layout, layout.cell(index), label_of(order, names.get(order.community_id, "")))
    if not count:
        _draw_empty(canvas, layout)
    canvas.showPage()
    canvas.save()
    if progress is not None:
        progress(count)
    return buffer.getvalue() if out is None else None


# --- drawing ---------------------------------------------------------------------------

def _width(text: str, size: float) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    return stringWidth(text, FONT, size)


def _fit(text: str, size: float, width: float, smallest: float, keep: str = "") -> tuple[str, float]:
    """Shrink `text` + `keep` down to `smallest` points to fit `width`; past that, cut `text` short
    with … (`keep`, the quantity, always stays whole)."""
    whole = text + keep
    if _width(whole, size) > width:
        size = max(smallest, size * width / _width(whole, size))
    if _width(whole, size) <= width:
        return whole, size
    while text and _width(text + ELLIPSIS + keep, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS + keep, size


def _text(canvas, x: float, baseline: float, text: str, size: float, bold: bool = False) -> None:
    t = canvas.beginText(x, baseline)
    t.setFont(FONT, size)
    if bold:  # the face has one weight; filling and stroking the glyphs thickens it for the flat
        canvas.setStrokeGray(0)
        canvas.setLineWidth(size * 0.04)
        t.setTextRenderMode(2)
    t.textOut(text)
    if bold:
        t.setTextRenderMode(0)  # Tr outlives the text object: put it back
    canvas.drawText(t)


def _draw_label(canvas, layout: Layout, cell, label: Label) -> None:
    x, y, w, h = (v * mm for v in cell)
    pad, qr = layout.pad * mm, layout.qr * mm
    community_size, flat_size, body_size = layout.sizes
    inner = w - 2 * pad

    canvas.saveState()
    if layout.per_page > 1:  # a cut line on plain paper; faint enough to vanish on pre-cut sheets
        canvas.setStrokeGray(0.8)
        canvas.setLineWidth(0.3)
        canvas.setDash(2, 2)
        canvas.rect(x, y, w, h, stroke=1, fill=0)
        canvas.setDash()

    top = y + h - pad
    text, size = _fit(label.community, community_size, inner, community_size * 0.7)
    baseline = top - size * 0.9
    _text(canvas, x + pad, baseline, text, size)

    text, size = _fit(label.flat, flat_size, inner, flat_size * 0.55)
    baseline -= community_size * 0.25 + size * 0.95
    _text(canvas, x + pad, baseline, text, size, bold=True)
    body_top = top - layout.header

    # The QR in the bottom right corner, the phone and the bundles to its left.
    qr_x, qr_y = x + w - pad - qr, y + pad
    _draw_qr(canvas, label.qr_text, qr_x, qr_y, qr)
    column = qr_x - (x + pad)  # the QR's own quiet zone is the gap
    leading = body_size * 1.25
    baseline = body_top - body_size * 1.05
    if label.phone:
        text, size = _fit(label.phone, body_size * 1.15, column, body_size * 0.8)
        _text(canvas, x + pad, baseline, text, size)
        baseline -= leading * 1.1
    clear = baseline - body_size * 0.22 - (y + pad)  # above the label's bottom padding
    room = int(clear // leading) + 1 if clear >= 0 else 0  # bundle lines that fit
    lines = list(label.lines)
    if len(lines) > room:
        kept = max(room - 1, 0)
        lines = lines[:kept] + ([(f"…另 {len(lines) - kept} 项", "")] if room else [])
    for name, qty in lines:
        text, size = _fit(name, body_size, column, body_size * 0.75, keep=qty)
        _text(canvas, x + pad, baseline, text, size)
        baseline -= leading
    canvas.restoreState()


def _draw_qr(canvas, text: str, x: float, y: float, side: float) -> None:
    """The QR code as a 1-bit inline image, one pixel a module, scaled up without smoothing; the
    quiet zone is included in `side`.

    An image is a few hundred bytes a label where drawing the modules as rectangles took several
    kilobytes, and reportlab keeps every page's content in memory until it saves the file: this
    is what keeps 10,000 labels' memory small.
    """
    import segno
    from PIL import Image

    matrix = segno.make_qr(text, error="m").matrix
    n = len(matrix) + 2 * QUIET_ZONE
    image = Image.new("1", (n, n), 1)
    pixels = image.load()
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pixels[c + QUIET_ZONE, r + QUIET_ZONE] = 0
    canvas.drawInlineImage(image, x, y, side, side)


def _draw_empty(canvas, layout: Layout) -> None:
    width, height = layout.page[0] * mm, layout.page[1] * mm
    size = min(24.0, width / 12)
    canvas.setFont(FONT, size)
    canvas.drawCentredString(width / 2, height / 2, "没有订单 / No orders")
