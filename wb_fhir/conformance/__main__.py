"""``python -m wb_fhir.conformance [--check]``: regenerate (or check) the files of ``profiles/``."""

from __future__ import annotations

import sys

from wb_fhir._resources import data_dir
from wb_fhir.conformance import stale_files, write


def main(argv: list[str]) -> int:
    folder = data_dir("profiles")
    if "--check" in argv:
        stale = stale_files(folder)
        for name in stale:
            print(f"stale: {name}", file=sys.stderr)
        return 1 if stale else 0
    for name in write(folder):
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
