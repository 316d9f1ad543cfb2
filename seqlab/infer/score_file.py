"""Scoring a whole CSV/TSV file of reviews: streamed chunk by chunk, written beside the target and renamed at the
end, with every cell a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from seqlab.corpus.charsets import guess_western_encoding
from seqlab.corpus.decoding import check_size
from seqlab.corpus.imdb import clean_review
from seqlab.corpus.tables import TEXT_COLUMN_NAMES, _looks_like_labels, _pick_column, check_width
from seqlab.errors import SeqlabError
from seqlab.infer.scoring import ReviewScorer, _check_batch_size, verdict

DELIMITERS = {".csv": ",", ".tsv": "\t"}
OUTPUT_COLUMNS = ("probability_positive", "predicted_label")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what makes a spreadsheet evaluate a cell
_PROBE_BYTES = 8192
_GUESS_BYTES = 4 << 20  # the encoding guess reads at most this much of a table that is not UTF-8


def _open_table(path: Path):
    """A text handle on a CSV/TSV, or a SeqlabError for empty, oversized, binary or non-UTF files."""
    path = Path(path)
    if not path.is_file():
        raise SeqlabError(f"No file at {path}", "the path of a .csv or .tsv file", "check the path")
    if path.suffix.lower() not in DELIMITERS:
        raise SeqlabError(f"'{path.name}' is not a .csv or .tsv file", "a table of reviews ending in .csv or .tsv",
                          "save the table as CSV (or TSV) with a header row")
    check_size(path.stat().st_size, str(path))
    with open(path, "rb") as file:
        probe = file.read(_PROBE_BYTES)
    utf16 = probe.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    sample = probe.decode("utf-16" if utf16 else "utf-8", errors="ignore")
    controls = sum(1 for character in sample if ord(character) < 32 and character not in "\n\r\t\f\v")
    if (not utf16 and b"\x00" in probe) or (sample and controls / len(sample) > 0.1):
        raise SeqlabError(f"{path} looks like a binary file, not a table", "a CSV/TSV text file in UTF-8",
                          "export the table as CSV (UTF-8) first")
    return open(path, encoding="utf-16" if utf16 else _utf8_or_western(path), newline="")


def _utf8_or_western(path: Path) -> str:
    """'utf-8-sig' when the whole file is UTF-8 (checked in chunks, nothing kept), else the Western encoding
    (Excel on Windows saves cp1252) that charset_normalizer reads from the file's non-ASCII lines, as for corpora;
    neither: 'utf-8-sig', and the row reader names the line that does not decode."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as file:
        try:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            file.seek(0)
            guessed = guess_western_encoding(file.read(_GUESS_BYTES))
    return guessed or "utf-8-sig"


def _rows(handle, delimiter: str, source: str) -> Iterator[list[str]]:
    """Non-blank CSV rows; a decoding error names the line it happened after."""
    reader = csv.reader(handle, delimiter=delimiter)
    header_seen = False
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if not header_seen:  # a table too wide is refused before any data row is read
                    check_width(len(row), source)
                    header_seen = True
                yield row
    except UnicodeDecodeError:
        raise SeqlabError(f"{source} is not valid UTF-8 (after line {reader.line_num:,})",
                          "text encoded as UTF-8, UTF-16 with a byte-order mark, or Windows/Latin-1 (cp1252)",
                          "re-save the file as UTF-8 (most editors offer this under 'Save as')") from None
    except csv.Error as error:
        raise SeqlabError(f"{source} is not a readable table at line {reader.line_num:,} ({error})",
                          "a CSV/TSV file with a header row", "check the quoting around that line") from None


def _text_column(header: list[str], sample: list[list[str]], chosen: str | None, source: str) -> int:
    if chosen is not None:
        if chosen not in header:
            raise SeqlabError(f"{source} has no column named '{chosen}'", f"one of its columns: {', '.join(header)}",
                              "choose the text column from that list")
        return header.index(chosen)
    named = _pick_column(header, TEXT_COLUMN_NAMES, "text", source)
    if named is not None:
        return header.index(named)
    columns = [[row[i] if i < len(row) else "" for row in sample] for i in range(len(header))]
    candidates = [i for i, values in enumerate(columns) if any(v.strip() for v in values)
                  and not _looks_like_labels([v for v in values if v.strip()])]
    if not candidates:
        raise SeqlabError(f"{source} has no column with review text (columns: {', '.join(header)})",
                          "a column of free text, ideally named 'text' or 'review'",
                          "name the column with --text-column (or the column picker in the app)")
    return max(candidates, key=lambda i: sum(len(value) for value in columns[i]))


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet will show as text: one starting with =, +, -, @, a tab or a carriage return would run
    as a formula when a teacher opens the scored file (CSV injection), so it gets a leading apostrophe (OWASP)."""
    return "'" + cell if cell[:1] in FORMULA_STARTS else cell


def score_csv(scorer: ReviewScorer, in_path: Path, out_path: Path, text_column: str | None = None,
              progress: Callable[[int], None] | None = None, chunk_size: int = 512) -> int:
    """Score every row of a CSV/TSV (streamed, chunk by chunk); returns the number of rows written.

    The output holds the input columns plus probability_positive and predicted_label (columns of those names
    already present are replaced); a row with an empty text gets empty values. It is written to a temporary
    file beside `out_path` and renamed at the end, so a reader never sees half a file.
    """
    _check_batch_size(chunk_size)
    in_path, out_path = Path(in_path), Path(out_path)
    source = str(in_path)
    out_delimiter = DELIMITERS.get(out_path.suffix.lower(), DELIMITERS.get(in_path.suffix.lower(), ","))
    with _open_table(in_path) as handle:
        rows = _rows(handle, DELIMITERS[in_path.suffix.lower()], source)
        header = [cell.strip() for cell in next(rows, [])]
        first = [row for _, row in zip(range(chunk_size), rows)]
        if not header or not first:
            raise SeqlabError(f"{source} has no data rows under its header", "a header row and one row per review",
                              "add rows, or check that the file is the one you meant")
        column = _text_column(header, first, text_column, source)
        kept = [i for i, name in enumerate(header) if name not in OUTPUT_COLUMNS]
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
        except OSError as error:
            raise SeqlabError(f"Cannot write {out_path} ({error.strerror})", "a writable output folder",
                              "choose another --out path") from None
        try:
            count = _write_scores(scorer, descriptor, out_delimiter, header, kept, column, first, rows, chunk_size,
                                  progress)
            os.replace(temporary, out_path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return count


def _write_scores(scorer, descriptor, delimiter, header, kept, column, first, rows, chunk_size, progress) -> int:
    count = scored = 0
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([spreadsheet_safe(header[i]) for i in kept] + list(OUTPUT_COLUMNS))
        chunk = first
        while chunk:
            for row in chunk:
                if any(cell.strip() for cell in row[len(header):]):
                    raise SeqlabError(f"Data row {count + 1:,} has {len(row)} fields but the header has "
                                      f"{len(header)}", "the same number of fields in every row",
                                      "quote fields that contain the delimiter")
                row[:] = row[:len(header)] + [""] * (len(header) - len(row))
            texts = [clean_review(row[column]) for row in chunk]
            filled = [i for i, text in enumerate(texts) if text]
            values = scorer._probabilities_of_clean([texts[i] for i in filled])
            outputs = [["", ""] for _ in chunk]
            for i, value in zip(filled, values.tolist()):
                outputs[i] = [f"{value:.6f}", verdict(value)]
            writer.writerows([[spreadsheet_safe(row[i]) for i in kept] + output for row, output in zip(chunk, outputs)])
            count, scored = count + len(chunk), scored + len(filled)
            if progress is not None:
                progress(count)
            chunk = [row for _, row in zip(range(chunk_size), rows)]
        if not scored:
            raise SeqlabError(f"Column '{header[column]}' holds no text in any row", "reviews to score",
                              "choose the column that holds the reviews (--text-column)")
        out.flush()
        os.fsync(out.fileno())
    return count
