"""Build the sdist and the wheel of nautobot-jobflow with the built documentation inside (``invoke build``).

The documentation is a mkdocs site that git ignores, written into the package (``nautobot_jobflow/docs/``), where
Nautobot's ``AppDocsView`` serves it at ``/docs/jobflow/`` from the installed package. So it must be built before
the distributions: ``python -m build`` makes the sdist from the working tree (package data: ``docs/**/*``) and then
the wheel from that sdist, so both carry the site. The sdist carries the built HTML, not the Markdown sources and the
mkdocs configuration: it cannot rebuild the documentation, and needs not (rebuild it from a git checkout).

Standard library only, like ``services.py``: ``tasks.py`` imports it. ``tests/test_clean_install.py`` calls
:func:`build_distributions` too, so the test installs exactly what ``invoke build`` makes.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from services import ROOT, VENV, EnvironmentProblem, say

DOCS_SITE = ROOT / "nautobot_jobflow" / "docs"  # where Nautobot's AppDocsView looks: <package>/docs/
LEGACY_DOCS_SITE = ROOT / "nautobot_jobflow" / "static" / "nautobot_jobflow" / "docs"  # before 0.1.0's release
DOCS_INDEX = "nautobot_jobflow/docs/index.html"
LICENSE_NAME = "LICENSE"


@dataclass
class Distribution:
    """One built archive and what is in it."""

    path: Path
    files: list[str]  # member names, relative to the archive's root folder (sdist) or the archive (wheel)

    @property
    def docs_files(self):
        """The documentation site's files in the archive."""
        return [name for name in self.files if name.startswith("nautobot_jobflow/docs/")]

    def summary(self):
        """One line: name, size, how many files and how many of them are the documentation."""
        size = self.path.stat().st_size / 1024
        return f"{self.path.name}: {size:.0f} KiB, {len(self.files)} files, {len(self.docs_files)} of them docs"


def build_docs(bin_dir=None, site_dir=DOCS_SITE):
    """mkdocs --strict into the package (the same command as ``invoke docs``); returns the site's folder."""
    if LEGACY_DOCS_SITE.exists():  # the old place would be packaged as static files too: a second, stale copy
        say(f"Removing the documentation's old build folder {LEGACY_DOCS_SITE}")
        shutil.rmtree(LEGACY_DOCS_SITE)
    mkdocs = Path(bin_dir or VENV / "bin") / "mkdocs"
    _run([mkdocs, "build", "--strict", "--site-dir", site_dir], "mkdocs could not build the documentation")
    return site_dir


def build_distributions(outdir, bin_dir=None):
    """Build the docs, then the sdist and the wheel into ``outdir``; check both; return (sdist, wheel)."""
    bin_dir = Path(bin_dir or VENV / "bin")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    say("Building the documentation into the package (mkdocs --strict)")
    build_docs(bin_dir)
    say(f"Building the sdist and the wheel into {outdir} (python -m build; isolated, setuptools>=77)")
    before = set(outdir.iterdir())
    egg_info = ROOT / "nautobot_jobflow.egg-info"  # the sdist step writes it into the tree
    had_egg_info = egg_info.exists()
    try:
        _run([bin_dir / "python", "-m", "build", "--outdir", outdir, ROOT], "python -m build failed")
    finally:
        if not had_egg_info:
            shutil.rmtree(egg_info, ignore_errors=True)
    made = sorted(set(outdir.iterdir()) - before)
    sdist = inspect(_one(made, ".tar.gz"))
    wheel = inspect(_one(made, ".whl"))
    for dist in (sdist, wheel):
        check(dist)
    say(f"Built in {time.monotonic() - started:.0f}s: {sdist.summary()}; {wheel.summary()}")
    return sdist, wheel


def inspect(path):
    """A Distribution with the member names of a wheel or an sdist (the sdist's root folder cut off)."""
    path = Path(path)
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as archive:
            return Distribution(path, [name for name in archive.namelist() if not name.endswith("/")])
    with tarfile.open(path) as archive:
        names = [member.name.split("/", 1)[1] for member in archive.getmembers() if member.isfile()]
    return Distribution(path, names)


def problems(dist):
    """What is missing from a distribution: the docs' index page, the licence file; empty when it is complete."""
    found = []
    if DOCS_INDEX not in dist.files:
        found.append(f"{DOCS_INDEX} (the built documentation; build it first: `invoke docs`)")
    if not any(name == LICENSE_NAME or name.endswith(f"/licenses/{LICENSE_NAME}") for name in dist.files):
        found.append(f"the licence file {LICENSE_NAME}")
    return found


def check(dist):
    """Raise EnvironmentProblem naming what a distribution lacks."""
    missing = problems(dist)
    if missing:
        raise EnvironmentProblem(f"{dist.path.name} lacks {' and '.join(missing)}.")


def _one(paths, suffix):
    matching = [path for path in paths if path.name.endswith(suffix)]
    if len(matching) != 1:
        raise EnvironmentProblem(f"python -m build made {len(matching)} files ending in {suffix}, not one.")
    return matching[0]


def _run(argv, failure):
    done = subprocess.run([str(arg) for arg in argv], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip().splitlines()
        raise EnvironmentProblem(f"{failure} (exit code {done.returncode}):\n" + "\n".join(output[-30:]))
    return done
