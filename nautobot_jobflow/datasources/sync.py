"""Syncing definitions from a Git repository: one file, one transaction, one log line in the sync's JobResult.

Core's "Git Repository: Sync" Job pulls the repository and calls each registered content's callback, as the user who
started it, inside one transaction that core reverts when any log line has level *error*. So a refused file is logged
at level *failure*: it names the file and the field, nothing of that file is applied (its own savepoint), the other
files still apply and the sync succeeds. Only objects this repository created are updated or deleted.

The three callbacks run in weight order (workflows, hook rules, approval policies); the last one deletes what the
repository no longer defines, dependents first, so a workflow and the rule that runs it can leave in one commit.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from nautobot.extras.choices import LogLevelChoices

from nautobot_jobflow.datasources import approval_policies, hook_rules, workflows
from nautobot_jobflow.lib.errors import refusal_text
from nautobot_jobflow.models import ApprovalPolicy, HookRule, Workflow
from nautobot_jobflow.models.git_owned import git_sync_writes

logger = logging.getLogger(__name__)

ROOT = "jobflow"
SUFFIXES = (".yaml", ".yml")
PYTHON_LEVELS = {LogLevelChoices.LOG_INFO: logging.INFO}


@dataclass(frozen=True)
class Kind:
    """One kind of definition a repository provides: where its files are and how one file is applied."""

    name: str  # the content's name in core's repository form, and the log grouping
    folder: str
    content_identifier: str
    model: type
    parse: Callable
    apply: Callable
    order: Callable = None

    @property
    def label(self):
        """The model's verbose name, for log lines."""
        return self.model._meta.verbose_name


WORKFLOWS = Kind(
    "jobflow workflows",
    "workflows",
    "nautobot_jobflow.workflow",
    Workflow,
    workflows.parse,
    workflows.apply,
    workflows.order,
)
HOOK_RULES = Kind(
    "jobflow hook rules", "hook_rules", "nautobot_jobflow.hookrule", HookRule, hook_rules.parse, hook_rules.apply
)
APPROVAL_POLICIES = Kind(
    "jobflow approval policies",
    "approval_policies",
    "nautobot_jobflow.approvalpolicy",
    ApprovalPolicy,
    approval_policies.parse,
    approval_policies.apply,
)
KINDS = (WORKFLOWS, HOOK_RULES, APPROVAL_POLICIES)

# What each kind keeps in the refresh under way (by JobResult), until the last kind deletes the rest.
_KEPT = {}


def _log(job_result, kind, message, level=LogLevelChoices.LOG_INFO, obj=None):
    logger.log(PYTHON_LEVELS.get(level, logging.WARNING), message)
    job_result.log(message, obj=obj, level_choice=level, grouping=kind.name)


def refresh(kind, repository, job_result, delete=False):
    """The callback of one kind: apply its files, then (last kind) delete what the repository no longer defines."""
    if kind is KINDS[0]:
        _KEPT[job_result.pk] = {}
    kept = _KEPT.setdefault(job_result.pk, {})  # by kind name
    with git_sync_writes(repository):
        if kind.content_identifier in repository.provided_contents and not delete:
            kept[kind.name] = (
                _apply_files(kind, repository, job_result),
                "no file of the repository defines it any more",
            )
        else:
            kept[kind.name] = (set(), f"the repository does not provide {kind.name} (any more)")
        if kind is KINDS[-1]:
            try:
                for each in reversed(KINDS):
                    if each.name in kept:
                        _delete_stale(each, repository, job_result, *kept[each.name])
            finally:
                _KEPT.pop(job_result.pk, None)


def _files(kind, repository):
    folder = os.path.join(repository.filesystem_path, ROOT, kind.folder)
    if not os.path.isdir(folder):
        return []
    names = sorted(name for name in os.listdir(folder) if name.endswith(SUFFIXES))
    return [(f"{ROOT}/{kind.folder}/{name}", os.path.join(folder, name)) for name in names]


def _refused(job_result, kind, path, error):
    text = refusal_text(error).rstrip()
    text = text if text.endswith(".") else f"{text}."
    _log(job_result, kind, f"{path}: {text} Nothing of this file was applied.", LogLevelChoices.LOG_FAILURE)


def _apply_files(kind, repository, job_result):
    """Apply every file of ``kind``, each in its own savepoint. Returns the names to keep."""
    documents, failed, names = [], set(), {}
    for path, full_path in _files(kind, repository):
        try:
            with open(full_path, encoding="utf-8") as handle:
                document = kind.parse(handle.read())
        except Exception as error:  # unreadable, not YAML, or not the shape of a definition
            _refused(job_result, kind, path, error)
            failed.add(path)
            continue
        if document["name"] in names:
            duplicate = f"'{document['name']}' is also defined in {names[document['name']]}; one file per name."
            _refused(job_result, kind, path, ValidationError({"name": duplicate}))
            failed.add(path)
            continue
        names[document["name"]] = path
        documents.append((path, document))
    if kind.order is not None:
        documents, refusals = kind.order(documents)
        for path, error in refusals:
            _refused(job_result, kind, path, error)
            failed.add(path)
    applied = set()
    for path, document in documents:
        try:
            with transaction.atomic():
                obj, created, changed = kind.apply(document, repository, path, job_result.user)
        except Exception as error:  # any problem of one file (invalid, forbidden, a database error) stays in it
            _refused(job_result, kind, path, error)
            failed.add(path)
            continue
        applied.add(obj.name)
        verb = "Created" if created else "Updated" if changed else "No change to"
        _log(job_result, kind, f"{path}: {verb} {kind.label} '{obj}'.", obj=obj)
    if failed:
        _log(
            job_result,
            kind,
            f"{len(applied)} file(s) applied, {len(failed)} refused (see the failure lines).",
            LogLevelChoices.LOG_WARNING,
        )
    kept_for_failed = kind.model.objects.filter(git_repository=repository, git_path__in=failed)
    return applied | set(kept_for_failed.values_list("name", flat=True))


def _delete_stale(kind, repository, job_result, keep, reason):
    """Delete what ``repository`` owns of ``kind`` beyond ``keep``; what others still use stays (a failure line)."""
    remaining = list(kind.model.objects.filter(git_repository=repository).exclude(name__in=keep))
    blocked = {}
    while remaining:
        blocked = {}
        for obj in remaining:
            try:
                with transaction.atomic():
                    obj.delete()
            except ProtectedError as error:
                blocked[obj] = error
                continue
            _log(job_result, kind, f"Deleted {kind.label} '{obj}': {reason}.", LogLevelChoices.LOG_WARNING)
        if len(blocked) == len(remaining):
            break
        remaining = list(blocked)
    for obj, error in blocked.items():
        users = ", ".join(sorted(f"{used._meta.verbose_name} '{used}'" for used in error.protected_objects))
        _log(
            job_result,
            kind,
            f"Kept {kind.label} '{obj}' ({reason}): it is still used by {users}.",
            LogLevelChoices.LOG_FAILURE,
            obj=obj,
        )
