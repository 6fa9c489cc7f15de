"""Regenerate api/fonts/wqy-microhei-gb2312.ttf, the CJK font embedded in the bag-label PDF.

Lambda has no system fonts, so the labels PDF embeds a font shipped with the code
(api/labels.py). reportlab embeds TrueType-outline fonts only, so the source is
WenQuanYi Micro Hei 文泉驿微米黑 (glyf outlines; Apache-2.0 or GPLv3 with the font
embedding exception: api/fonts/LICENSE-wqy-microhei.txt). The whole face is 5 MB
with 34,600 characters; labels need far fewer, so this keeps:

- printable ASCII, and the Latin-1 signs a label may carry (¥ × ·);
- every character GB2312 encodes: its symbol rows (Chinese punctuation 、。「」《》…,
  full-width digits and letters, ①, Greek, box drawing) and its level-1 and level-2
  hanzi (3,755 + 3,008: the names of almost every mainland place and person);
- the CJK Symbols and Punctuation block (U+3000–303F), the general punctuation
  dashes, quotes and ellipsis (U+2010–2027), and the Halfwidth and Fullwidth Forms
  block (U+FF00–FFEF).

A character outside the subset (a rare surname) is drawn as the font's missing
glyph (.notdef, a box); nothing fails. Hinting, vertical metrics and OpenType
layout tables are dropped: reportlab uses none of them and labels are printed.

Run it on a Debian machine (dev time only; fontTools is not a run-time dependency):

    apt-get install -y fonts-wqy-microhei
    .venv/bin/pip install fonttools
    .venv/bin/python -m scripts.subset_font            # writes api/fonts/wqy-microhei-gb2312.ttf
    .venv/bin/python -m scripts.subset_font --source path/to/wqy-microhei.ttc --out other.ttf
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
OUT = ROOT / "api" / "fonts" / "wqy-microhei-gb2312.ttf"


def gb2312_chars() -> set[str]:
    """Every character GB2312 encodes: rows 1-9 (symbols) and 16-87 (level-1 and level-2 hanzi)."""
    chars = set()
    for row in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # an unassigned code point in the row
    return chars


def wanted() -> set[int]:
    codepoints = set(range(0x20, 0x7F))
    codepoints |= {0xA0, 0xA5, 0xB7, 0xD7, 0xF7}           # nbsp ¥ · × ÷
    codepoints |= set(range(0x2010, 0x2028))                # ‐ – — ‘ ’ “ ” … and friends
    codepoints |= set(range(0x3000, 0x3040))                # 、。〈〉《》「」【】〔〕
    codepoints |= set(range(0xFF00, 0xFFF0))                # full-width forms: （）：，０-９ Ａ-Ｚ
    codepoints |= {ord(c) for c in gb2312_chars()}
    return codepoints


def subset(source: Path, out: Path) -> tuple[int, int]:
    """Write the subset; returns (characters kept, bytes written)."""
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source), fontNumber=0)  # the .ttc's first face: WenQuanYi Micro Hei (not Mono)
    assert "glyf" in font, "reportlab embeds TrueType (glyf) outlines only"
    options = ft_subset.Options()
    options.hinting = False
    options.notdef_outline = True          # the missing glyph stays a visible box
    options.name_IDs = ["*"]               # keep copyright, licence and font names
    options.name_languages = ["*"]
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM", "vhea", "vmtx", "gasp"]
    subsetter = ft_subset.Subsetter(options)
    cmap = font.getBestCmap()
    kept = sorted(cp for cp in wanted() if cp in cmap)
    subsetter.populate(unicodes=kept)
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(out))
    return len(kept), out.stat().st_size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE, help=f"wqy-microhei.ttc (default {SOURCE})")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the subset to write (default {OUT})")
    args = parser.parse_args(argv)
    count, size = subset(args.source, args.out)
    print(f"{args.out}: {count} characters, {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
