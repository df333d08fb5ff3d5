"""Definitions a Git repository owns: the owner fields, the read-only rule, and writes that change only what differs.

A workflow, hook rule or approval policy synced from a Git repository records that repository and the file it came
from. Such an object (and a workflow's steps and edges) is changed only by a sync of its own repository: everywhere
else (UI, REST, Nautobot's bulk-edit Jobs, the shell) the pre-save and pre-delete guard refuses, with a message that
says where to change it. The entry points check the same rule first (``managed_by_git``) to answer clearly.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import ValidationError
from django.db import models

# The pk of the Git repository whose sync is writing in this context (thread / task), or None.
_SYNCING = ContextVar("jobflow_git_sync", default=None)


class GitOwnedModel(models.Model):
    """Abstract: the Git repository (and file in it) that owns the definition; empty for one made in Nautobot."""

    git_repository = models.ForeignKey(
        to="extras.GitRepository",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="Git repository",
        help_text="The Git repository this definition is synced from (read-only here; change it there).",
    )
    git_path = models.CharField(
        max_length=255,
        blank=True,
        editable=False,
        verbose_name="Git file",
        help_text="The file in the Git repository that defines it.",
    )

    class Meta:
        abstract = True


class GitManaged(ValidationError):
    """A write to a definition that a Git repository owns, outside that repository's sync."""


def git_owner(obj):
    """The object that carries the Git ownership of ``obj``: itself, or the workflow of a step or an edge."""
    if hasattr(obj, "git_repository_id"):
        return obj
    if getattr(obj, "workflow_id", None):
        return obj.workflow
    return None


def managed_by_git(obj):
    """Why ``obj`` may not be changed here (a sentence naming the repository and the file), or None."""
    owner = git_owner(obj)
    if owner is None or not owner.git_repository_id:
        return None
    return (
        f"{owner._meta.verbose_name.capitalize()} '{owner}' is managed by Git repository '{owner.git_repository}'; "
        f"change {owner.git_path or 'its file'} there."
    )


@contextmanager
def git_sync_writes(repository):
    """Let the sync of ``repository`` write the definitions it owns (only those) while the block runs."""
    token = _SYNCING.set(repository.pk)
    try:
        yield
    finally:
        _SYNCING.reset(token)


def refuse_git_managed_write(sender, instance, **kwargs):
    """pre_save / pre_delete receiver: only the owning repository's sync writes a Git-owned definition."""
    owner = git_owner(instance)
    if owner is None or not owner.git_repository_id or owner.git_repository_id == _SYNCING.get():
        return
    raise GitManaged(managed_by_git(instance))


def claim(model, name, repository):
    """The ``model`` row named ``name`` that ``repository`` may write (a new unsaved one when there is none).

    ``repository`` None is Nautobot's own UI or REST: it may not touch what a repository owns. A repository may not
    take over a definition made in Nautobot or owned by another repository (two repositories never own one name).
    """
    label = model._meta.verbose_name
    existing = model.objects.filter(name=name).select_related("git_repository").first()
    if existing is None:
        return model(name=name)
    if existing.git_repository_id == (repository.pk if repository else None):
        return existing
    if repository is None:
        raise GitManaged(managed_by_git(existing))
    if existing.git_repository_id is None:
        raise ValidationError(
            {
                "name": f"A {label} named '{name}' already exists in Nautobot and is not managed by this repository; "
                "rename one of them, or delete the one in Nautobot, then sync again."
            }
        )
    raise ValidationError(
        {
            "name": f"The {label} '{name}' is already managed by Git repository '{existing.git_repository}' "
            f"({existing.git_path}); two repositories cannot own one name."
        }
    )


def _values(instance):
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def save_if_changed(instance, values, validate):
    """Set ``values`` on ``instance``, validate it, and save it only when a stored value differs (or it is new).

    ``validate(instance)`` runs after the values are set (usually ``full_clean``, which also normalises them), so the
    comparison sees what would be stored: a second sync of an unchanged file saves nothing and logs no change.
    Returns True when it saved.
    """
    before = _values(instance) if instance.present_in_database else None
    for name, value in values.items():
        setattr(instance, name, value)
    validate(instance)
    if before is not None and _values(instance) == before:
        return False
    instance.save()
    return True


def set_if_changed(manager, objects):
    """Set a many-to-many relation to ``objects`` unless it already holds exactly those. True when it changed."""
    wanted = {obj.pk for obj in objects}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return False
    manager.set(objects)
    return True
