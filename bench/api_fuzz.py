"""Fuzzing the API against its OpenAPI schema, long: schemathesis with an admin token, valid and invalid requests.

    .venv/bin/python bench/api_fuzz.py [--examples 200] [--only /api/orders]

Prints requests made, seconds, and every operation that answered a 5xx or a body outside its schema
(``tests/apifuzz.py``; ``tests/gateway/test_api_fuzz.py`` runs the same with a few examples each).
The web app runs in process on a database of its own and a private Redis.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from apifuzz import fuzz_api  # noqa: E402
from gateway.redisproc import RedisServer  # noqa: E402
from webapp import web_app  # noqa: E402
from workflows import clock  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200, help="requests per operation and generation mode")
    parser.add_argument("--only", help="only operations whose path contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="torii-api-fuzz-") as name:
        tmp = Path(name)
        os.environ["TORII_HOME"] = str(tmp / "home")
        redis_server = RedisServer(tmp / "redis")
        url = redis_server.start()
        try:
            with clock.freeze(), web_app(tmp, url) as web:
                report = fuzz_api(web, args.examples, only=args.only)
        finally:
            redis_server.stop()
    print(report.summary())
    slowest = sorted(report.timings.items(), key=lambda item: -item[1])[:5]
    print("slowest: " + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in slowest))
    sys.exit(1 if report.failures else 0)


if __name__ == "__main__":
    main()
