"""Input steps: a step kind ("job", "workflow" or "input"), the input step's fields, and the audit of its answers.

Existing steps that run a nested workflow get the kind "workflow"; every other existing step is a Job step.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


def nested_steps_kind(apps, schema_editor):
    """Steps with a nested workflow are of the kind "workflow" (the new field's default is "job")."""
    WorkflowStep = apps.get_model("nautobot_jobflow", "WorkflowStep")
    WorkflowStep.objects.filter(subworkflow__isnull=False, job__isnull=True).update(kind="workflow")


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('nautobot_jobflow', '0008_git_repository_owner'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='workflowstep',
            name='answer_schema',
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name='workflowstep',
            name='kind',
            field=models.CharField(default='job', max_length=20),
        ),
        migrations.AddField(
            model_name='workflowstep',
            name='min_responders',
            field=models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)]),
        ),
        migrations.AddField(
            model_name='workflowstep',
            name='prompt',
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name='workflowstep',
            name='requester_may_answer',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='workflowstep',
            name='responder_group',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='jobflow_input_steps', to='auth.group'),
        ),
        migrations.CreateModel(
            name='StepInputResponse',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False, unique=True)),
                ('user_name', models.CharField(max_length=150)),
                ('time', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('answer', models.JSONField(blank=True, default=dict)),
                ('step_run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='input_responses', to='nautobot_jobflow.workflowsteprun')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='jobflow_input_responses', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['step_run', 'time'],
                'constraints': [models.UniqueConstraint(fields=('step_run', 'user'), name='jobflow_input_response_once_per_user')],
            },
        ),
        migrations.RunPython(nested_steps_kind, migrations.RunPython.noop),
    ]
