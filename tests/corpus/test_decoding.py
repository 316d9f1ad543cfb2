import codecs

import pytest

from seqlab.corpus.decoding import check_size, decode_text, human_size, read_text_file
from seqlab.errors import SeqlabError


def test_utf8_with_and_without_bom():
    assert decode_text("héllo\r\nworld".encode()) == "héllo\nworld"
    assert decode_text(codecs.BOM_UTF8 + "héllo".encode()) == "héllo"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_read(encoding):
    text = "To be, or not to be — ¿qué?\n"
    data = text.encode(encoding)
    if encoding != "utf-16":  # the plain codec writes a BOM itself
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    assert decode_text(data) == text


def test_empty_is_refused():
    with pytest.raises(SeqlabError, match="empty"):
        decode_text(b"", "f.txt")


def test_whitespace_only_is_refused():
    with pytest.raises(SeqlabError, match="only whitespace"):
        decode_text(b"  \n\n ", "f.txt")


def test_binary_with_nul_bytes_is_refused():
    with pytest.raises(SeqlabError, match="binary") as caught:
        decode_text(bytes(range(256)) * 10, "photo.png")
    assert "photo.png" in str(caught.value) and "plain-text" in str(caught.value)


def test_control_characters_count_as_binary():
    with pytest.raises(SeqlabError, match="binary"):
        decode_text(b"\x01\x02\x03\x04abc" * 100)


def test_undecodable_bytes_name_the_position():
    """Neither UTF-8 nor Western European text (Latin-1/cp1252 is read: tests/corpus/test_encodings.py)."""
    with pytest.raises(SeqlabError, match=r"not valid UTF-8: byte 0xcf at position 6 .*UTF-8"):
        decode_text("Text: Привет мир, это тест.\n".encode("cp1251") * 20)


def test_size_cap():
    with pytest.raises(SeqlabError, match="over the 1.0 KB limit"):
        check_size(5000, "big.txt", max_bytes=1024)
    check_size(1000, "ok.txt", max_bytes=1024)


def test_human_size():
    assert human_size(512) == "512 bytes"
    assert human_size(1536) == "1.5 KB"
    assert human_size(50 * 1024 * 1024) == "50.0 MB"


def test_read_text_file_errors(tmp_path):
    with pytest.raises(SeqlabError, match="No file or folder"):
        read_text_file(tmp_path / "missing.txt")
    with pytest.raises(SeqlabError, match="is a folder"):
        read_text_file(tmp_path)
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    with pytest.raises(SeqlabError, match="limit"):
        read_text_file(big, max_bytes=1000)
    assert read_text_file(big) == "x" * 2000


def test_a_control_character_anywhere_is_refused_with_its_place():
    text = "To be, or not to be.\n" * 1000  # 21,000 characters: far past the first 8 KB probed for binary
    data = (text + "that is\x1b[31m the question\n").encode()
    with pytest.raises(SeqlabError, match=r"control character \(U\+001B\) on line 1,001, character 21,008"):
        decode_text(data, "play.txt")
    assert decode_text((text + "tabs\tand\fform feeds\r\n").encode(), "play.txt").endswith("form feeds\n")
