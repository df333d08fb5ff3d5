"""schemathesis against the app's REST API, from Nautobot's own OpenAPI document.

Every operation under ``/api/plugins/jobflow/`` in ``/api/swagger.json`` is collected by path prefix, so endpoints
added later are fuzzed without touching this file. Requests go to Nautobot's WSGI application in the test's thread
(same database transaction as the test), authenticated with a superuser's token. Each operation goes through
schemathesis's two generating phases, positive and negative data both:

- coverage (``schema.iter_coverage_cases``: boundary, invalid and missing values of every parameter and body, methods
  the operation does not have): one case per parameter or scenario, then up to ``COVERAGE_CASES`` per operation,
  drawn from all of them (an operation has up to 1,700 and all of them take ten minutes);
- fuzzing (``operation.as_strategy``): ``MAX_EXAMPLES`` generated requests.

The seed of both is drawn per run and printed with the totals; ``JOBFLOW_FUZZ_SEED=<seed>`` replays a run. Every
response must:

- not be a server error (5xx);
- conform to the schema (JSON body as documented, documented content type) when the status is documented;
- when it is a 4xx, carry a JSON body that names the problem (a ``detail`` message or field names with messages).

Not checked: ``status_code_conformance`` (Nautobot documents only the success codes of its endpoints, so every
400/404 would count as "undocumented"), and the positive/negative data checks, which judge a request valid or
invalid by the schema alone while the API validates more than the schema says (Jobs, templates, graphs).

``schemathesis.pytest.from_fixture`` (schemathesis's own pytest runner of these phases) is not used: it sets
``request.node._nodeid``, which pytest 9.2 no longer has; a schema loaded at collection time cannot be either, since
Nautobot's document needs the test database.
"""

import collections
import copy
import itertools
import json
import os
import random
import re
import time
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode, derive_operation_seed
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

pytestmark = pytest.mark.django_db

# Paths in Nautobot's document are relative to its server URL "/api": the app's are /api/plugins/jobflow/...
APP_PREFIX = "/plugins/jobflow/"
SCHEMA_PATH = "/api/swagger.json?plugins_only=true"
# Per operation; with about 75 operations, about 4,000 requests: under three minutes on a loaded two-core machine.
COVERAGE_CASES = 40
MAX_EXAMPLES = 10
SEED = int(os.environ.get("JOBFLOW_FUZZ_SEED") or random.SystemRandom().getrandbits(64))
# A known mismatch between a serializer and the schema, not an input problem: LaunchRequest has notes (NotesMixin) but
# its viewset no notes route, so core's NotesSerializerMixin answers notes_url null where the schema says a URL.
KNOWN_SCHEMA_MISMATCHES = ("/components/schemas/LaunchRequest/properties/notes_url",)


@pytest.fixture(scope="module")
def openapi_document(django_db_setup, django_db_blocker):
    """Nautobot's OpenAPI document for the apps' endpoints (generated once per module; it takes seconds)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    # pytest-django creates the test database only for sessions with a test that needs one; without one this fixture
    # would write to the development database.
    assert connection.settings_dict["NAME"] == connection.settings_dict.get("TEST", {}).get("NAME"), "no test database"
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
    """One object of each resource, so that detail endpoints and actions can hit existing ids.

    A workflow with two steps and an edge, a run of it and a button for it; a second workflow held by an approval
    policy (a pending launch request with its audit event); a hook rule.
    """
    from nautobot_jobflow.choices import LaunchOriginChoices
    from nautobot_jobflow.service import launch
    from tests.fixtures import create_superuser, refresh_jobs
    from tests.fixtures_approvals import make_definition, make_group, make_policy, make_user
    from tests.fixtures_buttons import create_button
    from tests.fixtures_engine import build_workflow
    from tests.fixtures_hooks import create_rule

    refresh_jobs()
    user = create_superuser("fuzz-admin")
    workflow = build_workflow({"first": "Noop", "second": "Noop"}, [("first", "second")], name="fuzzed")
    run = launch(workflow, {}, user, LaunchOriginChoices.API).run
    held = build_workflow({"only": "Noop"}, name="fuzzed-held")
    policy = make_policy(make_definition((make_group("fuzz-approvers", make_user()), 1)), workflows=[held])
    request = launch(held, {}, user, LaunchOriginChoices.API).request
    return {
        "user": user,
        "workflows": workflow.pk,
        "workflow-steps": workflow.steps.first().pk,
        "workflow-edges": workflow.edges.first().pk,
        "workflow-runs": run.pk,
        "workflow-step-runs": run.step_runs.first().pk if run.step_runs.exists() else None,
        "workflow-buttons": create_button(workflow, name="fuzzed button").pk,
        "approval-policies": policy.pk,
        "launch-requests": request.pk,
        "approval-events": request.events.first().pk if request.events.exists() else None,
        "hook-rules": create_rule("Noop").pk,
    }


@pytest.fixture
def api_schema(openapi_document):
    """The app's operations as a schemathesis schema bound to Nautobot's WSGI application.

    Request bodies are JSON only: Nautobot core's CSV bulk import (Content-Type: text/csv) answers 201 "[]" to a body
    without rows, on every endpoint; that is core's behaviour, not the app's.
    As Django's test client does, the start and end of a request do not close the database connection: it is the test's,
    inside the test's transaction.
    """
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    document = copy.deepcopy(openapi_document)
    for path in document["paths"].values():
        for operation in path.values():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            if len(content) > 1:
                content.pop("text/csv", None)
    schema = schemathesis.openapi.from_dict(document)
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
        # A bulk request's errors: one entry per item, {} for the items without a problem.
        problems = [item for item in body if item != {}]
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


def conforms_to_schema(ctx, response, case):
    """schemathesis's response_schema_conformance, less KNOWN_SCHEMA_MISMATCHES."""
    try:
        return response_schema_conformance(ctx, response, case)
    except Exception as error:
        if any(mismatch in str(error) for mismatch in KNOWN_SCHEMA_MISMATCHES):
            return None
        raise


CHECKS = [not_a_server_error, conforms_to_schema, content_type_conformance, four_xx_names_the_problem]
_alternate = itertools.count()


def _aim_at_seeded_object(case, seeded):
    """Every other request to a ``{id}`` path targets an existing object, so bodies reach validation, not 404.

    Not the coverage cases made for the id itself (a malformed id must stay malformed).
    """
    data = case.meta.phase.data if case.meta else None
    if getattr(data, "parameter_location", None) is not None and data.parameter_location.value == "path":
        return
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


def coverage_sample(schema, operation, rng):
    """The coverage phase's cases of one operation: one per targeted parameter or scenario, then a random sample.

    Returns (cases to run, how many the phase has).
    """
    cases = list(
        schema.iter_coverage_cases(
            operation,
            generation_modes=list(GenerationMode),
            generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        )
    )
    targets = collections.defaultdict(list)
    for index, case in enumerate(cases):
        data = case.meta.phase.data
        targets[(data.parameter_location, data.parameter) if data.parameter else data.scenario].append(index)
    chosen = {rng.choice(indexes) for indexes in targets.values()}
    rest = [index for index in range(len(cases)) if index not in chosen]
    chosen.update(rng.sample(rest, max(0, min(len(rest), COVERAGE_CASES - len(chosen)))))
    return [cases[index] for index in sorted(chosen)], len(cases)


def _fuzz_operation(schema, operation, headers, seeded, tally):
    """Run the coverage and fuzzing phases of one operation; returns {failure kind: first example}.

    Failures are collected, not raised, so one run reports every kind of failure of every operation. Each request runs
    in a savepoint that is rolled back afterwards, so one request's changes (or a broken transaction) never leak into
    the next.
    """
    from django.db import transaction

    failures = {}
    checks = CHECKS
    if operation.path.endswith("/notes/"):
        # Nautobot core's notes endpoints answer an assigned_object that core's own NoteAssignedObject schema does
        # not list for app models; the response shape is core's, so only its status and errors are checked here.
        checks = [check for check in CHECKS if check is not conforms_to_schema]

    def run_case(case):
        _aim_at_seeded_object(case, seeded)
        # An atomic block, not a bare savepoint: its rollback also releases the savepoint, so thousands of requests
        # do not nest thousands of subtransactions (each holds a lock until the test's transaction ends).
        with transaction.atomic():
            try:
                response = case.call(headers=headers)
                tally[(case.meta.phase.name.value, response.status_code // 100)] += 1
                case.validate_response(response, checks=checks, headers=headers)
            except (Exception, BaseExceptionGroup) as error:  # noqa: F821 - builtin since Python 3.11
                detail = str(error) if "Reproduce with" in str(error) else f"{error}\n{case.as_curl_command()}"
                failures.setdefault(f"{case.method} {case.path}: {_failure_kind(error)}", detail)
            finally:
                transaction.set_rollback(True)

    operation_seed = derive_operation_seed(SEED, operation.label)
    cases, total = coverage_sample(schema, operation, random.Random(operation_seed))
    tally["coverage cases in all"] += total
    for case in cases:
        run_case(case)

    @seed(operation_seed)
    @given(case=st.one_of([operation.as_strategy(generation_mode=mode) for mode in GenerationMode]))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case):
        run_case(case)

    fuzz()
    return failures


@pytest.mark.api
@pytest.mark.fuzz
def test_app_api_has_no_server_errors_and_explains_bad_requests(api_schema, seeded, capsys):
    from nautobot.users.models import Token

    with capsys.disabled():
        print(f"\nschemathesis coverage + fuzzing, seed {SEED} (replay: JOBFLOW_FUZZ_SEED={SEED})", flush=True)
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
    tally = collections.Counter()
    started = time.monotonic()
    for operation in operations:
        failures.update(_fuzz_operation(api_schema, operation, headers, seeded, tally))
    in_all = tally.pop("coverage cases in all")
    by_phase = {phase: sum(n for (p, _), n in tally.items() if p == phase) for phase in ("coverage", "fuzzing")}
    server_errors = sum(n for (_, status), n in tally.items() if status == 5)
    with capsys.disabled():
        print(
            f"seed {SEED}: {len(operations)} operations, {sum(tally.values())} requests "
            f"(coverage {by_phase['coverage']} of {in_all} cases, fuzzing {by_phase['fuzzing']}), "
            f"{server_errors} server errors, {len(failures)} kinds of failure, {time.monotonic() - started:.0f}s",
            flush=True,
        )
    assert by_phase["coverage"] >= len(operations) and by_phase["fuzzing"] >= len(operations), tally
    summary = "\n".join(f"- {kind}" for kind in failures)
    examples = "\n\n".join(list(failures.values())[:5])
    assert not failures, f"seed {SEED}: {len(failures)} kinds of failure:\n{summary}\n\nFirst examples:\n{examples}"


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
