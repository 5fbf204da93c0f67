"""Turn a drawing or an image file into 28x28 images that look like MNIST.

A model trained on MNIST only reads digits that were prepared the way MNIST's were (LeCun;
reconstructed exactly by QMNIST): the ink's bounding box, padded to a square so a 1 stays
thin, shrunk to 20x20 with an area filter, stretched to full brightness, and pasted into
28x28 so that its centre of mass sits at the centre. Feeding the whole canvas shrunk to
28x28 instead reads drawn digits at 26-43% accuracy; this pipeline at 94-97% (measured with
benchmarks/drawn_digits.py on pen-drawn UNIPEN digits).

Everything here is numpy and Pillow, with no Python loop over pixels: it runs after every
stroke on the Draw page, and on files people upload, which may be anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from digits.data import IMAGE_SIZE

CANVAS_SIZE = 280  # the Draw page's canvas, in pixels
PEN_WIDTH = 18  # its pen, in pixels: white ink on a black background
BOX_SIZE = 20  # MNIST's digits fill a 20x20 box inside the 28x28 frame
INK_THRESHOLD = 0.2  # below this a pixel is faint anti-aliasing or noise, not ink, for finding the digit
FAINT_INK = 0.02  # the faint anti-aliased edge that still belongs to the digit's box
FAINT_GROWTH = 0.1  # ... but it may widen the box by at most this share of its size on each side
MIN_DIGIT_FRACTION = 0.1  # ink smaller than this share of the image's shorter side is a speck, not a digit
MIN_CONTRAST = 0.08  # an 8-bit image whose ink differs less than this from its background is blank
NOISE_SIGMAS = 5  # background noise this many standard deviations above the paper is still no ink
MAX_NOISE_FLOOR = 0.15  # ... but never discard more of the ink's range than this
MAX_IMAGE_PIXELS = 4096 * 4096  # larger uploads are refused before they are decoded
MAX_WORKING_SIDE = 1024  # larger images are shrunk first: digits need no more, and it bounds the time
MERGE_OVERLAP = 0.5  # strokes overlapping horizontally by this share of the narrower are one digit
FLAT_FRACTION = 0.65  # a stroke lower than this share of the tallest is part of a digit (bar, flag, base)
ATTACH_GAP = 0.25  # ... and joins a digit at most this share of the tallest away
_GRID_CELLS = 280  # strokes are traced on a grid at most this many cells wide: a canvas at full resolution
_MAX_PARTS = 64  # more separate strokes than this is no handful of digits

_FORMATS = ("PNG", "JPEG")  # Pillow's JPEG opener also reads phone cameras' multi-picture JPEGs (MPO)


class ImageError(ValueError):
    """An image that cannot be read; the message is meant for the person who gave it."""


def open_image(source: str | os.PathLike[str] | bytes) -> Image.Image:
    """Open a PNG or JPEG file (a path or its bytes), fully decoded, or raise ImageError.

    The declared size is checked before decoding: a small file can declare billions of
    pixels (a decompression bomb) and exhaust memory. Decoders raise a zoo of exception
    types on damaged input, so every failure is turned into one plain-language ImageError.
    """
    try:
        if isinstance(source, bytes | bytearray | memoryview):
            return _decode(io.BytesIO(bytes(source)))
        with open(source, "rb") as file:
            return _decode(file)
    except ImageError:
        raise
    except OSError as error:
        raise ImageError(f"The file could not be opened ({error.strerror or error}).") from error


def _decode(file: io.IOBase) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=_FORMATS)
        except Image.UnidentifiedImageError as error:
            raise ImageError("This file is not a PNG or JPEG image. Please use a PNG or JPEG picture.") from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageError("This picture is far too large. Please use one under 16 megapixels.") from error
        except Exception as error:  # Any decoder failure on untrusted bytes means the same to the user.
            raise ImageError("This picture is damaged and cannot be read.") from error
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise ImageError(
                f"This picture is too large ({width} x {height} pixels). Please use one under 16 megapixels."
            )
        if width < 1 or height < 1:
            raise ImageError("This picture is empty (it has no pixels).")
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageError("This picture is far too large. Please use one under 16 megapixels.") from error
        except Exception as error:  # Truncated data, bad checksums, broken chunks: all "damaged" to the user.
            raise ImageError("This picture is damaged or incomplete and cannot be read.") from error
    # A phone photo taken sideways stores "rotate me" in EXIF; a sideways 7 is no 7.
    # A broken EXIF block is no reason to refuse the picture itself.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)
    return image


def ink_from_canvas(rgba: np.ndarray) -> np.ndarray:
    """The canvas's RGBA pixels -> float32 ink 0..1, shape (H, W).

    With a black background the canvas sends alpha 255 everywhere, so the ink is in the RGB;
    with a transparent background, undrawn pixels have alpha 0, hence the product.
    """
    pixels = np.asarray(rgba)
    if pixels.ndim == 2:
        return _unit_float(pixels)
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 4) RGBA canvas; got shape {pixels.shape}")
    # Two element-wise maxima: numpy's max over a length-3 last axis is several times slower.
    ink = _unit_float(np.maximum(np.maximum(pixels[..., 0], pixels[..., 1]), pixels[..., 2]))
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3]
        if not (alpha.dtype == np.uint8 and alpha.min() == 255):
            ink *= _unit_float(alpha)
    return ink


def _unit_float(channel: np.ndarray) -> np.ndarray:
    if channel.dtype == np.uint8:
        return channel.astype(np.float32) * np.float32(1 / 255)
    values = np.nan_to_num(channel.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if values.size and values.max() > 1:  # 0..255 in a float or wider integer array
        values /= 255
    return np.clip(values, 0.0, 1.0)


def ink_from_image(image: Image.Image) -> np.ndarray:
    """Any Pillow image -> float32 ink 0..1 (H, W), ink bright, whichever way it was drawn.

    The background is the median of the border (a digit rarely covers half of its frame):
    if it is light, the ink is dark. Ink is the distance from the background, scaled by
    the largest distance, so a grey pencil on cream paper reads like white on black.
    Transparent pixels are background; where the background itself is transparent, the
    opacity is the ink. NaN and infinite values (float images) are background too.
    """
    values, alpha, full_scale = _luminance_and_alpha(image)
    if alpha is not None and _border(alpha).size and np.median(_border(alpha)) < 0.5:
        return alpha.astype(np.float32)
    usable = np.isfinite(values)
    if alpha is not None:
        usable &= alpha >= 0.5
    if not usable.any():
        return np.zeros(values.shape, dtype=np.float32)
    border = _border(values)[_border(usable)]
    background = float(np.median(border if border.size else values[usable]))
    low, high = float(values[usable].min()), float(values[usable].max())
    light_background = background > (low + high) / 2
    extreme = low if light_background else high
    contrast = abs(extreme - background)
    if contrast <= 0 or (full_scale is not None and contrast < MIN_CONTRAST * full_scale):
        return np.zeros(values.shape, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        ink = (background - values if light_background else values - background) / contrast
    # Paper grain and sensor noise: subtract a floor of a few standard deviations of the border's
    # spread (robustly, from its median absolute deviation). A clean drawing has none.
    spread = 1.4826 * float(np.median(np.abs(border - background))) / contrast if border.size else 0.0
    floor = min(NOISE_SIGMAS * spread, MAX_NOISE_FLOOR)
    if floor > 0:
        ink = (ink - floor) / (1 - floor)
    ink = np.clip(np.where(usable, ink, 0.0), 0.0, 1.0).astype(np.float32)
    if alpha is not None:
        ink *= alpha
    return ink


def _luminance_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, float | None]:
    """Grey values (float64), opacity 0..1 or None, and the full scale (255) where it is known."""
    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;"):
        return np.asarray(image).astype(np.float64), None, None
    if "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A")).astype(np.float32) / 255
        return np.asarray(rgba.convert("L")).astype(np.float64), alpha, 255.0
    try:
        grey = image.convert("L")
    except (ValueError, OSError):  # modes such as LAB and HSV have no conversion; their first band is lightness
        grey = image.getchannel(0)
    return np.asarray(grey).astype(np.float64), None, 255.0


def _border(values: np.ndarray) -> np.ndarray:
    if values.shape[0] <= 2 or values.shape[1] <= 2:
        return values.ravel()
    return np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])


def to_mnist(ink: np.ndarray) -> np.ndarray | None:
    """One digit's ink map -> 28x28 uint8 made the MNIST way, or None if there is no digit."""
    ink = _clean(ink)
    mask = ink >= INK_THRESHOLD
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    if max(bottom - top, right - left) < MIN_DIGIT_FRACTION * min(ink.shape):
        return None
    top, bottom = _grow(ink[:, left:right].max(axis=1), top, bottom)
    left, right = _grow(ink[top:bottom].max(axis=0), left, right)
    crop = ink[top:bottom, left:right]
    side = max(crop.shape)
    square = np.zeros((side, side), dtype=np.float32)
    y, x = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
    box = np.asarray(Image.fromarray(square).resize((BOX_SIZE, BOX_SIZE), Image.Resampling.BOX))
    brightest = float(box.max())
    if brightest <= 0:
        return None
    box = np.clip(np.rint(box * (255 / brightest)), 0, 255)
    offset_y, offset_x = _centring_offsets(box)
    frame = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    frame[offset_y : offset_y + BOX_SIZE, offset_x : offset_x + BOX_SIZE] = box.astype(np.uint8)
    return frame


def _grow(profile: np.ndarray, start: int, stop: int) -> tuple[int, int]:
    """Widen [start, stop) over the faint ink just outside it: MNIST's box includes its faint edges.

    The growth is capped, so faint noise next to a digit cannot drag its box far.
    """
    limit = max(1, round(FAINT_GROWTH * (stop - start)))
    before = profile[max(0, start - limit) : start][::-1] > FAINT_INK
    after = profile[stop : stop + limit] > FAINT_INK
    grow_before = int(before.size if before.all() else np.argmin(before))
    grow_after = int(after.size if after.all() else np.argmin(after))
    return start - grow_before, stop + grow_after


def _clean(ink: np.ndarray) -> np.ndarray:
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2:
        raise ValueError(f"expected a 2-D ink map; got shape {ink.shape}")
    if not np.isfinite(ink).all():
        ink = np.nan_to_num(ink, nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(ink, 0.0, 1.0)


def _centring_offsets(box: np.ndarray) -> tuple[int, int]:
    """Where to paste the 20x20 box so that its centre of mass lands on pixel (14, 14).

    MNIST's own digits have their centre of mass at 14.0 +- 0.5 in pixel indices.
    """
    total = float(box.sum())
    index = np.arange(BOX_SIZE, dtype=np.float64)
    centre_y = float(box.sum(axis=1) @ index) / total
    centre_x = float(box.sum(axis=0) @ index) / total
    limit = IMAGE_SIZE - BOX_SIZE
    target = IMAGE_SIZE / 2
    return (int(np.clip(round(target - centre_y), 0, limit)), int(np.clip(round(target - centre_x), 0, limit)))


@dataclass
class _Part:
    """A connected stroke, or a group of them, on the coarse grid: cell bounds are half-open."""

    top: int
    bottom: int
    left: int
    right: int
    runs: list[int]

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def absorb(self, other: _Part) -> None:
        self.top, self.bottom = min(self.top, other.top), max(self.bottom, other.bottom)
        self.left, self.right = min(self.left, other.left), max(self.right, other.right)
        self.runs.extend(other.runs)


def split_digits(ink: np.ndarray) -> list[np.ndarray]:
    """Split digits drawn side by side into one full-size ink map each, left to right.

    Strokes are found as connected components (on a coarser grid for big images, to bound
    the time); specks such as a pen tap are dropped; strokes that
    share most of their horizontal extent are one digit (the two strokes of a 4, a 7's
    crossbar); and a flat stroke (the bar of a 5, the base of a 1) joins the digit it
    overlaps or is nearest to. Touching digits stay together: people rarely join them.

    An image no larger than MNIST's 28x28 frame is one digit: there is no room for two legible ones, and some of
    MNIST's own scans carry a thin line beside the digit (8 of its 10,000 test digits) that would be cut off as
    a second digit.
    """
    ink = _clean(ink)
    height, width = ink.shape
    if max(height, width) <= IMAGE_SIZE:
        return [ink]
    factor = max(1, -(-max(height, width) // _GRID_CELLS))
    cells = _coarse_mask(ink >= INK_THRESHOLD, factor)
    starts_row, starts_col, ends_col = _runs(cells)
    if starts_row.size == 0:
        return []
    parts = _components(starts_row, starts_col, ends_col)
    min_cells = MIN_DIGIT_FRACTION * min(height, width) / factor
    kept = [part for part in parts if max(part.width, part.height) >= min_cells]
    if len(kept) > _MAX_PARTS:  # not a few handwritten digits (text, a pattern): bound the time, keep the biggest
        kept = sorted(kept, key=lambda part: max(part.width, part.height), reverse=True)[:_MAX_PARTS]
    digits = _group(kept)
    if len(digits) == 1 and len(kept) == len(parts):
        return [ink]  # one digit and nothing else: keep every faint edge pixel, as MNIST did
    digits.sort(key=lambda part: part.left + part.right)
    result = []
    for digit in digits:
        grid = np.zeros(cells.shape, dtype=bool)
        for run in digit.runs:
            grid[starts_row[run], starts_col[run] : ends_col[run]] = True
        grid = _dilate(grid)
        mask = np.repeat(np.repeat(grid, factor, axis=0), factor, axis=1)[:height, :width]
        result.append(ink * mask)
    return result


def _coarse_mask(mask: np.ndarray, factor: int) -> np.ndarray:
    """Each factor x factor block -> True if any of it is ink."""
    height, width = mask.shape
    padded_h, padded_w = -(-height // factor) * factor, -(-width // factor) * factor
    if (padded_h, padded_w) != mask.shape:
        mask = np.pad(mask, ((0, padded_h - height), (0, padded_w - width)))
    return mask.reshape(padded_h // factor, factor, padded_w // factor, factor).any(axis=(1, 3))


def _runs(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of inked cells: row, first column and end column (exclusive), in row-major order."""
    edges = np.diff(np.pad(cells.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts_row, starts_col = np.nonzero(edges == 1)
    _, ends_col = np.nonzero(edges == -1)
    return starts_row, starts_col, ends_col


def _components(starts_row: np.ndarray, starts_col: np.ndarray, ends_col: np.ndarray) -> list[_Part]:
    """Group runs into 8-connected components with union-find over the runs of adjacent rows."""
    count = starts_row.size
    stride = int(ends_col.max()) + 2
    start_keys = starts_row * stride + starts_col
    end_keys = starts_row * stride + ends_col
    # A run in row r touches the runs of row r+1 that end at or after its start and begin at or before its end.
    below_first = np.searchsorted(end_keys, (starts_row + 1) * stride + starts_col, side="left")
    below_last = np.searchsorted(start_keys, (starts_row + 1) * stride + ends_col, side="right")
    parent = list(range(count))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for run in np.flatnonzero(below_last > below_first).tolist():
        for other in range(int(below_first[run]), int(below_last[run])):
            a, b = root(run), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    # Each component's bounds and runs, with numpy: a component is numbered by its root, its smallest run.
    roots = np.fromiter((root(run) for run in range(count)), dtype=np.int64, count=count)
    order = np.argsort(roots, kind="stable")
    firsts = np.flatnonzero(np.r_[True, np.diff(roots[order]) != 0])
    tops = np.minimum.reduceat(starts_row[order], firsts).tolist()
    bottoms = (np.maximum.reduceat(starts_row[order], firsts) + 1).tolist()
    lefts = np.minimum.reduceat(starts_col[order], firsts).tolist()
    rights = np.maximum.reduceat(ends_col[order], firsts).tolist()
    runs = np.split(order, firsts[1:])
    return [_Part(top, bottom, left, right, part_runs.tolist())
            for top, bottom, left, right, part_runs in zip(tops, bottoms, lefts, rights, runs, strict=True)]


def _overlap(a: _Part, b: _Part) -> int:
    return min(a.right, b.right) - max(a.left, b.left)


def _group(parts: list[_Part]) -> list[_Part]:
    """Merge strokes into digits: shared horizontal extent first, then flat strokes onto a neighbour."""
    groups = [_Part(p.top, p.bottom, p.left, p.right, list(p.runs)) for p in parts]
    changed = True
    while changed:  # a grown group may now overlap one it was compared with before: repeat until stable
        changed = False
        i = 0
        while i < len(groups):
            grown, j = False, i + 1
            while j < len(groups):
                if _overlap(groups[i], groups[j]) >= MERGE_OVERLAP * min(groups[i].width, groups[j].width):
                    groups[i].absorb(groups.pop(j))
                    grown = changed = True
                else:
                    j += 1
            if not grown:
                i += 1
    while len(groups) > 1:
        tallest = max(group.height for group in groups)
        attachable = []
        for stroke in groups:
            if stroke.height >= FLAT_FRACTION * tallest:
                continue
            # The neighbour sharing the most horizontal extent, or, failing that, the nearest one.
            host = max((group for group in groups if group is not stroke), key=lambda group: _overlap(stroke, group))
            if _overlap(stroke, host) >= -ATTACH_GAP * tallest:
                attachable.append((stroke.height, id(stroke), stroke, host))
        if not attachable:
            break
        _, _, stroke, host = min(attachable, key=lambda item: item[:2])
        host.absorb(stroke)
        groups = [group for group in groups if group is not stroke]
    return groups


def _dilate(grid: np.ndarray) -> np.ndarray:
    """Grow by one cell, so the faint anti-aliased edge of a stroke stays with it."""
    grown = grid.copy()
    grown[1:] |= grid[:-1]
    grown[:-1] |= grid[1:]
    wide = grown.copy()
    wide[:, 1:] |= grown[:, :-1]
    wide[:, :-1] |= grown[:, 1:]
    return wide


def _digits_from_ink(ink: np.ndarray) -> list[np.ndarray]:
    images = (to_mnist(digit) for digit in split_digits(ink))
    return [image for image in images if image is not None]


def preprocess_canvas(rgba: np.ndarray) -> list[np.ndarray]:
    """The Draw page's canvas (RGBA) -> one 28x28 uint8 MNIST-style image per digit, left to right.

    An empty list means nothing was drawn (a blank canvas or a stray tap): say so rather than guess.
    """
    return _digits_from_ink(ink_from_canvas(rgba))


def preprocess_image(image: Image.Image) -> list[np.ndarray]:
    """Any picture of digits -> one 28x28 uint8 MNIST-style image per digit, left to right; [] if none."""
    return _digits_from_ink(ink_from_image(_working_copy(image)))


def _working_copy(image: Image.Image) -> Image.Image:
    """Shrink a big picture with an area filter first: a phone photo takes seconds otherwise, for no gain."""
    width, height = image.size
    if max(width, height) <= MAX_WORKING_SIDE:
        return image
    if image.mode.startswith("I;"):
        image = image.convert("I")
    elif image.mode not in ("L", "LA", "RGB", "RGBA", "I", "F"):
        has_alpha = "A" in image.getbands() or "a" in image.getbands() or "transparency" in image.info
        try:
            image = image.convert("RGBA" if has_alpha else "RGB")
        except (ValueError, OSError):  # LAB, HSV: keep the lightness band
            image = image.getchannel(0)
    scale = MAX_WORKING_SIDE / max(width, height)
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX)
