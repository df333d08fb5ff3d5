"""The app's demo content, loaded by `invoke demo-data` after the inventory (``demo_data.py``).

What it holds (the walk-through is docs/user/getting-started.md): the demo Jobs of ``development/jobs`` enabled, seven
example workflows (``demo_workflows.py``), two hook rules, two workflow buttons (Device and Location pages), an
approval policy with its approvers group, a requester and an approver, and the permissions they need. Everything is
tagged "Jobflow demo", which the app's home page lists.

Idempotent: every object is found by its name and written only when it is missing or differs from what is described
here, so a second run writes nothing and creates no ObjectChange. A run that does write is change-logged as the
development superuser ("invoke demo-data" in the change context). Many-to-many values are only ever added. Re-running
puts edited examples back as documented (copy one, e.g. through its YAML, to experiment).

Import this module after ``nautobot.setup()``: it imports Django models.

To add a kind of content, describe it in ``demo_workflows.py`` and call ``ensure`` / ``ensure_members`` from ``load``;
add its model to ``TAGGED_MODELS`` and to the kinds of ``views/home.py``'s ``demo_content`` to list it on the home page.
"""

import os
from dataclasses import dataclass, field

import demo_workflows
import yaml
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from nautobot.dcim.models import Device, Interface, Location
from nautobot.extras.context_managers import web_request_context
from nautobot.extras.models import ApprovalWorkflowDefinition, ApprovalWorkflowStageDefinition, Job, Tag
from nautobot.extras.signals import refresh_job_models
from nautobot.users.models import ObjectPermission

from nautobot_jobflow.choices import PolicyTargetChoices
from nautobot_jobflow.models import ApprovalPolicy, HookRule, LaunchRequest, Workflow, WorkflowButton
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types
from nautobot_jobflow.models.workflow_yaml import export_workflow, import_workflow
from nautobot_jobflow.views.home import DEMO_TAG_NAME

User = get_user_model()

APPROVERS_GROUP = demo_workflows.APPROVERS_GROUP
APPROVAL_DEFINITION = "Jobflow demo: one network lead"
POLICY = "Demo: maintenance needs approval"
VIEW_APPS = ("dcim", "extras", "nautobot_jobflow")  # what the demo users may look at
TAGGED_MODELS = (Workflow, HookRule, ApprovalPolicy, WorkflowButton)


@dataclass
class Tally:
    """What a run of the loader created and updated (both empty on a second run)."""

    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)

    def summary(self):
        """One line for the terminal."""
        if not (self.created or self.updated):
            return "demo content: up to date (nothing created or changed)"
        return f"demo content: {len(self.created)} objects created, {len(self.updated)} updated"


def _save(obj, check=None):
    if check is not None:
        check(obj)
    if hasattr(obj, "validated_save"):
        obj.validated_save()
    else:
        obj.full_clean()
        obj.save()


def ensure(tally, model, lookup, create_defaults=None, check=None, **fields):
    """The object ``lookup`` finds, created with ``fields`` when missing, saved only when a field differs.

    ``create_defaults``: fields set on creation only; ``check(obj)``: more validation before a save.
    """
    obj = model.objects.filter(**lookup).first()
    label = f"{model._meta.verbose_name} {next(iter(lookup.values()))}"
    if obj is None:
        obj = model(**lookup, **(create_defaults or {}), **fields)
        _save(obj, check)
        tally.created.append(label)
        return obj
    changed = [name for name, value in fields.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, fields[name])
        _save(obj, check)
        tally.updated.append(f"{label} ({', '.join(changed)})")
    return obj


def ensure_members(tally, obj, attribute, values):
    """Add the missing ``values`` to the many-to-many ``attribute`` of ``obj`` (never removes any)."""
    manager = getattr(obj, attribute)
    present = set(manager.values_list("pk", flat=True))
    missing = [value for value in values if value.pk not in present]
    if missing:
        manager.add(*missing)
        tally.updated.append(f"{obj} {attribute} (+{len(missing)})")


def ensure_tagged(tally, obj, tag):
    """Tag ``obj`` with ``tag`` unless it is."""
    if not obj.tags.filter(pk=tag.pk).exists():
        obj.tags.add(tag)
        tally.updated.append(f"{obj} tagged")


def ensure_user(tally, username, password):
    """An active user with this password (reset when it differs, so the printed password is always right)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        tally.created.append(f"user {username}")
        return User.objects.create_user(username=username, password=password)
    if not user.is_active or not user.check_password(password):
        user.is_active = True
        user.set_password(password)
        user.save()
        tally.updated.append(f"user {username}")
    return user


def ensure_workflow(tally, spec):
    """Import ``spec`` (the YAML format, as a dict) unless the workflow's export already says the same."""
    existing = Workflow.objects.filter(name=spec["name"]).first()
    if existing is not None and canonical(yaml.safe_load(export_workflow(existing))) == canonical(spec):
        return existing
    (tally.updated if existing else tally.created).append(f"workflow {spec['name']}")
    return import_workflow(yaml.safe_dump(spec, sort_keys=False))


STEP_DEFAULTS = {
    "inputs": {}, "join": "all", "retries": 0, "backoff": 0, "timeout": None, "queue": None, "for_each": None,
    "concurrency": None, "max_failures": 0, "concurrency_key": "", "key_limit": 1,
}  # fmt: skip


def canonical(document):
    """A workflow document with defaults left out and steps and edges in a fixed order, for comparison."""
    steps = [
        {key: value for key, value in step.items() if STEP_DEFAULTS.get(key, ...) != value}
        for step in document.get("steps") or []
    ]
    edges = [
        {"trigger": "on-success", **{key: value for key, value in edge.items() if value != ""}}
        for edge in document.get("edges") or []
    ]
    return {
        "name": document["name"],
        "description": document.get("description") or "",
        "enabled": document.get("enabled", True),
        "input_schema": document.get("input_schema") or {},
        "default_inputs": document.get("default_inputs") or {},
        "outputs": document.get("outputs") or {},
        "dryrun_mode": document.get("dryrun_mode") or "skip",
        "steps": sorted(steps, key=lambda step: step["name"]),
        "edges": sorted(edges, key=lambda edge: (edge["from"], edge["to"])),
    }


def enable_demo_jobs():
    """Load the Jobs of JOBS_ROOT into the registry and Job rows (Nautobot's own refresh), enable the demo ones.

    Outside the change context: refreshing Job rows is Nautobot's bookkeeping, not demo content.
    """
    refresh_job_models(sender=None, apps=global_apps)
    demo_jobs = Job.objects.filter(module_name=demo_workflows.JOBS_MODULE)
    if not demo_jobs.exists():
        raise RuntimeError(
            f"No Jobs of module {demo_workflows.JOBS_MODULE!r}: is JOBS_ROOT development/jobs? (NAUTOBOT_JOBS_ROOT)"
        )
    return demo_jobs.filter(enabled=False).update(enabled=True)


def _demo_job(class_name):
    return Job.objects.get(module_name=demo_workflows.JOBS_MODULE, job_class_name=class_name)


def ensure_people(tally):
    """The requester, the approver, the approvers group and what they may do; returns the group."""
    requester = ensure_user(tally, os.environ["JOBFLOW_DEMO_REQUESTER"], os.environ["JOBFLOW_DEMO_REQUESTER_PASSWORD"])
    approver = ensure_user(tally, os.environ["JOBFLOW_DEMO_APPROVER"], os.environ["JOBFLOW_DEMO_APPROVER_PASSWORD"])
    group = ensure(tally, Group, {"name": APPROVERS_GROUP})
    ensure_members(tally, group, "user_set", [approver])

    view = ensure(
        tally, ObjectPermission, {"name": "Jobflow demo: view"}, actions=["view"], constraints=None, enabled=True,
        description="The demo users see the inventory, Jobs, Job Results, approvals and everything of Jobflow.",
    )  # fmt: skip
    ensure_members(tally, view, "object_types", ContentType.objects.filter(app_label__in=VIEW_APPS).order_by("pk"))
    ensure_members(tally, view, "users", [requester, approver])
    run = ensure(
        tally, ObjectPermission, {"name": "Jobflow demo: run Jobs"}, actions=["view", "run"], enabled=True,
        constraints=[{"module_name": demo_workflows.JOBS_MODULE}, {"module_name__startswith": "nautobot_jobflow."}],
        description="The requester runs the demo Jobs (so the example workflows) and the app's own Jobs.",
    )  # fmt: skip
    ensure_members(tally, run, "object_types", [ContentType.objects.get_for_model(Job)])
    ensure_members(tally, run, "users", [requester])
    edit = ensure(
        tally, ObjectPermission, {"name": "Jobflow demo: edit devices and interfaces"}, actions=["change"],
        constraints=None, enabled=True, description="The requester changes devices and interfaces (the hook rules).",
    )  # fmt: skip
    ensure_members(tally, edit, "object_types", [ContentType.objects.get_for_model(m) for m in (Device, Interface)])
    ensure_members(tally, edit, "users", [requester])
    approve = ensure(
        tally, ObjectPermission, {"name": "Jobflow demo: approve in Nautobot's approval views"}, actions=["change"],
        constraints=None, enabled=True, description="The approver may also decide from Approvals > Approval Dashboard.",
    )  # fmt: skip
    stage = ContentType.objects.get_by_natural_key("extras", "approvalworkflowstage")  # core's approve/deny actions
    ensure_members(tally, approve, "object_types", [stage])
    ensure_members(tally, approve, "users", [approver])
    return group


def ensure_policy(tally, group, workflow):
    """A core approval workflow definition (one stage: one member of ``group``) and the policy holding ``workflow``."""
    request_type = ContentType.objects.get_for_model(LaunchRequest)
    taken = ApprovalWorkflowDefinition.objects.filter(model_content_type=request_type).values_list("weight", flat=True)
    definition = ensure(
        tally, ApprovalWorkflowDefinition, {"name": APPROVAL_DEFINITION}, model_content_type=request_type,
        create_defaults={"weight": max(taken, default=0) + 1},  # core wants one weight per model
    )  # fmt: skip
    ensure(
        tally,
        ApprovalWorkflowStageDefinition,
        {"approval_workflow_definition": definition, "sequence": 1},
        name="Network lead",
        min_approvers=1,
        approver_group=group,
    )
    policy = ensure(
        tally,
        ApprovalPolicy,
        {"name": POLICY},
        description=f"Launches of '{workflow}' wait for one member of '{group}'; dry runs start at once.",
        enabled=True,
        applies_to=PolicyTargetChoices.WORKFLOWS,
        approval_workflow_definition=definition,
        origins=[],
        dryrun_exempt=True,
        expiry_minutes=24 * 60,
        allow_self_approval=False,
        require_preview=False,
    )
    ensure_members(tally, policy, "workflows", [workflow])
    return policy


def ensure_rule(tally, owner, spec):
    """One object-change hook rule from ``spec`` (see ``demo_workflows.hook_rules``)."""
    spec = dict(spec)
    content_types = [ContentType.objects.get_by_natural_key(*label.split(".")) for label in spec.pop("content_types")]
    spec["job"] = _demo_job(spec.pop("job"))
    rule = ensure(
        tally, HookRule, {"name": spec.pop("name")}, owner=owner, enabled=True,
        check=lambda rule: validate_for_content_types(rule, content_types), **spec,
    )  # fmt: skip
    ensure_members(tally, rule, "content_types", content_types)
    return rule


def ensure_button(tally, spec, workflows):
    """One workflow button from ``spec`` (see ``demo_workflows.buttons``) on the pages of its object types."""
    spec = dict(spec)
    content_types = [ContentType.objects.get_by_natural_key(*label.split(".")) for label in spec.pop("content_types")]
    button = ensure(
        tally, WorkflowButton, {"name": spec.pop("name")}, workflow=workflows[spec.pop("workflow")], enabled=True,
        group_name="", **spec,
    )  # fmt: skip
    ensure_members(tally, button, "content_types", content_types)
    return button


def load(admin_username):
    """Load (or complete) the demo content, change-logged as the user ``admin_username``; returns the Tally."""
    admin = User.objects.get(username=admin_username)
    tally = Tally()
    enabled = enable_demo_jobs()
    if enabled:
        tally.updated.append(f"{enabled} demo Jobs enabled")
    devices = Device.objects.order_by("name")
    device = devices.filter(name=demo_workflows.DEFAULT_DEVICE).first() or devices.first()
    location = Location.objects.filter(name=demo_workflows.DEFAULT_LOCATION).first()
    with web_request_context(admin, context_detail="invoke demo-data"), transaction.atomic():
        tag = ensure(
            tally, Tag, {"name": DEMO_TAG_NAME}, color="ff9800",
            description="Loaded by invoke demo-data; see Getting started in the app's documentation.",
        )  # fmt: skip
        ensure_members(tally, tag, "content_types", [ContentType.objects.get_for_model(m) for m in TAGGED_MODELS])
        group = ensure_people(tally)
        workflows = {}
        for key, spec in demo_workflows.workflows(device, location).items():
            workflows[key] = ensure_workflow(tally, spec)
            ensure_tagged(tally, workflows[key], tag)
        ensure_tagged(tally, ensure_policy(tally, group, workflows["maintenance"]), tag)
        for spec in demo_workflows.hook_rules():
            ensure_tagged(tally, ensure_rule(tally, admin, spec), tag)
        for spec in demo_workflows.buttons():
            ensure_tagged(tally, ensure_button(tally, spec, workflows), tag)
    return tally
