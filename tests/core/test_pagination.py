"""Paging styles over querysets and plain lists."""

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.pagination import PageNumberPagination, VantagePagination


def _request(query: str) -> Request:
    return Request(APIRequestFactory().get(f"/v2/things?{query}"))


def test_page_number_pagination_over_a_list():
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(list(range(1, 6)), _request("page=3&page_size=2"))
    assert page == [5]
    body = paginator.get_paginated_response(page).data
    assert body == {"count": 5, "page": 3, "page_size": 2, "total_pages": 3, "results": [5]}


def test_page_past_the_end_is_empty_not_an_error():
    paginator = PageNumberPagination()
    assert paginator.paginate_queryset([1, 2], _request("page=9")) == []


def test_vantage_pagination_over_a_list_has_absolute_links():
    paginator = VantagePagination()
    page = paginator.paginate_queryset(list(range(5)), _request("limit=2&page=2"))
    assert page == [2, 3]
    links = paginator.get_links()
    assert links["prev"] == "http://testserver/v2/things?limit=2&page=1"
    assert links["next"] == "http://testserver/v2/things?limit=2&page=3"


@pytest.mark.parametrize("query", ["page_size=0", "page_size=501", "page=-1", "page=two"])
def test_bad_page_parameters_are_validation_errors(query):
    with pytest.raises(ValidationError):
        PageNumberPagination().paginate_queryset([1], _request(query))
