"""Pictures of what the network sees, as NumPy arrays: crisp upscaling, colour ramps, Grad-CAM overlays
and feature-map mosaics. Pure NumPy, no Streamlit and no matplotlib: the pages only display the arrays,
and tests check them directly."""

import numpy as np

PIXEL_SCALE = 10  # a 28x28 image shown 280x280: each model pixel is a crisp 10x10 block

# Colour ramps as (position, RGB) anchors, interpolated linearly: matplotlib's perceptually uniform maps
# (van der Walt and Smith), sampled every eighth. Brightness rises steadily from low to high, so intensity
# reads right in grey and for colour-blind eyes, where a rainbow's yellow band looks hotter than its red.
# Grad-CAM in inferno (black, purple, orange, pale yellow), feature maps in viridis (purple, teal, yellow).
HEAT_COLOURS = tuple(zip(np.linspace(0.0, 1.0, 9).tolist(), (
    (0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85), (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164),
)))  # fmt: skip
MAP_COLOURS = tuple(zip(np.linspace(0.0, 1.0, 9).tolist(), (
    (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142), (31, 158, 137), (53, 183, 121), (109, 205, 89), (253, 231, 37),
)))  # fmt: skip
HEAT_LEGEND = "dark: ignored, bright yellow: decisive"


def as_uint8(image: np.ndarray) -> np.ndarray:
    """An image, uint8 or float in 0..1, as uint8."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255).round().astype(np.uint8)
    return array


def upscale(image: np.ndarray, scale: int = PIXEL_SCALE) -> np.ndarray:
    """A small image (H, W) or (H, W, 3), uint8 or float 0..1, blown up with nearest-neighbour so pixels stay crisp."""
    return np.repeat(np.repeat(as_uint8(image), scale, axis=0), scale, axis=1)


PNG_COMPRESS_LEVEL = 3


def png_data_url(picture: np.ndarray) -> str:
    """A uint8 grey or RGB array as a lossless data:image/png URL, for a browser to show inline."""
    import base64
    import io

    from PIL import Image

    array = np.asarray(picture)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ValueError(f"Expected a uint8 picture (H, W) or (H, W, 3), got {array.dtype} {array.shape}.")
    buffer = io.BytesIO()
    # Pages encode several pictures on every stroke: level 3 takes half the time of zlib's default 6 for a
    # few more kilobytes.
    Image.fromarray(array).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def colourise(values: np.ndarray, anchors=HEAT_COLOURS) -> np.ndarray:
    """Values in 0..1, any shape -> float RGB in 0..1, shape + (3,)."""
    positions = [position for position, _ in anchors]
    channels = [np.interp(values, positions, [colour[channel] / 255 for _, colour in anchors]) for channel in range(3)]
    return np.stack(channels, axis=-1)


def grad_cam_overlay(model_input: np.ndarray, heatmap: np.ndarray, scale: int = PIXEL_SCALE, strength: float = 0.65) -> np.ndarray:
    """The 28x28 model input in grey with the Grad-CAM heatmap coloured on top, upscaled: uint8 RGB.

    The colour's opacity follows the heat, so regions the network ignores stay plain grey.
    """
    grey = np.repeat(np.asarray(model_input, dtype=np.float32)[..., np.newaxis], 3, axis=-1)
    opacity = strength * np.asarray(heatmap, dtype=np.float32)[..., np.newaxis]
    return upscale((1 - opacity) * grey + opacity * colourise(heatmap), scale)


def heat_legend(width: int = 28 * PIXEL_SCALE, height: int = 12) -> np.ndarray:
    """The Grad-CAM colour ramp as a strip, from 'ignored' (left) to 'decisive' (right): uint8 RGB."""
    ramp = colourise(np.linspace(0.0, 1.0, width))
    return (np.repeat(ramp[np.newaxis], height, axis=0) * 255).round().astype(np.uint8)


def feature_map_grid(maps: np.ndarray, columns: int | None = None, tile: int | None = None, gap: int = 2) -> np.ndarray:
    """A layer's activations (H, W, C) as one uint8 RGB mosaic, each channel scaled to its own peak.

    Per-channel scaling shows each filter's pattern; a channel that stays silent is left dark.
    By default the mosaic is about 920 px wide: 8 large tiles a row up to 32 channels, else 16.
    """
    height, width, channels = maps.shape
    columns = min(columns or (8 if channels <= 32 else 16), channels)
    tile = tile or 920 // columns - gap
    rows = -(-channels // columns)
    scale = max(1, tile // max(height, width))
    normalised = scaled_to_peaks(maps)
    cell_h, cell_w = height * scale + gap, width * scale + gap
    mosaic = np.full((rows * cell_h - gap, columns * cell_w - gap, 3), 255, dtype=np.uint8)
    for channel in range(channels):
        row, column = divmod(channel, columns)
        tile_image = upscale(colourise(normalised[..., channel], MAP_COLOURS), scale)
        mosaic[row * cell_h : row * cell_h + height * scale, column * cell_w : column * cell_w + width * scale] = tile_image
    return mosaic


def scaled_to_peaks(maps: np.ndarray) -> np.ndarray:
    """Activations (H, W, C), each channel divided by its own peak: float32 in 0..1, silent channels all 0."""
    peaks = maps.max(axis=(0, 1))  # (C,)
    return np.divide(maps, peaks, out=np.zeros_like(maps, dtype=np.float32), where=peaks > 0)


def most_active_channels(maps: np.ndarray, count: int) -> np.ndarray:
    """The indices of the layer's `count` channels with the highest peak for this image, strongest first."""
    peaks = maps.max(axis=(0, 1))  # (C,)
    return np.argsort(-peaks, kind="stable")[:count]


def tile_row(images: list[np.ndarray], tile: int, gap: int = 4, background: int = 255) -> np.ndarray:
    """Small images (H, W) or (H, W, 3), uint8 or float 0..1, scaled to tile x tile with crisp pixels and laid
    side by side: one uint8 RGB picture, so a page sends one image instead of many."""
    row = np.full((tile, len(images) * (tile + gap) - gap, 3), background, dtype=np.uint8)
    for position, image in enumerate(images):
        array = np.asarray(image)
        scaled = upscale(array, max(1, tile // max(array.shape[:2])))
        if scaled.ndim == 2:
            scaled = np.repeat(scaled[..., np.newaxis], 3, axis=-1)
        height, width = min(tile, scaled.shape[0]), min(tile, scaled.shape[1])
        top, left = (tile - height) // 2, position * (tile + gap) + (tile - width) // 2
        row[top : top + height, left : left + width] = scaled[:height, :width]
    return row


def channel_columns(layers: list[np.ndarray], tile: int, gap: int = 4) -> np.ndarray:
    """Each layer's chosen channels (H, W, k) as a column of coloured tiles, each scaled to its own peak,
    the layers side by side: one uint8 RGB picture of what every layer sees."""
    columns = []
    for maps in layers:
        normalised = scaled_to_peaks(maps)
        tiles = [colourise(normalised[..., channel], MAP_COLOURS) for channel in range(maps.shape[-1])]
        columns.append(np.vstack([np.pad(tile_row([image], tile, gap), ((0, gap), (0, 0), (0, 0)), constant_values=255)
                                  for image in tiles])[:-gap])  # fmt: skip
    height = max(column.shape[0] for column in columns)
    spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
    return np.hstack([part for column in columns for part in (column, spacer)][:-1])
