"""Small text helpers: the example the README's Quick start documents with the embedded model."""

import re
import unicodedata


def slugify(text, max_len=40, separator="-"):
    if not text or not text.strip():
        raise ValueError("cannot slugify empty text")
    if max_len < 1:
        raise ValueError("max_len must be positive")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = separator.join(words)
    return slug[:max_len].rstrip(separator)


def count_words(text):
    """Count the words in a text.

    Args:
        text: The text to count words in.

    Returns:
        The number of whitespace-separated words.
    """
    return len(text.split())


class Truncator:
    def __init__(self, width, ellipsis="..."):
        self.width = width
        self.ellipsis = ellipsis

    def truncate(self, text):
        if len(text) <= self.width:
            return text
        return text[: self.width - len(self.ellipsis)] + self.ellipsis
