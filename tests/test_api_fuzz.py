"""schemathesis against the app's REST API, from Nautobot's own OpenAPI document.

Every operation under ``/api/plugins/jobflow/`` in ``/api/swagger.json`` is collected by path
prefix, so endpoints added later (hook rules, approval policies) are fuzzed without touching this file. Requests go
to Nautobot's WSGI application in the test's thread (same database transaction as the test), authenticated with a
superuser's token. Each operation gets a bounded, derandomized set of generated requests, and every response must:

- not be a server error (5xx);
- conform to the schema (JSON body as documented, documented content type) when the status is documented;
- when it is a 4xx, carry a JSON body that names the problem (a ``detail`` message or field names with messages).

Not checked: ``status_code_conformance`` (Nautobot documents only the success codes of its endpoints, so every
400/404 would count as "undocumented"), and the positive/negative data checks, which judge a request valid or
invalid by the schema alone while the API validates more than the schema says (Jobs, templates, graphs).
"""

import copy
import itertools
import json
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

# Paths in Nautobot's document are relative to its server URL "/api": the app's are /api/plugins/jobflow/...
APP_PREFIX = "/plugins/jobflow/"
SCHEMA_PATH = "/api/swagger.json?plugins_only=true"
MAX_EXAMPLES = 15  # per operation: about 50 operations, a minute or two in all


@pytest.fixture(scope="module")
def openapi_document(django_db_setup, django_db_blocker):
    """Nautobot's OpenAPI document for the apps' endpoints (generated once per module; it takes seconds)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    with django_db_blocker.unblock():
        reader = get_user_model().objects.create_user(username=f"schema-{uuid.uuid4().hex[:8]}", is_superuser=True)
        try:
            client = Client()
            client.force_login(reader)
            response = client.get(SCHEMA_PATH, HTTP_ACCEPT="application/json")
            assert response.status_code == 200, response.content[:500]
            return json.loads(response.content)
        finally:
            reader.delete()


@pytest.fixture
def seeded(db):
    """A workflow with two steps and an edge, a run of it and a button for it: ids detail endpoints and actions hit."""
    from nautobot_jobflow.choices import LaunchOriginChoices
    from nautobot_jobflow.service import launch
    from tests.fixtures import create_superuser, refresh_jobs
    from tests.fixtures_buttons import create_button
    from tests.fixtures_engine import build_workflow

    refresh_jobs()
    user = create_superuser("fuzz-admin")
    workflow = build_workflow({"first": "Noop", "second": "Noop"}, [("first", "second")], name="fuzzed")
    run = launch(workflow, {}, user, LaunchOriginChoices.API).run
    return {
        "user": user,
        "workflows": workflow.pk,
        "workflow-steps": workflow.steps.first().pk,
        "workflow-edges": workflow.edges.first().pk,
        "workflow-runs": run.pk,
        "workflow-step-runs": run.step_runs.first().pk if run.step_runs.exists() else None,
        "workflow-buttons": create_button(workflow, name="fuzzed button").pk,
    }


@pytest.fixture
def api_schema(openapi_document):
    """The app's operations as a schemathesis schema bound to Nautobot's WSGI application.

    As Django's test client does, the start and end of a request do not close the database connection: it is the test's,
    inside the test's transaction.
    """
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document))
    schema.app = get_wsgi_application()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schema.include(path_regex=f"^{APP_PREFIX}")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def four_xx_names_the_problem(ctx, response, case):
    """A 4xx answer carries a JSON body that says what is wrong: a detail message, or fields with messages."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}") from None
    if isinstance(body, list):
        problems = body
    elif isinstance(body, dict):
        problems = list(body.values())
    else:
        problems = []
    assert problems, f"{response.status_code} with a body that names nothing: {body!r}"

    def has_text(value):
        if isinstance(value, str):
            return bool(value.strip())
        if isinstance(value, list):
            return bool(value) and all(has_text(item) for item in value)
        if isinstance(value, dict):
            return bool(value) and all(has_text(item) for item in value.values())
        return False

    assert all(has_text(problem) for problem in problems), f"{response.status_code} with an empty message: {body!r}"
    return True


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, four_xx_names_the_problem]
_alternate = itertools.count()


def _aim_at_seeded_object(case, seeded):
    """Every other request to a ``{id}`` path targets an existing object, so bodies reach validation, not 404."""
    if "id" not in (case.path_parameters or {}) or next(_alternate) % 2:
        return
    resource = case.path.removeprefix(APP_PREFIX).split("/", 1)[0]
    if seeded.get(resource):
        case.path_parameters["id"] = str(seeded[resource])


def _failure_kind(error):
    """A failure's kind: its check's line (e.g. "ST101 Server error") and the status code it answered."""
    text = str(error)
    kind = re.search(r"^- (.+)$", text, re.M)
    status = re.search(r"^\[(\d{3})\]", text, re.M)
    return f"{kind.group(1) if kind else type(error).__name__} [{status.group(1) if status else '-'}]"


def _fuzz_operation(operation, headers, seeded):
    """Run the generated requests of one operation; returns {failure kind: first example}.

    Each request runs in a savepoint that is rolled back afterwards, so one request's changes (or a broken
    transaction) never leak into the next.
    """
    from django.db import transaction

    failures = {}
    checks = CHECKS
    if operation.path.endswith("/notes/"):
        # Nautobot core's notes endpoints answer an assigned_object that core's own NoteAssignedObject schema does
        # not list for app models; the response shape is core's, so only its status and errors are checked here.
        checks = [check for check in CHECKS if check is not response_schema_conformance]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case):
        # Nautobot core's CSV bulk import (Content-Type: text/csv) answers 201 "[]" to a body without rows, on every
        # endpoint; that is core's behaviour, not the app's, so the app's endpoints are fuzzed with JSON bodies.
        assume(case.media_type != "text/csv")
        _aim_at_seeded_object(case, seeded)
        savepoint = transaction.savepoint()
        try:
            case.call_and_validate(headers=headers, checks=checks)
        except (Exception, BaseExceptionGroup) as error:  # noqa: F821 - builtin since Python 3.11
            detail = str(error) if "Reproduce with" in str(error) else f"{error}\n{case.as_curl_command()}"
            failures.setdefault(f"{case.method} {case.path}: {_failure_kind(error)}", detail)
        finally:
            transaction.savepoint_rollback(savepoint)

    fuzz()
    return failures


@pytest.mark.api
@pytest.mark.fuzz
def test_app_api_conforms_and_explains_errors(api_schema, seeded):
    from nautobot.users.models import Token

    token = Token.objects.create(user=seeded["user"], key="f" * 40)
    headers = {"Authorization": f"Token {token.key}", "Accept": "application/json"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # The app's own resources are all there (and anything added later under the prefix comes along).
    paths = {operation.path for operation in operations}
    for resource in (
        "workflows",
        "workflow-steps",
        "workflow-edges",
        "workflow-runs",
        "workflow-step-runs",
        "workflow-buttons",
    ):
        assert f"{APP_PREFIX}{resource}/" in paths, sorted(paths)
    failures = {}
    for operation in operations:
        failures.update(_fuzz_operation(operation, headers, seeded))
    summary = "\n".join(f"- {kind}" for kind in failures)
    examples = "\n\n".join(list(failures.values())[:5])
    assert not failures, f"{len(failures)} kinds of failure:\n{summary}\n\nFirst examples:\n{examples}"


#
# What the fuzzing found, pinned down one request each
#


@pytest.fixture
def api_client(db):
    from django.test import Client

    from tests.fixtures import create_superuser

    client = Client()
    client.force_login(create_superuser("fuzz-regression"))
    return client


@pytest.mark.api
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("name__ic=a%00b", "name__ic", "Null characters are not allowed."),
        ("trigger__re=(", "trigger__re", "Invalid regular expression: invalid regular expression"),
        ("offset=-5", "offset", "The offset cannot be negative."),
    ],
)
def test_query_values_postgresql_refuses_are_400_naming_the_parameter(api_client, query, field, message):
    response = api_client.get(f"/api{APP_PREFIX}workflow-edges/?{query}", HTTP_ACCEPT="application/json")
    assert response.status_code == 400, response.content
    assert response.json()[field][0].startswith(message)


@pytest.mark.api
@pytest.mark.parametrize("resource", ["workflow-runs", "workflow-step-runs"])
def test_runs_can_be_sorted(api_client, resource):
    response = api_client.get(f"/api{APP_PREFIX}{resource}/?sort=created", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0
