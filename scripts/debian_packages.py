#!/usr/bin/env python3
"""Pick the PostgreSQL server and PostGIS packages this machine's Debian offers.

Debian 12 ships PostgreSQL 15 (``postgresql-15``, ``postgresql-15-postgis-3``), Debian 13
PostgreSQL 17, and the PGDG repository several versions at once.  The test command installs
the newest major version for which *both* the server and the PostGIS 3 package exist.

Usage: ``apt-cache pkgnames postgresql- | python3 scripts/debian_packages.py`` prints the two
package names on one line (exit 1 when no pair exists).  Standard library only: it runs before
the virtual environment exists.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

SERVER = re.compile(r"^postgresql-(\d+)$")


def pick_postgis(available: Iterable[str]) -> tuple[str, str] | None:
    """Return ``(server, postgis)`` package names of the newest version offering both.

    >>> pick_postgis(["postgresql-15", "postgresql-15-postgis-3", "postgresql-client-15"])
    ('postgresql-15', 'postgresql-15-postgis-3')
    """
    names = {n.strip() for n in available if n.strip()}
    versions = sorted(
        (int(m.group(1)) for n in names if (m := SERVER.match(n))), reverse=True
    )
    for version in versions:
        postgis = f"postgresql-{version}-postgis-3"
        if postgis in names:
            return f"postgresql-{version}", postgis
    return None


def main() -> int:
    pair = pick_postgis(sys.stdin)
    if pair is None:
        print("no postgresql-NN with postgresql-NN-postgis-3 in the package list", file=sys.stderr)
        return 1
    print(" ".join(pair))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
