"""Western European text that is not UTF-8: what Excel on Windows and older editors save.

Only bytes that are not UTF-8 and carry no byte-order mark come here (decoding.py tries UTF-8 first, always).
The detector is charset_normalizer (installed with requests). It reads a bounded sample — the lines that hold
non-ASCII bytes, since the ASCII rest reads the same in every candidate — and its guess is taken only when it is
one of the few single-byte Western encodings people really have, and when that reading is about as clean as the
best reading in any encoding: Polish, Greek or Russian text is refused rather than turned into mojibake.
"""

from __future__ import annotations

import re

# Python's codec name -> how the Data page and `inspect` name it
WESTERN_ENCODINGS = {
    "cp1252": "Windows Western (cp1252)",
    "latin_1": "Latin-1 (ISO-8859-1)",
    "iso8859_15": "Latin-9 (ISO-8859-15)",
    "mac_roman": "Mac Roman",
}
UNICODE_ENCODINGS = ("utf-8", "utf-16")  # what decoding.py reads without a guess: nothing to tell the person
SAMPLE_BYTES = 64 * 1024  # the detector reads at most this much, whatever the file's size
_LINE_BYTES = 400  # of each sampled line, at most this much around its first non-ASCII byte
_CHAOS_MARGIN = 0.02  # the Western reading may be this much messier than the best reading anywhere
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def non_ascii_sample(data: bytes, budget: int = SAMPLE_BYTES) -> bytes:
    """Up to `budget` bytes: the lines (cut around their first non-ASCII byte) where encodings differ."""
    pieces: list[bytes] = []
    size, position = 0, 0
    while size < budget:
        found = _NON_ASCII.search(data, position)
        if found is None:
            break
        line_start = data.rfind(b"\n", 0, found.start()) + 1
        line_end = data.find(b"\n", found.start())
        line_end = len(data) if line_end < 0 else line_end
        start = max(line_start, found.start() - _LINE_BYTES // 2)
        piece = data[start : min(line_end, start + _LINE_BYTES)]
        pieces.append(piece)
        size += len(piece) + 1
        position = start + len(piece) + 1  # the next line, or further along a long one
    return b"\n".join(pieces)[:budget]


def guess_western_encoding(data: bytes) -> str | None:
    """The codec name (a key of WESTERN_ENCODINGS) the bytes are most likely in, or None: not Western text."""
    from charset_normalizer import from_bytes

    sample = non_ascii_sample(data)
    if not sample:
        return None
    western = from_bytes(sample, cp_isolation=list(WESTERN_ENCODINGS)).best()
    if western is None or western.encoding not in WESTERN_ENCODINGS:
        return None
    anywhere = from_bytes(sample).best()
    if anywhere is not None and western.chaos > anywhere.chaos + _CHAOS_MARGIN:
        return None  # another alphabet reads cleaner: e.g. Polish (cp1250) would come out as "Za¿ó³æ"
    return western.encoding


def encoding_note(encoding: str | None) -> str | None:
    """The plain-words line for a corpus read through a guess; None for UTF-8/UTF-16 (or nothing recorded)."""
    if encoding is None or encoding in UNICODE_ENCODINGS:
        return None
    name = WESTERN_ENCODINGS.get(encoding, encoding)
    return f"Read as {name} — the file was not UTF-8. If accents look wrong, save it as UTF-8."
