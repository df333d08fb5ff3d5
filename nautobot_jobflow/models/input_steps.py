"""The audit trail of input steps: every answer given to a step run that waits for a person (who, when, what)."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.models import BaseModel, extras_features

from nautobot_jobflow.models.workflows import WorkflowStepRun


@extras_features("graphql")
class StepInputResponse(BaseModel):
    """One person's answer to an input step's attempt; written by the engine only, never edited."""

    step_run = models.ForeignKey(WorkflowStepRun, on_delete=models.CASCADE, related_name="input_responses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobflow_input_responses",
    )
    user_name = models.CharField(max_length=150, help_text="The responder's username (kept if the user is deleted).")
    time = models.DateTimeField(default=timezone.now, db_index=True)
    answer = models.JSONField(default=dict, blank=True)

    # As for runs: Nautobot's ?sort= appends the natural key as a tie-breaker.
    natural_key_field_names = ["pk"]

    class Meta:
        ordering = ["step_run", "time"]
        constraints = [
            models.UniqueConstraint(fields=["step_run", "user"], name="jobflow_input_response_once_per_user")
        ]

    def __str__(self):
        return f"{self.user_name} on {self.step_run}"

    def get_absolute_url(self, api=False):
        """An answer is shown on its run's page."""
        if api:
            return reverse("plugins-api:nautobot_jobflow-api:stepinputresponse-detail", kwargs={"pk": self.pk})
        return reverse("plugins:nautobot_jobflow:workflowrun", kwargs={"pk": self.step_run.run_id})
