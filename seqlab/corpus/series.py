"""Numeric series for the forecast task: the built-in ones, and a column of a person's CSV/TSV table.

A forecast run learns from one column of numbers in time order. Two series ship with seqlab: yearly sunspot
numbers (statsmodels' copy, data/sunspots.csv, public domain: data/sunspots.NOTICE.txt) and a seeded synthetic
one (a 12-step season, a slow trend and noise), on which a working model must beat the naive forecasts. A person's
table goes through the same decoding and size checks as every corpus; its gaps (empty, NA, NaN…) are filled by
straight lines between their neighbours, or dropped at the ends, and counted, so the Data page can say so.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from seqlab.corpus.decoding import MAX_CORPUS_BYTES, decode_bytes, read_file_bytes
from seqlab.errors import SeqlabError, require

MAX_SERIES_VALUES = 100_000  # rows of a person's table: a recurrent model reads windows of it, not all of it
MISSING = {"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a"}
DATE_NAMES = ("date", "time", "datetime", "timestamp", "year", "month", "day", "period", "ds", "week")
SYNTHETIC_SEASON, SYNTHETIC_VALUES, SYNTHETIC_SEED = 12, 1000, 2026


@dataclass(frozen=True)
class BuiltinSeries:
    name: str
    description: str
    season_length: int  # the series' own season, in steps
    unit: str


BUILTIN_SERIES = {info.name: info for info in (
    BuiltinSeries("sunspots", "Yearly mean sunspot numbers 1700–2008 (statsmodels' data set; an ~11-year cycle)",
                  11, "sunspots"),
    BuiltinSeries("seasonal-synthetic", "A seeded made-up series: a 12-step season, a slow rise and noise",
                  SYNTHETIC_SEASON, ""),
)}


@dataclass
class Series:
    """One series, in time order, without gaps (they were filled or dropped: `missing_filled`, `missing_dropped`)."""

    name: str
    values: np.ndarray  # float64
    dates: list[str] | None = None
    season_length: int = 0  # 0: not known (a person's table: detect_season)
    unit: str = ""
    missing_filled: int = 0
    missing_dropped: int = 0
    value_column: str = ""
    date_column: str = ""


def seasonal_synthetic(count: int = SYNTHETIC_VALUES, seed: int = SYNTHETIC_SEED) -> np.ndarray:
    """A sine of period SYNTHETIC_SEASON (amplitude 10), a rise of 0.02 a step and N(0, 1) noise, from a seed."""
    steps = np.arange(count, dtype=np.float64)
    noise = np.random.default_rng(seed).normal(0.0, 1.0, count)
    return 50.0 + 10.0 * np.sin(2 * np.pi * steps / SYNTHETIC_SEASON) + 0.02 * steps + noise


def load_series(name_or_path: str | Path, value_column: str = "", max_bytes: int = MAX_CORPUS_BYTES) -> Series:
    """A built-in series by name, or one column of a .csv/.tsv (or a .txt of one number a line) by path."""
    name = str(name_or_path)
    if name == "seasonal-synthetic":
        return Series(name, seasonal_synthetic(), season_length=SYNTHETIC_SEASON)
    if name == "sunspots":
        text = (importlib.resources.files("seqlab.corpus") / "data" / "sunspots.csv").read_text(encoding="utf-8")
        series = series_from_text(text, "sunspots.csv", "SUNACTIVITY")
        series.name, series.season_length, series.unit = name, 11, "sunspots"
        return series
    path = Path(name).expanduser()
    require(path.exists(), f"'{name}' is neither a built-in series nor an existing file",
            f"one of {', '.join(BUILTIN_SERIES)}, or the path of a .csv/.tsv file with a column of numbers",
            "run `python -m seqlab corpora` to see the built-in names")
    decoded = decode_bytes(read_file_bytes(path, max_bytes), str(path))
    return series_from_text(decoded.text, path.name, value_column)


def series_from_text(text: str, filename: str, value_column: str = "") -> Series:
    """The series in a table's text: the chosen column, or the only (else the last) column of numbers."""
    suffix = Path(filename).suffix.lower()
    require(suffix in (".csv", ".tsv", ".txt"), f"'{filename}' has the extension '{suffix}'",
            "a .csv or .tsv table (or a .txt file with one number a line)", "save the series as .csv")
    rows = [row for row in csv.reader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",") if row]
    if suffix == ".txt" or (rows and all(_number(cell) is not None for cell in rows[0])):
        rows = [[f"column {index + 1}" for index in range(len(rows[0]) if rows else 1)], *rows]  # no header row
    require(len(rows) >= 2, f"'{filename}' holds no values", "a header row and one row per time step",
            "check that the file is the series you meant")
    require(len(rows) - 1 <= MAX_SERIES_VALUES, f"'{filename}' has {len(rows) - 1:,} rows",
            f"at most {MAX_SERIES_VALUES:,} values", "use a shorter stretch of the series (the latest values)")
    header = [cell.strip() for cell in rows[0]]
    columns = {name: [row[index].strip() if index < len(row) else "" for row in rows[1:]]
               for index, name in enumerate(header)}
    column = _value_column(columns, value_column, filename)
    values, filled, dropped, kept = fill_missing(_parse_numbers(columns[column], column, filename), column)
    date_column = _date_column(columns, column)
    dates = [columns[date_column][index] for index in kept] if date_column else None
    return Series(Path(filename).name, values, dates, missing_filled=filled, missing_dropped=dropped,
                  value_column=column, date_column=date_column)


def _value_column(columns: dict[str, list[str]], chosen: str, filename: str) -> str:
    listed = ", ".join(f"'{name}'" for name in columns)
    if chosen:
        require(chosen in columns, f"'{filename}' has no column '{chosen}'", f"one of {listed}",
                "pick one of those columns as the value column (--value-column)")
        return chosen
    numeric = [name for name, cells in columns.items() if _is_numeric(cells)]
    numeric = [name for name in numeric if name.lower() not in DATE_NAMES] or numeric
    require(bool(numeric), f"'{filename}' has no column of numbers", f"a column of numbers among {listed}",
            "add a column of numbers, or pick it as the value column (--value-column)")
    return numeric[-1]


def _is_numeric(cells: list[str]) -> bool:
    present = [cell for cell in cells if cell.lower() not in MISSING]
    return bool(present) and all(_number(cell) is not None for cell in present)


def _number(cell: str) -> float | None:
    try:
        value = float(cell.strip().replace("_", "x"))  # float() would take "1_000"; a table means another thing
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_numbers(cells: list[str], column: str, filename: str) -> np.ndarray:
    """The column as floats, NaN where a value is missing; a word that is neither is an error, not a gap."""
    values = np.full(len(cells), np.nan)
    for index, cell in enumerate(cells):
        if cell.lower() in MISSING:
            continue
        number = _number(cell)
        if number is None:
            raise SeqlabError(f"Column '{column}' of '{filename}' is not numbers: row {index + 2} holds {cell[:40]!r}",
                              "a column of numbers (empty, NA or NaN for a missing value)",
                              "pick the column with the series' values (--value-column), or fix that row")
        values[index] = number
    return values


def fill_missing(values: np.ndarray, column: str = "values") -> tuple[np.ndarray, int, int, np.ndarray]:
    """(values without gaps, how many were filled inside, how many dropped at the ends, the kept row indices).

    A gap inside the series becomes the straight line between its neighbours (a model cannot read NaN); a gap at
    either end has only one neighbour, so it is dropped rather than invented."""
    present = np.flatnonzero(~np.isnan(values))
    require(len(present) >= 2, f"Column '{column}' has {len(present)} value(s)", "a series of numbers",
            "pick the column with the series' values")
    kept = np.arange(present[0], present[-1] + 1)
    inside = values[kept]
    gaps = np.isnan(inside)
    if gaps.any():
        inside = inside.copy()
        inside[gaps] = np.interp(kept[gaps], present, values[present])
    return inside.astype(np.float64), int(gaps.sum()), int(len(values) - len(kept)), kept


def _date_column(columns: dict[str, list[str]], value_column: str) -> str:
    """A column of dates beside the values (by its name, or ISO dates in it); "" when there is none."""
    for name, cells in columns.items():
        if name != value_column and (name.lower() in DATE_NAMES or _all_dates(cells)):
            return name
    return ""


def _all_dates(cells: list[str]) -> bool:
    try:
        return bool(cells) and all(date.fromisoformat(cell[:10]) for cell in cells)
    except ValueError:
        return False


def detect_season(values: np.ndarray, longest: int | None = None) -> int:
    """The lag (≥ 2) where the series best repeats itself: the highest peak of its autocorrelation above 0.3,
    up to a third of its length; 1 (no season: seasonal-naive is then naive) when there is none."""
    values = np.asarray(values, dtype=np.float64)
    values = values - np.polyval(np.polyfit(np.arange(len(values)), values, 1), np.arange(len(values)))  # no trend
    longest = min(longest or len(values) // 3, len(values) // 3)
    spread = float(np.dot(values, values))
    if longest < 3 or spread == 0.0:
        return 1
    correlation = np.array([np.dot(values[:-lag], values[lag:]) / spread for lag in range(1, longest + 1)])
    peaks = [lag for lag in range(2, longest) if correlation[lag - 1] >= correlation[lag - 2]
             and correlation[lag - 1] >= correlation[lag] and correlation[lag - 1] > 0.3]
    return max(peaks, key=lambda lag: correlation[lag - 1]) if peaks else 1


def season_of(series: Series, chosen: int = 0) -> int:
    """The season a run uses: the one chosen (season_length), else the series' own, else the one found in its
    first 80% (where training looks; the validation part and the tail are not peeked at)."""
    return chosen or series.season_length or detect_season(series.values[:round(len(series.values) * 0.8)])
