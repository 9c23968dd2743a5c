#!/usr/bin/env python3
"""Draws examples/pictures/seven.jpg and zip.jpg (needs numpy and pillow): run it in that folder.
They are drawn, not photographed, so they carry no one else's handwriting or licence."""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter
rng = np.random.default_rng(7)

def paper(w, h, base=(236, 230, 214)):
    y, x = np.mgrid[0:h, 0:w]
    # light from the top left, a shadow towards the bottom right corner
    shade = 1.0 - 0.18 * (x / w) * (y / h) - 0.05 * (y / h)
    img = np.stack([np.full((h, w), c, float) for c in base], -1) * shade[..., None]
    img += rng.normal(0, 4, (h, w, 1))
    return img

def ink(img, draw_fn, scale=4, blur=1.2, color=(40, 45, 90)):
    h, w = img.shape[:2]
    mask = Image.new("L", (w * scale, h * scale), 0)
    draw_fn(ImageDraw.Draw(mask), scale)
    mask = mask.resize((w, h), Image.LANCZOS).filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(mask, float)[..., None] / 255 * 0.92
    return img * (1 - a) + np.array(color, float) * a

def pen(d, pts, width, s):
    pts = [(x * s, y * s) for x, y in pts]
    d.line(pts, fill=255, width=int(width * s), joint="curve")
    r = width * s / 2
    for x, y in (pts[0], pts[-1]):
        d.ellipse([x - r, y - r, x + r, y + r], fill=255)

def arc(cx, cy, rx, ry, a0, a1, n=30):
    t = np.linspace(np.radians(a0), np.radians(a1), n)
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))

def save(img, path, quality):
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=quality)

# A 7 written with a ballpoint, photographed: 320 x 300.
img = paper(320, 300)
def seven(d, s):
    pen(d, [(92, 78), (150, 70), (214, 66), (222, 70)], 9, s)
    pen(d, [(222, 70), (196, 130), (168, 190), (146, 244)], 10, s)
save(ink(img, seven), "seven.jpg", 85)

# A zip code on a ruled line: 90210, 520 x 170.
img = paper(520, 170, base=(242, 240, 232))
img[128:131, :, :] = img[128:131, :, :] * 0.75 + np.array([120, 150, 200]) * 0.25  # the ruled line
def zip_code(d, s):
    pen(d, arc(75, 62, 26, 26, 0, 360), 7, s)                     # 9: loop
    pen(d, [(101, 62), (98, 100), (90, 125)], 7, s)                # 9: stem
    pen(d, arc(165, 80, 27, 44, 0, 360), 7, s)                     # 0
    pen(d, arc(250, 58, 26, 23, 200, 360) + [(272, 72), (226, 124), (284, 122)], 7, s)  # 2
    pen(d, [(322, 50), (342, 36), (342, 126)], 7, s)               # 1
    pen(d, arc(415, 81, 27, 44, 0, 360), 7, s)                     # 0
save(ink(img, zip_code, blur=0.9), "zip.jpg", 88)
