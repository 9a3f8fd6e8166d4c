"""Kleene three-valued logic tables: the evaluator's whole semantics rests on them."""

from itertools import product

import pytest

from indicated.evaluate import logic

S = ["met", "not_met", "unknown"]
# Kleene logic is min/max over the order not_met < unknown < met
ORDER = {"not_met": 0, "unknown": 1, "met": 2}


@pytest.mark.parametrize(("a", "b"), list(product(S, S)))
def test_all_is_kleene_and(a, b):
    assert logic.all_of([a, b]) == min((a, b), key=ORDER.get)


@pytest.mark.parametrize(("a", "b"), list(product(S, S)))
def test_any_is_kleene_or(a, b):
    assert logic.any_of([a, b]) == max((a, b), key=ORDER.get)


def test_negation_swaps_met_and_not_met_and_keeps_unknown():
    assert [logic.negate(s) for s in S] == ["not_met", "met", "unknown"]


@pytest.mark.parametrize(
    ("n", "statuses", "expected"),
    [
        (2, ["met", "met", "not_met"], "met"),
        (2, ["met", "unknown", "not_met"], "unknown"),
        (2, ["met", "not_met", "not_met"], "not_met"),
        (3, ["met", "met", "unknown"], "unknown"),
        (1, ["unknown", "unknown"], "unknown"),
        (1, ["not_met", "not_met"], "not_met"),
    ],
)
def test_at_least(n, statuses, expected):
    assert logic.at_least(n, statuses) == expected


def test_empty_all_is_met_and_empty_any_is_not_met():
    assert logic.all_of([]) == "met"
    assert logic.any_of([]) == "not_met"
