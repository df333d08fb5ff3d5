"""Fire a rule: render its input template, launch its target as the user, record a HookFiring.

Every run goes through ``launch()`` with origin "hook". A user who may not run the target gets no run and a
"skipped" firing saying why (as core job hooks log it); bad inputs give a "failed" firing with the message; a
launch that waits for approval gives an "awaiting approval" firing.
"""

import logging

from django.db import IntegrityError, transaction
from nautobot.extras.models import Job

from nautobot_jobflow.choices import HookFiringStatusChoices, LaunchOriginChoices
from nautobot_jobflow.lib.errors import LaunchForbidden, LaunchRefused, refusal_text
from nautobot_jobflow.lib.sandbox import TemplateProblem, render_mapping
from nautobot_jobflow.models import HookFiring, Workflow
from nautobot_jobflow.service import launch

logger = logging.getLogger(__name__)
MAX_REASON_CHARS = 2000


def load_target(rule):
    """The rule's Job or Workflow (None when it no longer exists)."""
    if rule.job_id:
        return Job.objects.filter(pk=rule.job_id).first()
    return Workflow.objects.filter(pk=rule.workflow_id).first()


def render_inputs(rule, context):
    """The target's inputs for this event (TemplateProblem names the input)."""
    return render_mapping(rule.input_template, context)


def fire(rule, context, user, depth=0, target=None, dedupe_key="", **firing_fields):
    """Launch the rule's target for one event (or one window); returns the saved HookFiring (None: already fired)."""
    try:
        with transaction.atomic():
            firing = HookFiring(
                rule_id=rule.pk,
                depth=depth,
                user=user,
                dedupe_key=dedupe_key,
                status=HookFiringStatusChoices.FAILED,
                **firing_fields,
            )
            if dedupe_key:
                firing.save()  # claims the key: a second firing for the same source fails here
            target = target if target is not None else load_target(rule)
            try:
                if target is None:
                    raise LaunchRefused({"target": "The rule's target no longer exists."})
                firing.inputs = render_inputs(rule, context)
                outcome = launch(target, firing.inputs, user, LaunchOriginChoices.HOOK)
            except TemplateProblem as problem:
                firing.reason = f"Input template: {problem}"
            except LaunchForbidden as error:
                firing.status = HookFiringStatusChoices.SKIPPED
                firing.reason = refusal_text(error)
            except LaunchRefused as error:
                firing.reason = f"Launch refused: {refusal_text(error)}"
            else:
                firing.job_result = outcome.job_result
                firing.workflow_run = outcome.run
                if outcome.approval_required:
                    firing.status = HookFiringStatusChoices.AWAITING_APPROVAL
                    firing.reason = "The launch waits for approval."
                else:
                    firing.status = HookFiringStatusChoices.FIRED
            firing.reason = firing.reason[:MAX_REASON_CHARS]
            firing.save()
    except IntegrityError:
        if dedupe_key:
            return None  # this source already fired the rule (another process was first)
        logger.exception("Hook rule %s: the firing could not be recorded", rule.name)
        return None
    level = logging.INFO if firing.status == HookFiringStatusChoices.FIRED else logging.WARNING
    logger.log(level, "Hook rule %s: %s %s %s", rule.name, firing.status, firing.object_repr, firing.reason)
    return firing


def record(rule, status, reason, depth=0, user=None, dedupe_key="", **firing_fields):
    """A firing that launched nothing (loop protection, disabled target...); None when its dedupe key is taken."""
    try:
        with transaction.atomic():
            firing = HookFiring.objects.create(
                rule_id=rule.pk,
                status=status,
                reason=reason[:MAX_REASON_CHARS],
                depth=depth,
                user=user,
                dedupe_key=dedupe_key,
                **firing_fields,
            )
    except IntegrityError:
        if dedupe_key:
            return None
        logger.exception("Hook rule %s: the firing could not be recorded", rule.name)
        return None
    logger.info("Hook rule %s: %s %s", rule.name, status, reason)
    return firing
