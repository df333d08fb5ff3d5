"""The changelog: fragment names in changes/, and the docs hook that shows them on the changelog page."""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
CHANGES = ROOT / "changes"
NOT_FRAGMENTS = {".gitkeep"}

pytestmark = pytest.mark.unit


def _load_hook():
    """The hook module loaded from its file, as mkdocs loads `hooks:` entries."""
    spec = importlib.util.spec_from_file_location("changelog_hook", ROOT / "development" / "changelog_hook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load_hook()


def _pyproject():
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def _towncrier_types():
    return [kind["directory"] for kind in _pyproject()["tool"]["towncrier"]["type"]]


def _fragment_name(types):
    return re.compile(rf"(?:\d+|\+[A-Za-z0-9_-]+)\.(?:{'|'.join(map(re.escape, types))})(?:\.\d+)?")


def _copy_of_the_project(tmp_path):
    """A directory with the towncrier configuration and template of this repository, and an empty changes/."""
    (tmp_path / "development").mkdir()
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "development" / "towncrier_template.md", tmp_path / "development")
    (tmp_path / "changes").mkdir()
    return tmp_path


def test_types_are_nautobots_set():
    assert _towncrier_types() == [
        "security",
        "added",
        "changed",
        "deprecated",
        "removed",
        "fixed",
        "dependencies",
        "documentation",
        "housekeeping",
    ]


def test_every_fragment_name_is_valid():
    pattern = _fragment_name(_towncrier_types())
    names = [path.name for path in CHANGES.iterdir() if path.name not in NOT_FRAGMENTS]
    bad = [name for name in names if not pattern.fullmatch(name)]
    assert names, "changes/ holds at least this change's own fragment"
    assert bad == [], f"fragments must be named <issue>.<type> or +<name>.<type> (types: {_towncrier_types()})"
    assert all((CHANGES / name).read_text(encoding="utf-8").strip() for name in names), "a fragment is never empty"


@pytest.mark.parametrize("name", ["12.added", "+docs-typos.fixed", "7.housekeeping.2", "0042.security"])
def test_name_pattern_accepts(name):
    assert _fragment_name(_towncrier_types()).fullmatch(name)


@pytest.mark.parametrize("name", ["12.add", "12", "x1.fixed", "12.fixed.md", "README.md", "+.fixed"])
def test_name_pattern_refuses(name):
    assert not _fragment_name(_towncrier_types()).fullmatch(name)


def test_draft_renders_a_fragment_under_the_version_heading(tmp_path):
    root = _copy_of_the_project(tmp_path)
    (root / "changes" / "77.fixed").write_text("The widget no longer\nfalls over.\n", encoding="utf-8")
    (root / "changes" / "+tidy.housekeeping").write_text("Tidied the tests.\n", encoding="utf-8")
    lines = hook.render_unreleased(root).splitlines()
    assert lines[0] == f"## v{_pyproject()['project']['version']} (unreleased)"
    assert "### Fixed" in lines
    assert "### Housekeeping" in lines
    assert lines.index("### Fixed") < lines.index("### Housekeeping")  # in the order of the configured types
    issue_link = "[#77](https://github.com/nautobot-jobflow/nautobot-jobflow/issues/77)"
    assert f"- {issue_link} - The widget no longer" in lines
    assert "  falls over." in lines  # a wrapped fragment stays one list item
    assert "- Tidied the tests." in lines  # no issue, no link
    assert sorted(p.name for p in (root / "changes").iterdir()) == ["+tidy.housekeeping", "77.fixed"]  # draft only


def test_draft_without_fragments_is_the_heading_alone(tmp_path):
    draft = hook.render_unreleased(_copy_of_the_project(tmp_path))
    assert draft.strip() == f"## v{_pyproject()['project']['version']} (unreleased)"


def test_a_misspelt_type_stops_the_docs_build(tmp_path):
    root = _copy_of_the_project(tmp_path)
    (root / "changes" / "77.fix").write_text("Typo in the type.\n", encoding="utf-8")
    with pytest.raises(hook.PluginError, match=r"77\.fix"):
        hook.render_unreleased(root)


def test_the_changelog_page_gets_the_draft_after_the_marker(tmp_path):
    root = _copy_of_the_project(tmp_path)
    (root / "changes" / "5.added").write_text("Something new.\n", encoding="utf-8")
    marker = hook.start_marker(root)
    page = f"# Changelog\n\nIntro.\n\n{marker}\n\n## v0.0.9 (2020-01-01)\n\n- Old.\n"
    shown = hook.insert_unreleased(page, hook.render_unreleased(root), marker)
    assert shown.index("Intro.") < shown.index(marker) < shown.index("Something new.") < shown.index("## v0.0.9")
    assert "\n\n## v0.0.9 (2020-01-01)\n\n- Old.\n" in shown
    with pytest.raises(hook.PluginError, match="marker"):
        hook.insert_unreleased("# Changelog\n", "## v1 (unreleased)\n", marker)


def test_every_fragment_of_this_repository_is_on_the_page():
    page = (ROOT / "docs" / "changelog.md").read_text(encoding="utf-8")
    marker = hook.start_marker(ROOT)
    assert marker in page
    shown = hook.insert_unreleased(page, hook.render_unreleased(ROOT), marker)
    for fragment in CHANGES.iterdir():
        if fragment.name not in NOT_FRAGMENTS:
            assert fragment.read_text(encoding="utf-8").strip().splitlines()[0] in shown
