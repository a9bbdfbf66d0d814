"""Command line: ``tqspatial refresh`` and ``tqspatial build-dataset``.

Exit codes: 0 success, 2 bad input or usage (a :class:`TqspatialError`),
1 internal error.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from tqspatial import datasets
from tqspatial.errors import TqspatialError
from tqspatial.log import enable_logging
from tqspatial.pipeline import refresh

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "main"]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tqspatial",
        description="Planning analysis for Tianqiao District (一轴两带五组团).",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("refresh", help="re-run the land inventory on the embedded dataset")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default data/processed)"
    )
    build = sub.add_parser("build-dataset", help="regenerate the synthetic embedded data")
    build.add_argument("--raw", type=Path, default=None, help="target folder (default data/raw)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input, 1 internal error.
    """
    args = _parser().parse_args(argv)
    enable_logging(logging.WARNING if args.quiet else logging.INFO)
    try:
        if args.command == "refresh":
            result = refresh(out_dir=args.out)
            logger.info("wrote %s", ", ".join(str(p) for p in result.files))
        elif args.command == "build-dataset":
            datasets.build(args.raw)
    except TqspatialError as exc:
        logger.error("%s", exc)
        return EXIT_BAD_INPUT
    except Exception:
        logger.exception("internal error; please report it with the log above")
        return EXIT_INTERNAL
    return EXIT_OK
