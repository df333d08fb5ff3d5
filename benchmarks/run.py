"""Benchmarks of nautobot-jobflow: `invoke benchmark [--devices N] [--interfaces M] [--only NAME]`.

Each benchmark is a module in this folder with ``DESCRIPTION`` and ``run(options) -> list[str]`` (the lines to
print); add one to ``BENCHMARKS`` to make it available. Run with the test settings (``JOBFLOW_TESTING=1`` and
``JOBFLOW_TEST_DB_TEMPLATE``, as ``invoke benchmark`` does): every benchmark works in a scratch database of its own.
"""

import argparse
import importlib
import logging
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = ROOT / "development" / "nautobot_config.py"

# name -> module under benchmarks/
BENCHMARKS = {
    "report": "report",
    "workflows": "workflows",
    "hooks": "hooks",
    "for_each": "for_each",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--interfaces", type=int, default=48, help="interfaces per device")
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions (the median is reported)")
    parser.add_argument("--only", choices=sorted(BENCHMARKS), help="run just this benchmark")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse_args(argv)
    os.environ.setdefault("JOBFLOW_TESTING", "1")
    for path in (str(ROOT), str(HERE)):
        if path not in sys.path:
            sys.path.insert(0, path)
    import nautobot

    nautobot.setup(str(CONFIG))
    # Nautobot warns "No sanitizer support for <class 'dict'> data" for every Job returning a dict: not news here.
    logging.getLogger("nautobot.core.utils.logging").setLevel(logging.ERROR)
    names = [options.only] if options.only else list(BENCHMARKS)
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        print(f"==> benchmark {name}: {module.DESCRIPTION}", flush=True)
        started = time.monotonic()
        for line in module.run(options):
            print(f"    {line}", flush=True)
        print(f"    ({time.monotonic() - started:.0f}s including setup)", flush=True)


if __name__ == "__main__":
    main()
