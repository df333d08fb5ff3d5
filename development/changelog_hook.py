"""mkdocs hook: the changelog page shows the fragments in `changes/` as the unreleased version's section.

`mkdocs.yml` lists this file under `hooks:`. On `docs/changelog.md` it inserts towncrier's draft
(`towncrier build --draft --version <[project].version> --date unreleased`) right after towncrier's start marker,
which is where `towncrier build --version X` writes the section at release time, so the page shows the
upcoming version exactly as it will be written. The draft comes from towncrier's command line (its stable
interface) run with this interpreter; nothing is written to the repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: towncrier depends on tomli there
    import tomli as tomllib

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG_PAGE = "changelog.md"
DRAFT_DATE = "unreleased"


def _pyproject(root: Path) -> dict:
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def start_marker(root: Path = ROOT) -> str:
    """towncrier's start string from pyproject.toml (the line after which versions are written)."""
    return _pyproject(root)["tool"]["towncrier"]["start_string"].strip()


def render_unreleased(root: Path = ROOT) -> str:
    """The upcoming version's section as towncrier would write it: its heading, then one list per fragment type.

    With no fragments the section is the heading alone. A fragment with a bad name, or towncrier missing,
    raises `PluginError` (the docs build stops with towncrier's own message).
    """
    version = _pyproject(root)["project"]["version"]
    command = [sys.executable, "-m", "towncrier", "build", "--draft", "--version", version, "--date", DRAFT_DATE]
    command += ["--dir", str(root), "--config", str(root / "pyproject.toml")]
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PluginError("towncrier did not render the changelog fragments within 120 seconds") from exc
    if done.returncode != 0:
        said = [line for line in done.stderr.strip().splitlines() if line and not line.endswith("...")]
        problem = " ".join(said[-3:]) or f"exit code {done.returncode}"  # the end of a traceback, or its message
        hint = " (is towncrier installed? `pip install -e .[dev]`)" if "No module named" in done.stderr else ""
        raise PluginError(f"towncrier could not render changes/: {problem}{hint}")
    return done.stdout.strip() + "\n"


def insert_unreleased(markdown: str, draft: str, marker: str) -> str:
    """The changelog page with `draft` right after `marker` (the released versions follow it)."""
    if marker not in markdown:
        raise PluginError(f"{CHANGELOG_PAGE} lost towncrier's start marker {marker!r}: the fragments have no place")
    head, tail = markdown.split(marker, 1)
    return f"{head}{marker}\n\n{draft.strip()}\n\n{tail.lstrip()}"


def on_page_markdown(markdown, page, config, files, **kwargs):
    """mkdocs event: add the unreleased section to the changelog page, leave every other page alone."""
    if page.file.src_uri != CHANGELOG_PAGE:
        return markdown
    return insert_unreleased(markdown, render_unreleased(ROOT), start_marker(ROOT))
