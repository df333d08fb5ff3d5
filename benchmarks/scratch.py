"""A scratch database for one benchmark: cloned from the template, migrated for the app, dropped afterwards."""

import contextlib

from django.db import connections


@contextlib.contextmanager
def scratch_database(name):
    """Create database ``name`` with Django's test-database machinery (clone of TEST TEMPLATE), yield, drop it."""
    default = connections["default"]
    default.settings_dict.setdefault("TEST", {})["NAME"] = name
    old_name = default.settings_dict["NAME"]
    default.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
    # Aliases that mirror "default" (Nautobot's job_logs connection) must use the scratch database too.
    for alias in connections:
        if alias != "default" and connections[alias].settings_dict.get("TEST", {}).get("MIRROR") == "default":
            connections[alias].close()
            connections[alias].creation.set_as_test_mirror(default.settings_dict)
    try:
        yield default.settings_dict["NAME"]
    finally:
        for alias in connections:
            connections[alias].close()
        default.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
