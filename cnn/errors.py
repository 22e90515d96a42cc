"""The errors users see: what cannot be classified, and why, in words a user understands."""


class InvalidImageError(ValueError):
    """The input cannot be classified; the message says why in words a user understands."""


class NothingDrawnError(InvalidImageError):
    """The image holds no item: one flat colour, or fully transparent (an empty canvas)."""
