"""Training-time augmentation, applied to whole batches inside tf.data.

Besides the usual flips, shifts and random erasing, a fraction of the images is redrawn in
the styles users actually send: outlines (what a mouse sketch looks like after
preprocessing) and flat silhouettes (a filled sketch or a cut-out with no texture).
Images are (batch, 28, 28, 1) float32 in 0..1, bright item on black.
"""

import keras
import tensorflow as tf

SHIFT_PIXELS = 2
ERASE_PROBABILITY = 0.5
ERASE_MAX_FRACTION = 0.4  # of the side length
OUTLINE_PROBABILITY = 0.08
SILHOUETTE_PROBABILITY = 0.04
INK_THRESHOLD = 0.1


def dilate(images: tf.Tensor, size: int) -> tf.Tensor:
    return tf.nn.max_pool2d(images, ksize=size, strides=1, padding="SAME")


def erode(images: tf.Tensor, size: int) -> tf.Tensor:
    return -tf.nn.max_pool2d(-images, ksize=size, strides=1, padding="SAME")


def soften(images: tf.Tensor) -> tf.Tensor:
    """3x3 binomial blur, like the anti-aliasing of a downscaled pen stroke."""
    kernel_1d = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = tf.reshape(tf.tensordot(kernel_1d, kernel_1d, axes=0), (3, 3, 1, 1))
    return tf.nn.conv2d(images, kernel, strides=1, padding="SAME")


def outline_style(images: tf.Tensor) -> tf.Tensor:
    """The item's contour drawn with a 1- or 2-pixel pen, with no fill and no texture."""
    batch = tf.shape(images)[0]
    mask = tf.cast(images > INK_THRESHOLD, tf.float32)
    thin = mask - erode(mask, 3)  # 1-pixel inner contour
    thick = dilate(mask, 3) - erode(mask, 3)  # 2-pixel contour
    use_thick = tf.random.uniform((batch, 1, 1, 1)) < 0.5
    contour = tf.where(use_thick, thick, thin)
    use_blur = tf.random.uniform((batch, 1, 1, 1)) < 0.5
    contour = tf.where(use_blur, soften(contour), contour)
    peak = tf.reduce_max(contour, axis=(1, 2, 3), keepdims=True)
    intensity = tf.random.uniform((batch, 1, 1, 1), 0.6, 1.0)
    return contour / tf.maximum(peak, 1e-6) * intensity


def silhouette_style(images: tf.Tensor) -> tf.Tensor:
    """The item as one flat shade, as a filled sketch or a plain cut-out looks."""
    batch = tf.shape(images)[0]
    mask = tf.cast(images > INK_THRESHOLD, tf.float32)
    intensity = tf.random.uniform((batch, 1, 1, 1), 0.6, 1.0)
    return mask * intensity


def random_erase(images: tf.Tensor) -> tf.Tensor:
    """Blank one random rectangle per image (Zhong et al., 2017) so no single part is relied on."""
    batch = tf.shape(images)[0]
    size = images.shape[1]
    heights = tf.random.uniform((batch, 1, 1, 1), 0.1, ERASE_MAX_FRACTION) * size
    widths = tf.random.uniform((batch, 1, 1, 1), 0.1, ERASE_MAX_FRACTION) * size
    tops = tf.random.uniform((batch, 1, 1, 1)) * (size - heights)
    lefts = tf.random.uniform((batch, 1, 1, 1)) * (size - widths)
    rows = tf.reshape(tf.range(size, dtype=tf.float32), (1, size, 1, 1))
    cols = tf.reshape(tf.range(size, dtype=tf.float32), (1, 1, size, 1))
    inside = (rows >= tops) & (rows < tops + heights) & (cols >= lefts) & (cols < lefts + widths)
    apply = tf.random.uniform((batch, 1, 1, 1)) < ERASE_PROBABILITY
    return tf.where(inside & apply, 0.0, images)


class Augmenter:
    """Callable batch augmenter; holds the Keras random layers so their seeds advance."""

    def __init__(self, seed: int, styles: bool = True):
        self.flip = keras.layers.RandomFlip("horizontal", seed=seed)
        shift = SHIFT_PIXELS / 28
        self.shift = keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed + 1)
        self.styles = styles

    def __call__(self, images: tf.Tensor) -> tf.Tensor:
        images = self.flip(images, training=True)
        images = self.shift(images, training=True)
        if self.styles:
            batch = tf.shape(images)[0]
            draw = tf.random.uniform((batch, 1, 1, 1))
            images = tf.where(draw < OUTLINE_PROBABILITY, outline_style(images), images)
            is_silhouette = (draw >= OUTLINE_PROBABILITY) & (draw < OUTLINE_PROBABILITY + SILHOUETTE_PROBABILITY)
            images = tf.where(is_silhouette, silhouette_style(images), images)
        return random_erase(images)
