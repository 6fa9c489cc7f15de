"""Write the PWA icons (frontend/icons/icon-192.png, icon-512.png).

Standard library only (zlib + struct). The picture is a white rice bowl
heaped with rice on the app's green, kept inside the central 80% so the
same files also work as maskable icons.

    .venv/bin/python scripts/make_icons.py
"""
import pathlib
import struct
import zlib

GREEN = (0x0B, 0x5D, 0x3B)
WHITE = (0xFF, 0xFF, 0xFF)
RICE = (0xF4, 0xE9, 0xC8)
OUT = pathlib.Path(__file__).resolve().parent.parent / "frontend" / "icons"


def pixel(x: float, y: float) -> tuple:
    """Colour at (x, y), both in 0..1 with y pointing down."""
    cx = 0.5
    # Bowl: lower half of an ellipse below the rim.
    rim_y, bowl_rx, bowl_ry = 0.50, 0.30, 0.24
    if y >= rim_y and ((x - cx) / bowl_rx) ** 2 + ((y - rim_y) / bowl_ry) ** 2 <= 1:
        return WHITE
    # Foot of the bowl.
    if 0.72 <= y <= 0.77 and abs(x - cx) <= 0.11:
        return WHITE
    # Heap of rice: upper half of a flatter ellipse sitting on the rim.
    rice_rx, rice_ry = 0.26, 0.16
    if y < rim_y and ((x - cx) / rice_rx) ** 2 + ((y - rim_y) / rice_ry) ** 2 <= 1:
        return RICE
    return GREEN


def png(size: int) -> bytes:
    rows = []
    for j in range(size):
        row = bytearray(b"\x00")  # filter type: none
        for i in range(size):
            row.extend(pixel((i + 0.5) / size, (j + 0.5) / size))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        path = OUT / f"icon-{size}.png"
        path.write_bytes(png(size))
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
