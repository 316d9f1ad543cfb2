"""Text encodings people have (issue 23, item 5): Excel-on-Windows cp1252 and Latin-1 are read through a detector
and said so; UTF-8 stays the default and is never re-guessed; what is neither is refused as before."""

import random
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from seqlab.corpus import decoding
from seqlab.corpus.charsets import SAMPLE_BYTES, WESTERN_ENCODINGS, encoding_note, non_ascii_sample
from seqlab.corpus.decoding import MAX_CORPUS_BYTES, decode_bytes
from seqlab.corpus.registry import corpus_from_bytes, load_corpus
from seqlab.errors import SeqlabError
from tests.conftest import REPO

REVIEWS = [  # é, ’, “ ”, €, … and – are bytes 0x80-0x9F in cp1252 (C1 control characters in Latin-1)
    ("“Un film magnifique”, l’acteur est génial — 10 € bien dépensés", "pos"),
    ("Très ennuyeux… je n’ai pas aimé – à éviter", "neg"),
    ("Una película estupenda, ¡me encantó! Vale cada €", "pos"),
    ("Schöne Bilder, aber die Geschichte ist schlecht und öde", "neg"),
]
CP1252_CSV = ("text,label\r\n" + "".join(f'"{text}",{label}\r\n' for text, label in REVIEWS * 10)).encode("cp1252")
NOT_UTF8 = "is not valid UTF-8"


def test_a_cp1252_csv_from_excel_loads_with_its_encoding_recorded():
    corpus = corpus_from_bytes(CP1252_CSV, "reviews.csv")
    assert corpus.texts[:4] == [text for text, _ in REVIEWS]
    assert list(corpus.labels[:4]) == [1, 0, 1, 0]
    assert corpus.details["encoding"] == "cp1252"
    assert encoding_note("cp1252") == ("Read as Windows Western (cp1252) — the file was not UTF-8. "
                                       "If accents look wrong, save it as UTF-8.")


def test_a_latin_1_text_loads(tmp_path):
    text = "Schöne Grüße aus München. Die Straße ist lang, und der Käse ist würzig.\n" * 40
    path = tmp_path / "brief.txt"
    path.write_bytes(text.encode("latin-1"))
    corpus = load_corpus(str(path))
    assert corpus.text == text
    assert corpus.details["encoding"] in WESTERN_ENCODINGS  # cp1252 and Latin-1 read these bytes alike
    assert encoding_note(corpus.details["encoding"]).startswith("Read as ")


def test_utf8_stays_utf8_and_is_never_guessed(monkeypatch):
    def no_guessing(data):
        raise AssertionError("the detector was asked about UTF-8 text")

    monkeypatch.setattr(decoding, "guess_western_encoding", no_guessing)
    text = "“Un film magnifique”, l’acteur est génial — 10 €\n" * 20
    assert decode_bytes(text.encode()) == (text, "utf-8")
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8")
    assert corpus_from_bytes(text.encode(), "mine.txt").details["encoding"] == "utf-8"
    assert encoding_note("utf-8") is None and encoding_note("utf-16") is None and encoding_note(None) is None


@pytest.mark.parametrize("name,data", [
    ("russian.txt", "Привет мир, это тест текста на русском языке.\n".encode("cp1251") * 30),
    ("polish.txt", "Zażółć gęślą jaźń, to jest polski tekst.\n".encode("cp1250") * 30),
    ("greek.txt", "Καλημέρα κόσμε, αυτό είναι ένα κείμενο.\n".encode("cp1253") * 30),
    ("random.bin", random.Random(7).randbytes(20_000).replace(b"\x00", b"\x01")),
], ids=["russian", "polish", "greek", "random"])
def test_what_is_neither_utf8_nor_western_is_refused_with_the_message(name, data):
    with pytest.raises(SeqlabError, match=NOT_UTF8) as caught:
        decode_bytes(data, name)
    message = str(caught.value)
    assert name in message and "byte 0x" in message and "Windows/Latin-1" in message and "UTF-8" in message


def test_a_png_is_still_refused():
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00"
    with pytest.raises(SeqlabError, match="binary"):
        decode_bytes(header + random.Random(3).randbytes(4000), "photo.png")
    with pytest.raises(SeqlabError, match=f"{NOT_UTF8}|control character|binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n" + b"IHDR" * 10, "photo.png")


def test_latin_1_control_bytes_are_refused():
    """0x81/0x8D/0x8F/0x90/0x9D are nothing in cp1252 and control characters in Latin-1: never text."""
    data = ("Café crème " * 50).encode("latin-1") + b"\x81\x8d\x90" + ("à bientôt " * 50).encode("latin-1")
    with pytest.raises(SeqlabError, match=NOT_UTF8):
        decode_bytes(data, "odd.txt")


def test_a_western_file_with_a_control_character_is_refused_as_before():
    data = ("Café crème, naïve façade.\n" * 100).encode("cp1252") + b"bell\x07\n"
    with pytest.raises(SeqlabError, match=r"control character \(U\+0007\) on line 101"):
        decode_bytes(data, "bell.txt")


def test_the_detector_reads_a_bounded_sample():
    line = "“Très bon film”, l’acteur était génial — 10 € bien dépensés\n".encode("cp1252")
    assert len(non_ascii_sample(line * 100_000)) <= SAMPLE_BYTES
    assert non_ascii_sample(b"plain ascii\n" * 1000) == b""
    long_line = b"x" * 5000 + "é".encode("latin-1") + b"y" * 5000
    assert len(non_ascii_sample(long_line)) <= 400 and "é".encode("latin-1") in non_ascii_sample(long_line)


@pytest.mark.parametrize("layout", ["accents-everywhere", "one-accent-at-the-end", "russian"])
def test_a_50_mb_non_utf8_file_is_decided_quickly(layout):
    western = "“Très bon film”, l’acteur était génial — 10 € bien dépensés,pos\n".encode("cp1252")
    ascii_line = b"The quick brown fox jumps over the lazy dog, again and again,neg\n"
    russian = "Привет мир, это тест текста на русском языке.\n".encode("cp1251")
    line, tail = {"accents-everywhere": (western, b""), "one-accent-at-the-end": (ascii_line, western),
                  "russian": (russian, b"")}[layout]
    data = line * ((MAX_CORPUS_BYTES - len(tail)) // len(line)) + tail
    started = time.perf_counter()
    try:
        outcome = decode_bytes(data, "big.csv").encoding
    except SeqlabError as error:
        outcome = str(error)
    elapsed = time.perf_counter() - started
    print(f"\n{layout}: {len(data) / 2**20:.1f} MB decided in {elapsed:.2f} s -> {outcome[:60]}")
    assert outcome == "cp1252" if layout != "russian" else NOT_UTF8 in outcome
    assert elapsed < 5.0


def test_inspect_says_how_the_file_was_read(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_bytes(CP1252_CSV)
    result = subprocess.run([sys.executable, "-m", "seqlab", "inspect", str(path)], capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert ("  Read as Windows Western (cp1252) — the file was not UTF-8. If accents look wrong, save it as UTF-8."
            in result.stdout.splitlines())
    utf8 = tmp_path / "mine.txt"
    utf8.write_text("Un texte en UTF-8, avec des accents : é à ç.\n" * 20, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "seqlab", "inspect", str(utf8)], capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0 and "Read as" not in result.stdout


def test_the_data_page_says_how_an_upload_was_read():
    app = AppTest.from_file(str(REPO / "pages" / "data.py"), default_timeout=60).run()
    app.radio[0].set_value("Upload").run()
    app.file_uploader[0].set_value(("excel.csv", CP1252_CSV, "text/csv")).run()
    assert not app.exception and not app.error
    assert [box.value for box in app.info if "Read as" in box.value] == [encoding_note("cp1252")]
    assert app.dataframe  # the statistics still follow
    app.file_uploader[0].set_value(("utf8.csv", CP1252_CSV.decode("cp1252").encode(), "text/csv")).run()
    assert not app.exception and not app.error
    assert not [box.value for box in app.info if "Read as" in box.value]
