"""The Inside the network page's figures, from plain arrays: axes that show every character, shares and reach."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.ui import inside_charts as charts

TEXT = 'He said "to be" (or not)\nand so'


def test_the_heatmap_labels_every_character_and_keeps_the_row_order():
    values = np.linspace(-1, 1, 3 * len(TEXT)).reshape(3, len(TEXT))
    figure = charts.activation_heatmap(TEXT, values, ["unit 7 · vowel", "unit 2 · inside quotes", "unit 9"], start=5)
    heatmap = figure.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-1, 1) and heatmap.reversescale  # red positive, blue negative
    axis = figure.layout.xaxis
    assert list(axis.tickvals) == list(range(5, 5 + len(TEXT)))
    assert axis.ticktext[2] == "␣" and axis.ticktext[TEXT.index("\n")] == "↵" and axis.ticktext[0] == "H"
    assert list(figure.layout.yaxis.ticktext) == ["unit 7 · vowel", "unit 2 · inside quotes", "unit 9"]
    assert "after space (character 8)" in heatmap.text[0][2]  # positions counted from 1 for people


def test_gates_are_titled_in_plain_words_with_the_average_and_one_unit():
    steps = len(TEXT)
    gates = {"written": np.full((steps, 4), 0.2), "kept": np.full((steps, 4), 0.9), "shown": np.zeros((steps, 4))}
    figure = charts.gates_figure(TEXT, gates, unit=3)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == ["How much it writes", "How much it keeps", "How much it shows"]
    assert [trace.name for trace in figure.data] == ["average of all units", "unit 4"] * 3  # counted from 1
    assert figure.data[2].y[0] == pytest.approx(0.9)
    only_average = charts.gates_figure(TEXT, {"kept": np.ones((steps, 2))}, unit=None)
    assert len(only_average.data) == 1 and only_average.layout.annotations[0].text == "How much it keeps"


def test_influence_shares_and_reach():
    influence = np.array([0.0, 0.0, 1.0, 1.0, 2.0])  # in text order: the last is the character just before
    assert charts.influence_shares(influence).sum() == pytest.approx(1)
    assert charts.reach_of(influence) == 1  # the last character alone holds half
    assert charts.reach_of(np.ones(10)) == 5
    assert charts.reach_of(np.zeros(4)) == 0
    assert "the last 5 characters (of 10 before it)" in charts.reach_sentence(np.ones(10))
    assert "the character just before it" in charts.reach_sentence(influence)
    assert "Nothing before" in charts.reach_sentence(np.zeros(3))


def test_the_strip_counts_back_from_the_prediction_and_keeps_a_window():
    before = "abcdefghij" * 15  # 150 characters
    figure = charts.influence_strip(before, np.arange(150.0), window=80)
    heatmap = figure.data[0]
    assert len(heatmap.z[0]) == 80 and heatmap.text[0][-1] == "j"
    assert list(heatmap.x[[0, -1]]) == [-80, -1]  # the nearest character on the right, one back
    ticks = dict(zip(figure.layout.xaxis.tickvals, figure.layout.xaxis.ticktext))
    assert ticks[-1] == "1 back" and ticks[-80] == "80 back"
    assert heatmap.z[0][-1] == pytest.approx(149 / np.arange(150.0).sum())  # shares of the whole, not the window


def test_the_telling_window_finds_where_a_feature_changes():
    feature = np.zeros(300)
    feature[200:230] = 1
    start = charts.telling_window(feature, 60)
    assert start <= 200 and start + 60 >= 230
    assert charts.telling_window(np.ones(40), 60) == 0


def test_the_unit_strip_puts_the_feature_under_the_unit():
    figure = charts.unit_strip("a b", np.array([0.5, -0.5, 0.1]), np.array([0, 1, 0]), "unit 3", "between words")
    assert list(figure.layout.yaxis.ticktext) == ["unit 3", "between words"]
    assert list(figure.data[1].z[0]) == [0, 1, 0] and list(figure.layout.xaxis.ticktext) == ["a", "␣", "b"]


def test_the_reach_chart_rises_to_the_whole_influence_for_each_run():
    short, long = np.array([0.8, 0.15, 0.05, 0, 0]), np.full(5, 0.2)
    figure = charts.reach_figure({"SimpleRNN": (np.arange(1, 6), short), "LSTM": (np.arange(1, 6), long)})
    assert [trace.name for trace in figure.data] == ["SimpleRNN", "LSTM"]
    assert figure.data[0].y[0] == pytest.approx(0.8) and figure.data[1].y[-1] == pytest.approx(1)
    assert figure.layout.xaxis.type == "log"
