"""The development environment explains a bad machine instead of failing with a traceback."""

import os
import socket
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "development"))

import services


def test_port_taken_is_named():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(services.EnvironmentProblem) as problem:
            services.require_free_port(port, "the Nautobot web server", "NAUTOBOT_WEB_PORT")
    message = str(problem.value)
    assert f"Port {port} is already in use" in message
    assert "NAUTOBOT_WEB_PORT" in message


def test_free_port_passes():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    services.require_free_port(port, "x", "Y")  # nothing listens any more: no exception


def test_apt_get_unavailable(monkeypatch):
    empty = tempfile.mkdtemp()
    monkeypatch.setenv("PATH", empty)
    with pytest.raises(services.EnvironmentProblem) as problem:
        services.apt_install("redis-server", reason="Redis is not installed")
    assert "apt-get is not available" in str(problem.value)
    assert "redis-server" in str(problem.value)


def test_postgres_data_from_another_version(monkeypatch, tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("9\n")
    monkeypatch.setattr(services, "PGDATA", pgdata)
    with pytest.raises(services.EnvironmentProblem) as problem:
        services.ensure_postgres()
    message = str(problem.value)
    assert "created by PostgreSQL 9" in message
    assert f"mv {pgdata} {pgdata}.old" in message


def test_env_files_and_environment_merge():
    env = services.load_env()
    assert env["NAUTOBOT_DB_PORT"] == os.environ.get("NAUTOBOT_DB_PORT", "55432")
    assert env["NAUTOBOT_CONFIG"].endswith("development/nautobot_config.py")


def test_chromium_present_is_used_as_is(monkeypatch, tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    monkeypatch.setattr(services, "CHROMIUM", browser)
    monkeypatch.setattr(services, "apt_install", lambda *a, **k: pytest.fail("apt-get must not run"))
    assert services.ensure_chromium() == browser


def test_git_present_is_used_as_is(monkeypatch):
    monkeypatch.setattr(services.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(services, "apt_install", lambda *a, **k: pytest.fail("apt-get must not run"))
    assert services.ensure_git() == "/usr/bin/git"


def test_git_missing_is_installed_with_apt_get(monkeypatch):
    installed = []
    monkeypatch.setattr(services.shutil, "which", lambda name: "/usr/bin/git" if installed else None)
    monkeypatch.setattr(services, "apt_install", lambda *packages, reason: installed.append((packages, reason)))
    assert services.ensure_git() == "/usr/bin/git"
    assert installed == [(("git",), "The Git datasource tests need the git binary")]


def test_chromium_missing_without_apt_get_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(services, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(services.shutil, "which", lambda name: None)
    with pytest.raises(services.EnvironmentProblem) as problem:
        services.ensure_chromium()
    message = str(problem.value)
    assert "The browser tests need Chromium" in message
    assert "chromium chromium-driver" in message
