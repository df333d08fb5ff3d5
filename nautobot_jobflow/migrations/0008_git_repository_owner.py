"""Workflows, hook rules and approval policies record the Git repository (and file) they are synced from."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('extras', '0145_objectmetadata_assigned_object_type_cascade'),
        ('nautobot_jobflow', '0007_foreach_outputs_pause_concurrency_keys'),
    ]

    operations = [
        migrations.AddField(
            model_name='approvalpolicy',
            name='git_path',
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name='approvalpolicy',
            name='git_repository',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='extras.gitrepository'),
        ),
        migrations.AddField(
            model_name='hookrule',
            name='git_path',
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name='hookrule',
            name='git_repository',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='extras.gitrepository'),
        ),
        migrations.AddField(
            model_name='workflow',
            name='git_path',
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.AddField(
            model_name='workflow',
            name='git_repository',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='extras.gitrepository'),
        ),
    ]
