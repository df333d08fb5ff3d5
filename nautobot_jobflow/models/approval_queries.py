"""Lookups of approval models: the policy that covers a launch, the requests a user can decide now."""

from nautobot.core.models.querysets import RestrictedQuerySet
from nautobot.extras.choices import ApprovalWorkflowStateChoices
from nautobot.extras.models import ApprovalWorkflowStage

from nautobot_jobflow.choices import LaunchRequestStatusChoices
from nautobot_jobflow.models.approval_matching import policy_matches


class ApprovalPolicyQuerySet(RestrictedQuerySet):
    """``ApprovalPolicy.objects``: Nautobot's restricted queryset plus the launch-time lookups."""

    def enabled_for_matching(self):
        """Enabled policies, highest weight first, with what matching reads prefetched (one round of queries)."""
        return list(
            self.filter(enabled=True)
            .select_related("object_content_type", "approval_workflow_definition")
            .prefetch_related("jobs", "workflows")
            .order_by("-weight", "name")
        )

    def find_for_launch(self, target, inputs, origin, dryrun, policies=None):
        """The highest-weight enabled policy that covers this launch, or None.

        ``policies``: the list ``enabled_for_matching()`` returned, for a caller that checks many launches at once.
        """
        for policy in self.enabled_for_matching() if policies is None else policies:
            if policy_matches(policy, target, inputs, origin, dryrun):
                return policy
        return None


class LaunchRequestQuerySet(RestrictedQuerySet):
    """``LaunchRequest.objects``: Nautobot's restricted queryset plus the approver's lookups."""

    def awaiting_decision_by(self, user):
        """IDs of pending requests whose active stage ``user`` may approve (member of its group, not yet approved).

        A fixed number of queries whatever the number of requests.
        """
        return _awaiting_decision_by(self, user)


def _awaiting_decision_by(requests, user):
    group_ids = set(user.groups.values_list("pk", flat=True))
    if not group_ids:
        return []
    pending = requests.filter(status=LaunchRequestStatusChoices.PENDING)
    requesters = dict(pending.values_list("pk", "user_id"))
    self_ok = set(pending.filter(policy__allow_self_approval=True).values_list("pk", flat=True))
    stages = (
        ApprovalWorkflowStage.objects.filter(
            approval_workflow__object_under_review_content_type__app_label="nautobot_jobflow",
            approval_workflow__object_under_review_content_type__model="launchrequest",
            approval_workflow__object_under_review_object_id__in=list(requesters),
            approval_workflow__current_state=ApprovalWorkflowStateChoices.PENDING,
        )
        .exclude(state=ApprovalWorkflowStateChoices.APPROVED)
        .order_by("approval_workflow_stage_definition__sequence")
        .values_list(
            "pk",
            "approval_workflow__object_under_review_object_id",
            "state",
            "approval_workflow_stage_definition__approver_group_id",
        )
    )
    active = {}
    for stage_id, request_id, state, group_id in stages:
        active.setdefault(request_id, (stage_id, state, group_id))
    approved_by_user = set(
        ApprovalWorkflowStage.objects.filter(
            pk__in=[stage_id for stage_id, _, _ in active.values()],
            approval_workflow_stage_responses__user=user,
            approval_workflow_stage_responses__state=ApprovalWorkflowStateChoices.APPROVED,
        ).values_list("pk", flat=True)
    )
    return [
        request_id
        for request_id, (stage_id, state, group_id) in active.items()
        if state == ApprovalWorkflowStateChoices.PENDING
        and group_id in group_ids
        and stage_id not in approved_by_user
        and (requesters[request_id] != user.pk or request_id in self_ok)
    ]
