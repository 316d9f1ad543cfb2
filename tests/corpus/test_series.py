"""Series for the forecast task: built-ins, a column of a person's table, gaps, bounds, the season."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.corpus import series as series_module
from seqlab.corpus.series import detect_season, fill_missing, load_series, seasonal_synthetic, series_from_text
from seqlab.errors import SeqlabError


def test_builtin_series_load_with_their_seasons_and_dates():
    sunspots = load_series("sunspots")
    assert len(sunspots.values) == 309 and sunspots.season_length == 11
    assert sunspots.dates[0] == "1700" and sunspots.dates[-1] == "2008" and sunspots.value_column == "SUNACTIVITY"
    synthetic = load_series("seasonal-synthetic")
    assert np.array_equal(synthetic.values, seasonal_synthetic()) and synthetic.season_length == 12


def test_gaps_inside_are_filled_on_a_line_and_gaps_at_the_ends_dropped_and_counted():
    values, filled, dropped, kept = fill_missing(np.array([np.nan, 1.0, np.nan, 3.0, np.nan, np.nan, 6.0, np.nan]))
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] and (filled, dropped) == (3, 2)
    assert kept.tolist() == [1, 2, 3, 4, 5, 6]


def test_a_table_column_with_missing_spellings_and_dates():
    text = "day,sales,shop\n2024-01-01,,a\n2024-01-02,10,a\n2024-01-03,NA,b\n2024-01-04,nan,b\n2024-01-05,16,c\n"
    series = series_from_text(text, "shop.csv")
    assert series.value_column == "sales" and series.date_column == "day"  # the only column of numbers
    assert series.values.tolist() == [10.0, 12.0, 14.0, 16.0] and (series.missing_filled, series.missing_dropped) == (
        2, 1)
    assert series.dates == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]


def test_the_chosen_column_wins_and_headerless_numbers_are_read():
    assert series_from_text("a\tb\n1\t5\n2\t6\n", "x.tsv", "a").values.tolist() == [1.0, 2.0]
    assert series_from_text("a\tb\n1\t5\n2\t6\n", "x.tsv").values.tolist() == [5.0, 6.0]  # the last numeric one
    assert series_from_text("3\n4\n5\n", "x.txt").values.tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("text, column, words", [
    ("t,v\n1,2\n2,oops\n", "v", "row 3 holds 'oops'"),
    ("t,v\n1,2\n", "w", "has no column 'w'"),
    ("name,city\nann,rome\nbob,oslo\n", "", "has no column of numbers"),
])
def test_bad_tables_get_a_clear_message(text, column, words):
    with pytest.raises(SeqlabError, match=words):
        series_from_text(text, "bad.csv", column)


def test_too_many_rows_are_refused_before_any_work(monkeypatch):
    monkeypatch.setattr(series_module, "MAX_SERIES_VALUES", 5)
    with pytest.raises(SeqlabError, match="has 6 rows") as raised:
        series_from_text("v\n" + "1\n" * 6, "long.csv")
    assert "at most 5 values" in str(raised.value)


def test_the_season_is_found_by_autocorrelation():
    assert detect_season(seasonal_synthetic()[:800]) == 12
    assert detect_season(np.random.default_rng(0).normal(size=300)) == 1  # noise has none
