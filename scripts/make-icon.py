#!/usr/bin/env python3
"""Draws Muster's app icon (a rounded indigo tile with a white 'M' of three people-like
strokes) as a 1024x1024 8-bit RGBA PNG, the source `tauri icon` derives every size from.
Pure standard library, so it runs anywhere: python3 scripts/make-icon.py icons/source.png"""
import struct
import sys
import zlib

SIZE = 1024


def inside_rounded(x, y, margin=64, radius=200):
    lo, hi = margin, SIZE - margin
    if x < lo or x >= hi or y < lo or y >= hi:
        return False
    cx = min(max(x, lo + radius), hi - radius)
    cy = min(max(y, lo + radius), hi - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def on_glyph(x, y):
    # An 'M': two uprights and a V between them, 90 px strokes.
    w = 90
    top, bottom = 300, 740
    if not (top <= y <= bottom):
        return False
    if 270 <= x <= 270 + w or 664 <= x <= 664 + w:
        return True
    # the V: from the tops of the uprights down to the middle
    t = (y - top) / (bottom - top - 180)
    if t <= 1.0:
        left = 270 + t * (512 - 270 - w / 2)
        right = 754 - t * (754 - 512 - w / 2)
        return left <= x <= left + w or right - w <= x <= right
    return False


def pixel(x, y):
    if not inside_rounded(x, y):
        return (0, 0, 0, 0)
    if on_glyph(x, y):
        return (255, 255, 255, 255)
    # a vertical indigo gradient
    t = y / SIZE
    return (int(67 + 30 * t), int(56 + 20 * t), int(202 - 40 * t), 255)


def main(path):
    rows = bytearray()
    for y in range(SIZE):
        rows.append(0)
        for x in range(SIZE):
            rows.extend(pixel(x, y))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as out:
        out.write(png)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "icons/source.png")
