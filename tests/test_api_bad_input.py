"""Bad input to the REST API answers a 4xx naming the problem, one request per kind of input that used to answer 500.

Found by schemathesis (tests/test_api_fuzz.py) on the app's endpoints; most come from Nautobot's generic API code.
"""

import logging
import uuid

import pytest

API = "/api/plugins/jobflow/"

pytestmark = [pytest.mark.api, pytest.mark.django_db]


@pytest.fixture
def client():
    """A REST client authenticated with a superuser's token."""
    from nautobot.users.models import Token
    from rest_framework.test import APIClient

    from tests.fixtures import create_superuser

    token = Token.objects.create(user=create_superuser("bad-input"))
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT="application/json")
    return client


@pytest.fixture
def policy():
    from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user

    return make_policy(make_definition((make_group(f"g-{uuid.uuid4().hex[:6]}", make_user()), 1)))


def _problems(response, parameter):
    """The messages the 400 body has for ``parameter`` (the body names it)."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert parameter in body, body
    assert all(isinstance(message, str) and message for message in body[parameter]), body
    return " ".join(body[parameter])


#
# A malformed primary key on the detail routes whose lookup goes through the natural key: 404, not a ValidationError
#


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("get", "workflow-runs/{id}/"),
        ("get", "workflow-step-runs/{id}/"),
        ("get", "launch-requests/{id}/"),
        ("post", "launch-requests/{id}/cancel/"),
        ("post", "launch-requests/{id}/deny/"),
        ("get", "approval-events/{id}/"),
        ("get", "approval-policies/{id}/notes/"),
        ("post", "hook-rules/{id}/notes/"),
        ("get", "workflow-steps/{id}/"),  # a composite key with more parts than the natural key (a;b;c)
    ],
)
def test_a_malformed_id_is_404_naming_it(client, method, route):
    malformed = "a;b;c" if route.startswith("workflow-steps") else "not-a-uuid"
    response = getattr(client, method)(
        API + route.format(id=malformed), {} if method == "post" else None, format="json"
    )
    assert response.status_code == 404, response.content
    assert malformed in response.json()["detail"]


def test_a_name_still_finds_its_workflow(client):
    from tests.fixtures_engine import build_workflow

    workflow = build_workflow({"only": "Noop"}, name="by-name")
    response = client.get(f"{API}workflows/by-name/")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(workflow.pk)


#
# exclude_m2m, depth and the other generic parameters: 400 naming the parameter, not a ValueError
#


@pytest.mark.parametrize(
    ("resource", "query", "parameter", "reason"),
    [
        ("workflows", "exclude_m2m=-47", "exclude_m2m", "boolean"),
        ("workflow-steps", "depth=false", "depth", "integer from 0 to 10"),
        ("workflow-edges", "exclude_m2m=maybe", "exclude_m2m", "boolean"),
        ("hook-firings", "depth=11", "depth", "integer from 0 to 10"),
        ("workflows", "limit=-5", "limit", "non-negative integer"),
        ("workflows", "offset=ten", "offset", "non-negative integer"),
        ("workflows", "format=xml", "format", "json, api, csv"),
        ("workflows", "sort=display", "sort", "Cannot sort by 'display'"),
    ],
)
def test_a_malformed_generic_parameter_is_400_naming_it(client, resource, query, parameter, reason):
    assert reason in _problems(client.get(f"{API}{resource}/?{query}"), parameter)


def test_a_model_without_a_natural_key_can_be_sorted(client):
    # DRF's default list of sort fields read every property of the model, and ApprovalEvent's natural-key lookups
    # raise: any ?sort= on approval events answered 500.
    response = client.get(f"{API}approval-events/?sort=-time")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0
    assert "sortable fields: id, kind" in _problems(client.get(f"{API}approval-events/?sort=bogus"), "sort")


def test_valid_generic_parameters_still_answer(client):
    response = client.get(f"{API}workflows/?depth=1&exclude_m2m=false&limit=0&offset=0&sort=-name&format=json")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


#
# Filter values the filter's form takes but PostgreSQL (or Django's query building) refuses
#


@pytest.mark.parametrize("resource", ["launch-requests", "workflow-step-runs"])
def test_a_datetime_offset_postgresql_refuses_is_400_naming_the_filter(client, resource):
    reason = _problems(client.get(f"{API}{resource}/", {"created__gt": "1076-10-20T07:07:46+18:13"}), "created__gt")
    assert "±15:59" in reason


def test_a_fractional_second_offset_is_400_naming_the_filter(client):
    response = client.get(f"{API}workflow-runs/", {"created__lt": "2020-01-01T00:00:00+01:00:00.5"})
    assert "fraction of a second" in _problems(response, "created__lt")


def test_offsets_postgresql_takes_still_filter(client):
    response = client.get(
        f"{API}workflow-runs/", {"created__gt": "0001-01-01T00:00:00+15:59", "created__lt": "9999-12-31"}
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("resource", "query", "parameter"),
    [
        ("approval-events", "user_name__re=null", "user_name__re"),  # null with a lookup other than exact
        ("hook-rules", "content_types__n=null", "content_types__n"),  # a content type is app_label.model
        ("hook-firings", "status__nre=a%00b", "status__nre"),  # NUL: the hook viewsets had no checks at all
        ("workflows", "created__gt=yesterday", "created__gt"),  # the filter's own form
    ],
)
def test_a_filter_value_the_query_cannot_take_is_400_naming_it(client, resource, query, parameter):
    assert _problems(client.get(f"{API}{resource}/?{query}"), parameter)


#
# Core's notes endpoint with format=csv (it paginates nothing for CSV and then fails)
#


def test_notes_as_csv_with_a_negative_limit_is_400_naming_both(client, policy):
    response = client.get(f"{API}approval-policies/{policy.pk}/notes/?format=csv&limit=-3")
    assert "CSV" in _problems(response, "format")
    assert "non-negative" in _problems(response, "limit")


def test_notes_still_answer_in_json(client, policy):
    response = client.get(f"{API}approval-policies/{policy.pk}/notes/?limit=5")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


#
# Nothing swallowed: a fault behind the checks still answers 500 and is logged with its traceback
#


def test_a_server_fault_still_answers_500_and_is_logged(client, monkeypatch, caplog):
    from nautobot_jobflow import filters

    def broken(self, queryset):
        raise ValueError("a fault in the filterset, not in the request")

    monkeypatch.setattr(filters.WorkflowRunFilterSet, "filter_queryset", broken)
    with caplog.at_level(logging.ERROR, logger="nautobot_jobflow"):
        response = client.get(f"{API}workflow-runs/", {"status": "running"})
    assert response.status_code == 500
    assert response.json()["exception"] == "ValueError"
    records = [record for record in caplog.records if record.name.startswith("nautobot_jobflow") and record.exc_info]
    assert records, caplog.text
    assert "a fault in the filterset" in str(records[-1].exc_info[1])
    assert "GET /api/plugins/jobflow/workflow-runs/?status=running" in records[-1].getMessage()
