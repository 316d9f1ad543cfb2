"""Turn raw bytes a person brought into text, or say precisely why not.

Accepted encodings: UTF-8, UTF-8 with a byte-order mark, and UTF-16 with a
byte-order mark (what Windows Notepad writes as "Unicode") — and, only when the
bytes are not UTF-8, Western European single-byte text (Excel on Windows saves
cp1252) that the detector in charsets.py recognises. Anything else is refused
with the offending byte's position, because guessing freely (latin-1 decodes
*everything*) silently teaches a model mojibake.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NamedTuple

from seqlab.corpus.charsets import guess_western_encoding
from seqlab.errors import SeqlabError

MAX_CORPUS_BYTES = 50 * 1024 * 1024  # user corpora above this are refused (memory and training time)
_BINARY_PROBE_BYTES = 8192  # how much of the start is checked for binary content
_CONTROL_SHARE_LIMIT = 0.10  # more than 10% control characters means "not text"
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # what no text needs (tab, line breaks, form feed pass)
_C1_CONTROL = re.compile(r"[\x80-\x9f]")  # bytes 0x80-0x9F read as Latin-1: control characters, never text


class Decoded(NamedTuple):
    text: str
    encoding: str  # "utf-8", "utf-16", or a key of charsets.WESTERN_ENCODINGS ("cp1252", ...)


def human_size(num_bytes: float) -> str:
    """1536 -> '1.5 KB': sizes in messages people read."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.0f} {unit}" if unit == "bytes" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.1f} GB"


def check_size(num_bytes: int, source: str, max_bytes: int | None = MAX_CORPUS_BYTES) -> None:
    """Refuse empty and oversized inputs before doing any work on them."""
    if num_bytes == 0:
        raise SeqlabError(
            f"{source} is empty (0 bytes)",
            "a text file with at least a few thousand characters",
            "choose a file that contains text",
        )
    if max_bytes is not None and num_bytes > max_bytes:
        raise SeqlabError(
            f"{source} is {human_size(num_bytes)}, over the {human_size(max_bytes)} limit",
            f"a corpus of at most {human_size(max_bytes)}",
            "use a smaller excerpt of the text",
        )


def decode_text(data: bytes, source: str = "the input") -> str:
    """The text of `data` (see decode_bytes), without the name of its encoding."""
    return decode_bytes(data, source).text


def decode_bytes(data: bytes, source: str = "the input") -> Decoded:
    """Decode UTF-8 (with or without BOM), BOM-marked UTF-16, else recognised Western text; refuse binary data."""
    check_size(len(data), source, max_bytes=None)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise SeqlabError(
                f"{source} starts with a UTF-16 byte-order mark but byte {error.start} is not valid UTF-16",
                "a complete UTF-16 or UTF-8 text file",
                "re-save the file as UTF-8 in your editor",
            ) from None
        return Decoded(_refuse_control_text(text, source), "utf-16")
    if _utf16_without_bom(data[:_BINARY_PROBE_BYTES]):
        raise SeqlabError(
            f"{source} looks like UTF-16 text without a byte-order mark (every other byte is zero)",
            "text encoded as UTF-8, or UTF-16 with a byte-order mark",
            "re-save the file as UTF-8 (most editors offer this under 'Save as' / 'Encoding')",
        )
    if b"\x00" in data[:_BINARY_PROBE_BYTES]:
        raise SeqlabError(
            f"{source} looks like a binary file (it contains NUL bytes), not text",
            "a plain-text file (.txt, .csv or .tsv) in UTF-8",
            "export or save the document as plain text first",
        )
    try:
        text = data.decode("utf-8-sig")  # the default and the first choice: UTF-8 is never re-guessed
    except UnicodeDecodeError as error:
        return _decode_western(data, source, error)
    return Decoded(_refuse_control_text(text, source), "utf-8")


def _decode_western(data: bytes, source: str, utf8_error: UnicodeDecodeError) -> Decoded:
    """Not UTF-8: the whole file in the Western encoding the detector names, else the not-UTF-8 refusal."""
    encoding = guess_western_encoding(data)
    text = None
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:  # the sample read well, the rest of the file does not
            text = None
    if text is None or _C1_CONTROL.search(text):
        bad = data[utf8_error.start : utf8_error.start + 1].hex()
        raise SeqlabError(
            f"{source} is not valid UTF-8: byte 0x{bad} at position {utf8_error.start:,} cannot be decoded, "
            "and it does not read as Western European text either",
            "text encoded as UTF-8, UTF-16 with a byte-order mark, or Windows/Latin-1 Western European text "
            "(cp1252, ISO-8859-1/15, Mac Roman; Excel on Windows saves cp1252)",
            "re-save the file as UTF-8 (most editors offer this under 'Save as' / 'Encoding')",
        )
    return Decoded(_refuse_control_text(text, source), encoding)


def _utf16_without_bom(probe: bytes) -> bool:
    """Latin-script text saved as UTF-16 without a BOM: the high byte of each character is zero, so one of the
    two byte positions is almost all zeros and the other almost none (binary data has zeros at both)."""
    even, odd = probe[0::2], probe[1::2]
    if len(probe) < 8:
        return False
    mostly_zero = [half.count(0) >= 0.9 * len(half) for half in (even, odd)]
    mostly_not = [half.count(0) <= 0.1 * len(half) for half in (even, odd)]
    return (mostly_zero[0] and mostly_not[1]) or (mostly_zero[1] and mostly_not[0])


def _refuse_control_text(text: str, source: str) -> str:
    probe = text[:_BINARY_PROBE_BYTES]
    controls = sum(1 for ch in probe if ord(ch) < 32 and ch not in "\n\r\t\f\v")
    if probe and controls / len(probe) > _CONTROL_SHARE_LIMIT:
        raise SeqlabError(
            f"{source} looks like a binary file ({controls} control characters in its first "
            f"{len(probe):,} characters)",
            "a plain-text file",
            "export or save the document as plain text first",
        )
    stray = CONTROL_CHARACTER.search(text)  # anywhere, not only in the part probed above
    if stray:
        line = text.count("\n", 0, stray.start()) + 1
        raise SeqlabError(
            f"{source} holds a control character (U+{ord(stray.group()):04X}) on line {line:,}, "
            f"character {stray.start() + 1:,}",
            "plain text: letters, digits, punctuation, spaces, tabs and line breaks",
            "remove that character (or export the document as plain text again)",
        )
    if not text.strip():
        raise SeqlabError(
            f"{source} contains only whitespace",
            "a text with at least a few thousand characters",
            "choose a file that contains text",
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text_file(path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> str:
    """Read a user's text file with the checks above; missing files get a message too."""
    return decode_text(read_file_bytes(path, max_bytes), str(path))


def read_file_bytes(path: Path, max_bytes: int = MAX_CORPUS_BYTES) -> bytes:
    """The bytes of a user's file, after the checks every file gets: it exists, is a file, is not too big."""
    path = Path(path)
    if not path.exists():
        raise SeqlabError(
            f"No file or folder at {path}",
            "the path of an existing .txt, .csv or .tsv file",
            "check the spelling, or give a built-in corpus name (see `python -m seqlab corpora`)",
        )
    if path.is_dir():
        raise SeqlabError(
            f"{path} is a folder",
            "a .txt, .csv or .tsv file (or a Stanford aclImdb folder)",
            "give the path of a file inside it",
        )
    check_size(path.stat().st_size, str(path), max_bytes)
    return path.read_bytes()
