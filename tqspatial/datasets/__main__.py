"""``python -m tqspatial.datasets build``: regenerate the synthetic layers of the dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqspatial.datasets import build, raw_dir
from tqspatial.log import enable_logging


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tqspatial.datasets",
        description="Regenerate the synthetic files of the embedded Tianqiao dataset.",
    )
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--raw", default=None, help=f"target folder (default {raw_dir()})")
    args = parser.parse_args(argv)
    enable_logging()
    build(None if args.raw is None else Path(args.raw))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
