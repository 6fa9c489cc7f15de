"""Printable tables as PDF (settlement statements): A4 landscape, the labels' CJK font embedded.

A PDF meant for people must carry its font (a non-embedded CID font prints as boxes), so every cell is a
Paragraph in the same TrueType font the bag labels embed, wrapping Chinese text at any character.
"""
from typing import BinaryIO

from api import labels


def table_pdf(out: BinaryIO, title: str, columns, rows: list[list], footer: str = "") -> None:
    """`columns`: (header, relative width) pairs, as the XLSX sheets declare them."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    labels.register_font()
    cell = ParagraphStyle("cell", fontName=labels.FONT, bulletFontName=labels.FONT, fontSize=7.5, leading=9.5,
                          wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, fontSize=8)
    heading = ParagraphStyle("title", parent=cell, fontSize=14, leading=18)

    def para(value, style=cell):
        text = "" if value is None else str(value)
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), style)

    doc = SimpleDocTemplate(out, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=title, creator="Baogong 保供",
                            # our font from the first page on: no unembedded Helvetica is referenced anywhere
                            initialFontName=labels.FONT)
    width = landscape(A4)[0] - 20 * mm
    weights = sum(w for _, w in columns)
    table = LongTable([[para(h, head) for h, _ in columns]] + [[para(v) for v in row] for row in rows],
                      colWidths=[width * w / weights for _, w in columns], repeatRows=1)
    # FONTNAME too: a table names its cells' font even when every cell is a Paragraph.
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), labels.FONT), ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8F1EC")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [para(title, heading), Spacer(1, 4 * mm), table]
    if footer:
        story += [Spacer(1, 4 * mm), para(footer, heading)]
    doc.build(story)
