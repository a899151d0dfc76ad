"""What the chart validators share: named checks that report every failure,
not only the first, and an exit status that says whether any failed."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = "1.32.0"
failures = []


def check(what, fn):
    try:
        fn()
        print(f"ok    {what}")
    except Exception as e:  # noqa: BLE001 - report every failure, not only the first
        failures.append(what)
        print(f"FAIL  {what}: {str(e).splitlines()[0] if str(e) else repr(e)}")


def finish(success):
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print(success)
