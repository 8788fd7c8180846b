"""Failed authentication is limited too: per client address on the API (a 429 in the surface's
envelope), per (username, address) on the sign-in page (django-axes)."""

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from core.throttling import FailedAuthenticationThrottle
from organizations import services

from ..factories import MembershipFactory, UserFactory, api_token

ME = "/v2/me"
ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"


@pytest.fixture
def three_failures_per_minute():
    original = FailedAuthenticationThrottle.THROTTLE_RATES
    FailedAuthenticationThrottle.THROTTLE_RATES = {
        **api_settings.DEFAULT_THROTTLE_RATES,
        "failed_auth": "3/min",
    }
    yield
    FailedAuthenticationThrottle.THROTTLE_RATES = original


def get(path, address, **headers):
    return APIClient().get(path, REMOTE_ADDR=address, **headers)


def test_guessed_tokens_end_in_429_in_the_vantage_envelope(three_failures_per_minute, db):
    statuses = [
        get(ME, ATTACKER, HTTP_AUTHORIZATION=f"Bearer cstl_guess{n}_x").status_code
        for n in range(3)
    ]
    refused = get(ME, ATTACKER, HTTP_AUTHORIZATION="Bearer cstl_guess9_x")
    assert statuses == [401, 401, 401]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert list(refused.json()) == ["errors"]
    assert "throttled" in refused.json()["errors"][0].lower()


def test_over_the_limit_even_a_valid_token_gets_no_answer_from_that_address(
    three_failures_per_minute, write_token
):
    """Otherwise a correct guess would still be told apart from a wrong one."""
    for n in range(3):
        get(ME, ATTACKER, HTTP_AUTHORIZATION=f"Bearer cstl_guess{n}_x")
    bearer = f"Bearer {write_token[1]}"
    assert get(ME, ATTACKER, HTTP_AUTHORIZATION=bearer).status_code == 429
    assert get(ME, NEIGHBOUR, HTTP_AUTHORIZATION=bearer).status_code == 200


def test_successful_calls_do_not_count(three_failures_per_minute, write_token):
    bearer = f"Bearer {write_token[1]}"
    assert [get(ME, ATTACKER, HTTP_AUTHORIZATION=bearer).status_code for _ in range(5)] == [200] * 5


def test_revoked_and_expired_tokens_and_x_api_key_count_in_the_archera_envelope(
    three_failures_per_minute, organization
):
    token, secret = api_token(organization)
    services.api_token_revoke(token)
    archera = f"/beta/v1/org/{organization.pk}/segments?provider=aws"
    for _ in range(3):
        assert get(archera, ATTACKER, HTTP_X_API_KEY=secret).status_code == 401
    refused = get(archera, ATTACKER, HTTP_X_API_KEY=secret)
    assert refused.status_code == 429
    assert set(refused.json()) == {"message", "detail", "code"}
    assert refused.json()["code"] == "throttled"


def test_anonymous_floods_end_in_429_on_every_surface(three_failures_per_minute, organization):
    paths = [
        ME,
        "/api/v1/metrics",
        f"/beta/v1/org/{organization.pk}/segments?provider=aws",
        f"/api/{organization.pk}/filter-segments/",
    ]
    statuses = [get(path, ATTACKER).status_code for path in paths]
    assert statuses == [401, 401, 401, 429]
    assert get(ME, NEIGHBOUR).status_code == 401


def test_forwarded_address_is_used_only_behind_trusted_proxies(
    three_failures_per_minute, settings, db
):
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.1", "HTTP_AUTHORIZATION": "Bearer cstl_no_x"}
    for n in range(3):
        # Without a trusted proxy a client cannot escape its bucket by inventing addresses.
        spoofed["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{n}"
        get(ME, ATTACKER, **spoofed)
    assert get(ME, ATTACKER, **spoofed).status_code == 429
    settings.TRUSTED_PROXY_COUNT = 1
    # Behind one proxy (REMOTE_ADDR is the proxy) the right-most forwarded address is the client.
    assert get(ME, ATTACKER, **spoofed).status_code == 401


# --- The sign-in page (django-axes) ---------------------------------------------------------


@pytest.fixture
def people(organization):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    for person in (alice, bob):
        MembershipFactory(user=person, organization=organization)
    return alice, bob


def sign_in(client, username, password, address=ATTACKER):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_passwords_lock_out_that_user_from_that_address(client, settings, people):
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [sign_in(client, "alice", f"wrong{n}").status_code for n in range(limit - 1)]
    assert statuses == [200] * (limit - 1)  # the form again, with its error
    locked = sign_in(client, "alice", "wrong-again")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password is refused while the lockout lasts.
    assert sign_in(client, "alice", "pw").status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_users_lockout_does_not_lock_out_others(client, settings, people):
    for n in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", f"wrong{n}")
    assert sign_in(client, "alice", "pw").status_code == 429
    bob = sign_in(client, "bob", "pw")
    assert bob.status_code == 302 and bob["Location"] == "/"
    client.logout()
    # The same person from another address is not locked out either.
    assert sign_in(client, "alice", "pw", address=NEIGHBOUR).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, settings, people):
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        sign_in(client, "alice", f"wrong{n}")
    assert sign_in(client, "alice", "pw").status_code == 302
    client.logout()
    for n in range(limit - 1):
        assert sign_in(client, "alice", f"wrong{n}").status_code == 200
    assert sign_in(client, "alice", "pw").status_code == 302


def test_api_tokens_and_sessions_still_work_with_the_lockout_backend(client, token_client, people):
    assert token_client.get(ME).status_code == 200
    client.force_login(people[0])
    assert client.get(ME).status_code == 200


def test_the_admin_sign_in_is_locked_out_the_same_way(client, settings, people):
    alice = people[0]
    alice.is_staff = True
    alice.save()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            "/admin/login/", {"username": "alice", "password": f"wrong{n}"}, REMOTE_ADDR=ATTACKER
        )
        assert response.status_code == 200
    locked = client.post(
        "/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR=ATTACKER
    )
    assert locked.status_code == 429
    assert (
        client.post(
            "/admin/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR=ATTACKER
        ).status_code
        == 429
    )
