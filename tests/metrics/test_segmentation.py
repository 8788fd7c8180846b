"""Segmentation matrices: the three forms, their validation and how events are bucketed."""

import pytest

from metrics.segmentation import OTHER, Matrix, MatrixError, canonical_string, normalize

SINGLE = {"key": "region", "values": ["eu", "us"]}
DOUBLE = {
    "dimension1": {"key": "region", "values": ["eu", "us"]},
    "dimension2": {"key": "tier", "values": ["free", "pro"]},
}
LINKED = {
    "dimension_key": "cloud",
    "linked_dimension_key": "region",
    "values": {"aws": ["us-east-1", "eu-west-1"], "gcp": ["europe-west1"]},
}


def test_the_three_forms_are_accepted_as_given():
    assert normalize(SINGLE) == SINGLE
    assert normalize(DOUBLE) == DOUBLE
    assert normalize(LINKED) == LINKED
    assert normalize(None) is None


def test_an_optional_type_must_match_the_shape():
    assert normalize({"type": "SINGLE", **SINGLE}) == SINGLE
    with pytest.raises(MatrixError, match="DOUBLE"):
        normalize({"type": "LINKED", **DOUBLE})


@pytest.mark.parametrize(
    "matrix",
    [
        [],
        {},
        {"key": "region"},
        {"key": "region", "values": []},
        {"key": "", "values": ["a"]},
        {"key": "region", "values": ["a", "a"]},
        {"key": "region", "values": ["a", 3]},
        {"key": "region", "values": ["a\x00"]},
        {"key": "region", "values": ["a"], "extra": 1},
        {"dimension1": {"key": "a", "values": ["x"]}},
        {"dimension1": {"key": "a", "values": ["x"]}, "dimension2": {"key": "a", "values": ["y"]}},
        {"dimension_key": "cloud", "linked_dimension_key": "region", "values": {}},
        {"dimension_key": "cloud", "linked_dimension_key": "region", "values": {"aws": []}},
        {"dimension_key": "cloud", "linked_dimension_key": "cloud", "values": {"aws": ["x"]}},
        {"dimension_key": "cloud", "values": {"aws": ["x"]}},
    ],
)
def test_malformed_matrices_are_refused(matrix):
    with pytest.raises(MatrixError):
        normalize(matrix)


def test_combinations_of_each_form():
    assert Matrix.of(SINGLE).combinations == (("eu", ""), ("us", ""))
    assert Matrix.of(DOUBLE).combinations == (
        ("eu", "free"),
        ("eu", "pro"),
        ("us", "free"),
        ("us", "pro"),
    )
    assert Matrix.of(LINKED).combinations == (
        ("aws", "us-east-1"),
        ("aws", "eu-west-1"),
        ("gcp", "europe-west1"),
    )


def test_events_outside_the_matrix_fall_into_other():
    single, double, linked = Matrix.of(SINGLE), Matrix.of(DOUBLE), Matrix.of(LINKED)
    assert single.bucket({"region": "eu"}) == ("eu", "")
    assert single.bucket({"region": "apac"}) is OTHER
    assert single.bucket({}) is OTHER
    assert double.bucket({"region": "us", "tier": "pro"}) == ("us", "pro")
    assert double.bucket({"region": "us", "tier": "gold"}) is OTHER
    assert double.bucket({"region": "us"}) is OTHER
    assert linked.bucket({"cloud": "gcp", "region": "europe-west1"}) == ("gcp", "europe-west1")
    # A region listed for another cloud is not a listed combination.
    assert linked.bucket({"cloud": "gcp", "region": "us-east-1"}) is OTHER


def test_property_values_compare_by_their_json_spelling():
    assert canonical_string("1") == canonical_string(1) == "1"
    assert canonical_string(1.5) == "1.5"
    assert canonical_string(True) == "true"
    assert canonical_string(None) is None
    assert Matrix.of({"key": "size", "values": ["1", "2"]}).bucket({"size": 2}) == ("2", "")
