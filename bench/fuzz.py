"""The parsers' property tests, long: every ``tests/parsers/test_properties_*.py`` with many examples each.

    .venv/bin/python bench/fuzz.py [--examples 2000] [-k mime]

The suite runs them with ``TORII_FUZZ_EXAMPLES`` unset (60 examples a property); this sets it and prints
the properties run, the examples tried and the time taken. A failure is shown with the smallest example
Hypothesis found, to add as an ``@example`` beside the property once the parser is fixed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    parser.add_argument("-k", dest="select", help="only properties matching this pytest expression")
    args = parser.parse_args()
    tests = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "parsers").glob("test_properties_*.py"))
    command = [sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:logging", "--timeout", "3600"]
    if args.select:
        command += ["-k", args.select]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=dict(os.environ, TORII_FUZZ_EXAMPLES=str(args.examples)))
    print(f"{args.examples} examples a property, {time.perf_counter() - began:.0f} s, "
          f"{'no property broken' if done.returncode == 0 else 'see the failures above'}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
