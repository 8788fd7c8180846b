"""Error envelopes: each surface keeps its own shape, even before a view runs."""

import json

from core.errors import flatten_detail


def test_flatten_nested_field_errors():
    detail = {
        "title": ["This field is required."],
        "report_settings": {"amortize": ["Bad."]},
        "non_field_errors": ["Whole thing wrong."],
        "items": [{"id": ["Too long."]}],
    }
    assert flatten_detail(detail) == [
        "title: This field is required.",
        "report_settings.amortize: Bad.",
        "Whole thing wrong.",
        "items[0].id: Too long.",
    ]


def test_unknown_archera_path_uses_archera_envelope(client, db):
    response = client.get("/beta/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Not found.",
        "detail": {"non_field_errors": ["Not found."]},
        "code": "not_found",
    }


def test_unknown_api_path_is_json(client, db):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_is_html(client, db):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_oversized_json_body_is_413_in_envelope(token_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"title": "x" * 2000})
    response = token_client.generic("POST", "/v2/workspaces", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0].startswith("Request body too large")


def test_deeply_nested_json_is_400_not_500(token_client):
    body = "[" * 5000 + "]" * 5000
    response = token_client.generic(
        "POST", "/api/v1/filters/validate", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
