"""A real local Git repository for the Git datasource tests (the ``git`` binary), and core's sync Job run on it.

The repository lives in a temporary folder and Nautobot clones it through a ``file://`` URL. Core's form and API
accept only http(s) URLs (so would they refuse ``git://`` of a ``git daemon``); its own Git tests create the
GitRepository row directly with a ``file://`` URL, as these do, and the sync (GitPython over the git binary) takes it.
"""

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from nautobot.apps.testing import run_job_for_testing
from nautobot.core.jobs import GitRepositorySync
from nautobot.extras.models import GitRepository, JobLogEntry

from nautobot_jobflow.datasources.sync import KINDS

EVERY_CONTENT = [kind.content_identifier for kind in KINDS]

# A Job kept in the repository itself (core's "jobs" content): workflows of the same repository may run it.
REPOSITORY_JOB = '''
from nautobot.apps.jobs import Job, StringVar, register_jobs


class GitHello(Job):
    """A Job that lives in the Git repository."""

    greeting = StringVar(required=False, default="hello")

    class Meta:
        name = "Git hello"
        has_sensitive_variables = False

    def run(self, greeting="hello"):
        return {"greeting": greeting}


register_jobs(GitHello)
'''


def git(*args, cwd):
    """Run the git binary; fail the test with git's own message when it fails."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr or result.stdout}")
    return result.stdout


class LocalRepository:
    """A Git repository in a temporary folder: write files, remove them, commit."""

    def __init__(self):
        if shutil.which("git") is None:
            raise AssertionError("The git binary is missing: `invoke tests` installs it (development/services.py).")
        self.path = Path(tempfile.mkdtemp(prefix="jobflow-git-"))
        git("init", "--quiet", "--initial-branch=main", cwd=self.path)
        git("config", "user.name", "Jobflow tests", cwd=self.path)
        git("config", "user.email", "jobflow-tests@example.com", cwd=self.path)
        git("commit", "--quiet", "--allow-empty", "-m", "empty", cwd=self.path)

    @property
    def url(self):
        """Where Nautobot clones it from."""
        return self.path.as_uri()

    def write(self, relative, text):
        """Write (or overwrite) a file, its folders created."""
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip())

    def remove(self, relative):
        """Delete a file."""
        (self.path / relative).unlink()

    def commit(self, message="change"):
        """Commit everything as it is in the folder; returns the commit hash."""
        git("add", "--all", cwd=self.path)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.path)
        return git("rev-parse", "HEAD", cwd=self.path).strip()

    def cleanup(self):
        """Delete the folder."""
        shutil.rmtree(self.path, ignore_errors=True)


def create_repository(name, local, provides=EVERY_CONTENT):
    """The GitRepository row for ``local`` (created directly: the form refuses file:// URLs)."""
    return GitRepository.objects.create(
        name=name, remote_url=local.url, branch="main", provided_contents=list(provides)
    )


def sync(repository, username="git-syncer"):
    """Run core's "Git Repository: Sync" Job in this process as ``username`` (a superuser is made if missing)."""
    job_result = run_job_for_testing(
        GitRepositorySync().job_model, username=username, job_kwargs={"repository": repository.pk}
    )
    job_result.refresh_from_db()
    return job_result


def log_lines(job_result, level=None):
    """The messages of the sync's log (of one level when given), in order."""
    entries = JobLogEntry.objects.filter(job_result=job_result).order_by("created")
    if level is not None:
        entries = entries.filter(log_level=level)
    return list(entries.values_list("message", flat=True))


def forget_repository_code(slug):
    """Drop the repository's imported Job modules (core imports them under its slug)."""
    for module in [name for name in sys.modules if name == slug or name.startswith(f"{slug}.")]:
        del sys.modules[module]


def workflow_yaml(name, steps, edges=(), **fields):
    """A workflow file: ``steps`` maps step name to its job class path (or a dict of the step's keys)."""
    lines = [f"name: {name}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    lines.append("steps:")
    for step, spec in steps.items():
        spec = spec if isinstance(spec, dict) else {"job": spec}
        lines.append(f"  - name: {step}")
        lines += [f"    {key}: {value}" for key, value in spec.items()]
    if edges:
        lines.append("edges:")
        lines += [f"  - {{from: {source}, to: {target}}}" for source, target in edges]
    return "\n".join(lines) + "\n"
