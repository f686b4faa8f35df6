"""Draws the default group images (WEBP, 440x240 card and 100x100 thumbnail)
served when a group has no photos. Run once; the output is committed:
    python3 -m pip install pillow && python3 scripts/make-default-images.py
"""
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "assets" / "defaults"


def draw(w: int, h: int) -> Image.Image:
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            t = (x / w + y / h) / 2
            px[x, y] = (int(64 + 80 * t), int(170 - 40 * t), int(150 + 60 * t))
    d = ImageDraw.Draw(img)
    r = min(w, h) // 5
    cx, cy = w // 2, h // 2
    for dx in (-r, 0, r):  # three people: a meetup
        d.ellipse([cx + dx - r // 3, cy - r // 2 - r // 3, cx + dx + r // 3, cy - r // 2 + r // 3], fill=(255, 255, 255))
        d.pieslice([cx + dx - r // 2, cy, cx + dx + r // 2, cy + r], 180, 360, fill=(255, 255, 255))
    return img


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    draw(440, 240).save(OUT / "group_440x240.webp", "WEBP", quality=80)
    draw(100, 100).save(OUT / "group_100x100.webp", "WEBP", quality=80)
    print("wrote", *sorted(p.name for p in OUT.iterdir()))
