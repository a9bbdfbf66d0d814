"""The ``tqspatial`` command: refresh, map, diff, init-config, init-profile, build-dataset.

Exit codes: 0 success (or skipped with ``--if-changed``), 2 bad input or
config (a :class:`TqspatialError`; the message says what to fix), 3 another
refresh holds the output folder's lock, 130 / 143 interrupted by SIGINT /
SIGTERM (outputs untouched), 1 internal error.  Usage errors exit
with argparse's code 2 too.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from tqspatial import datasets
from tqspatial._optional import require
from tqspatial.changes import RENAME_IOU_MIN
from tqspatial.config import default_config_text
from tqspatial.distributed import DEFAULT_PARCELS_PER_PARTITION
from tqspatial.errors import ConfigError, TqspatialError
from tqspatial.log import enable_logging
from tqspatial.pipeline import (
    diff_inventories,
    draw_maps,
    init_profile,
    progress_default,
    refresh,
)
from tqspatial.publish import PUBLISHED, OutputLockedError
from tqspatial.stream import DEFAULT_BATCH_SIZE

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INTERNAL",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "main",
]

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_LOCKED = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tqspatial",
        description=(
            "Planning analysis of a district's plan structure (axes, belts, clusters); "
            "the embedded default is Tianqiao District's 一轴两带五组团."
        ),
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("refresh", help="re-run the land inventory (default: embedded dataset)")
    run.add_argument("--config", type=Path, default=None, help="TOML config (see init-config)")
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default data/processed)"
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="read and validate inputs and config only; write nothing",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="publish into a folder holding files tqspatial did not write (they are replaced)",
    )
    run.add_argument(
        "--if-changed",
        action="store_true",
        help="skip when inputs and config are unchanged since the last published run",
    )
    run.add_argument(
        "--to",
        metavar="URL",
        default=None,
        help="also write the inventory into PostGIS (postgresql://user@host:port/db)",
    )
    draw = sub.add_parser(
        "map",
        help="draw the cluster map, atlas and web map (no refresh) into their own folder",
    )
    draw.add_argument("--config", type=Path, default=None, help="TOML config (see init-config)")
    draw.add_argument(
        "--out", type=Path, default=None, help="folder (default data/maps, beside data/processed)"
    )
    draw.add_argument("--lang", choices=("zh", "en", "both"), default=None, help="label language")
    draw.add_argument(
        "--formats", default="png,pdf,svg", help="comma-separated: png, pdf, svg (default all)"
    )
    draw.add_argument(
        "--dpi", type=_positive_int, default=None, help="PNG resolution (default 300)"
    )
    draw.add_argument(
        "--force",
        action="store_true",
        help="publish into a folder holding files tqspatial did not write (they are replaced)",
    )
    draw.add_argument("--no-atlas", action="store_true", help="skip the multi-page PDF atlas")
    draw.add_argument("--html", action="store_true", help="also write the HTML web map")
    run.add_argument(
        "--engine",
        choices=("single", "dask"),
        default="single",
        help="dask: parcel stages per spatial partition on a dask cluster (same results)",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars of the stages and the maps on standard error (default: in a "
        "terminal only; -q turns them off)",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="with --engine dask: an existing scheduler (tcp://host:8786); default a local cluster",
    )
    init = sub.add_parser("init-config", help="write the default config to a file to edit")
    init.add_argument("path", type=Path, help="file to write, e.g. tqspatial.toml")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    prof = sub.add_parser(
        "init-profile",
        help="start a district profile: the district's boundary, a documented profile, a config",
    )
    prof.add_argument("folder", type=Path, help="folder to write into (created)")
    prof.add_argument(
        "--district", required=True, help="adcode or name of the district, e.g. 370102 or 历下区"
    )
    prof.add_argument(
        "--districts", type=Path, default=None, help="districts layer (default: embedded Jinan)"
    )
    prof.add_argument("--force", action="store_true", help="overwrite existing files")
    scen = sub.add_parser("scenarios", help="plan scenarios side by side")
    scen_sub = scen.add_subparsers(dest="action", required=True)
    scen_run = scen_sub.add_parser("run", help="run a scenarios TOML and publish the comparison")
    scen_run.add_argument("file", type=Path, help="scenarios TOML (see tqspatial.scenarios)")
    scen_run.add_argument(
        "--out", type=Path, default=None, help="folder (default scenarios/ beside the file)"
    )
    scen_run.add_argument("--indicator", default="net_supply_ha", help="indicator to map")
    scen_run.add_argument(
        "--force",
        action="store_true",
        help="publish into a folder holding files tqspatial did not write (they are replaced)",
    )
    build = sub.add_parser("build-dataset", help="regenerate the synthetic embedded data")
    build.add_argument(
        "--raw", type=Path, default=None, help="target folder (default: the package's data folder)"
    )
    _add_diff_parser(sub)
    _add_partition_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        msg = f"expected a positive whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


class Interrupted(BaseException):
    """SIGTERM arrived (SIGINT arrives as KeyboardInterrupt).

    Parameters
    ----------
    signum : int
        The signal number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_sigterm(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """Turn SIGTERM into an exception while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 success, 2 bad input or config, 3 output folder locked,
        130 interrupted (SIGINT), 143 terminated (SIGTERM), 1 internal error.
        An interrupted job leaves the published outputs as they were and
        removes its staging folder.
    """
    args = _parser().parse_args(argv)
    enable_logging(logging.WARNING if args.quiet else logging.INFO)
    published = len(PUBLISHED)
    try:
        with _signals():
            return _dispatch(args)
    except (KeyboardInterrupt, Interrupted) as exc:
        name = "terminated (SIGTERM)" if isinstance(exc, Interrupted) else "interrupted (SIGINT)"
        done = PUBLISHED[published:]
        if done:  # e.g. during the PostGIS write, after the files were swapped in
            logger.error(
                "%s after the outputs were published in %s; what came after (the database "
                "write) was cancelled and the database keeps its previous inventory",
                name,
                ", ".join(str(p) for p in done),
            )
        else:
            logger.error("%s; the published outputs are unchanged", name)
        return EXIT_SIGTERM if isinstance(exc, Interrupted) else EXIT_SIGINT
    except OutputLockedError as exc:
        logger.error("%s", exc)
        return EXIT_LOCKED
    except TqspatialError as exc:
        logger.error("%s", exc)
        return EXIT_BAD_INPUT
    except Exception:
        logger.exception("internal error; please report it with the log above")
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    """Run the parsed command; errors propagate to :func:`main`."""
    if args.command == "refresh":
        result = refresh(
            args.config,
            out_dir=args.out,
            dry_run=args.dry_run,
            if_changed=args.if_changed,
            progress=(progress_default() if args.progress is None else args.progress)
            and not args.quiet,
            to=args.to,
            engine=args.engine,
            scheduler=args.scheduler,
            force=args.force,
        )
        if result.files:
            logger.info("outputs: %s", ", ".join(str(p) for p in result.files))
    elif args.command == "map":
        written = draw_maps(
            args.config,
            out_dir=args.out,
            lang=args.lang,
            formats=tuple(f.strip() for f in args.formats.split(",") if f.strip()),
            dpi=args.dpi,
            atlas=not args.no_atlas,
            html=args.html,
            force=args.force,
        )
        logger.info("maps: %s", ", ".join(str(p) for p in written))
    elif args.command == "init-config":
        _init_config(args.path, force=args.force)
    elif args.command == "init-profile":
        written = init_profile(
            args.folder, args.district, districts=args.districts, force=args.force
        )
        logger.info(
            "wrote %s; add your layers to %s, then: tqspatial refresh --config %s",
            ", ".join(str(p) for p in written),
            written[2],
            written[3],
        )
    elif args.command == "scenarios":
        from tqspatial.scenarios import run_scenarios  # noqa: PLC0415 - loads the maps

        written = run_scenarios(
            args.file, out_dir=args.out, force=args.force, indicator=args.indicator
        )
        logger.info("scenarios: %s", ", ".join(str(p) for p in written))
    elif args.command == "build-dataset":
        datasets.build(args.raw)
    elif args.command == "diff":
        _diff(args)
    elif args.command == "partition":
        _partition(args)
    return EXIT_OK


def _init_config(path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        msg = f"{path} exists; pass --force to overwrite it"
        raise ConfigError(msg)
    path.write_text(default_config_text(), encoding="utf-8")
    logger.info(
        "wrote the default config to %s; edit it, then: tqspatial refresh --config %s", path, path
    )


def _add_diff_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = sub.add_parser(
        "diff",
        help="what changed between two inventories (parcels and per-cluster supply)",
        description=(
            "Compare two inventories (folders written by `tqspatial refresh`, or parcel "
            "GeoParquet files): parcels added, removed, renamed (new id, IoU >= --iou-min), "
            "reshaped, with another land-use code, renewal type or phase, or supply; and the "
            "per-cluster deltas. Prints the Markdown summary; --out also writes the tables."
        ),
    )
    diff.add_argument("old", type=Path, help="previous inventory folder or parcels .parquet")
    diff.add_argument("new", type=Path, help="current inventory folder or parcels .parquet")
    diff.add_argument(
        "--out",
        type=Path,
        default=None,
        help="publish changes.parquet, changes.csv, changes_clusters.csv, changes_access.csv "
        "and changes.md into this folder (owned by tqspatial, like the refresh's)",
    )
    diff.add_argument(
        "--iou-min",
        type=float,
        default=RENAME_IOU_MIN,
        help=f"smallest overlap (intersection over union) of a renamed parcel "
        f"(default {RENAME_IOU_MIN})",
    )
    diff.add_argument(
        "--force",
        action="store_true",
        help="publish into --out even if it holds files tqspatial did not write (replaced)",
    )


def _add_partition_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    part = sub.add_parser(
        "partition",
        help="cut a big parcel file into spatially sorted GeoParquet parts (for --engine dask)",
        description=(
            "Read a parcel file in chunks on a dask cluster (default: a local one), order its "
            "rows along a Hilbert curve and write parts of about --rows-per-part rows as "
            "GeoParquet files part-NNNNN.parquet into a new folder. Column input_row keeps "
            "each row's number in the input, so the dask engine run on the folder settles "
            "duplicate ids and overlaps in the input's order, as on the original file."
        ),
    )
    part.add_argument("input", type=Path, help="GeoParquet file or folder, GeoPackage, shapefile")
    part.add_argument("out", type=Path, help="new (or empty) folder for the parts")
    part.add_argument(
        "--rows-per-part",
        type=_positive_int,
        default=DEFAULT_PARCELS_PER_PARTITION,
        help=f"rows per part (default {DEFAULT_PARCELS_PER_PARTITION:,})",
    )
    part.add_argument(
        "--rows-per-chunk",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        help=f"rows per read task and row group of the parts (default {DEFAULT_BATCH_SIZE:,})",
    )
    part.add_argument("--layer", default=None, help="layer of a GeoPackage")
    part.add_argument(
        "--source-crs", default=None, help="CRS of the coordinates if the file declares none"
    )
    part.add_argument("--encoding", default=None, help="text encoding of a shapefile's .dbf")
    part.add_argument(
        "--scheduler",
        metavar="ADDR",
        default=None,
        help="an existing dask scheduler (tcp://host:8786); default a local cluster",
    )


def _partition(args: argparse.Namespace) -> None:
    require("distributed", feature="tqspatial partition")
    from tqspatial.partitioned import partition_layer  # noqa: PLC0415 - dask only when used

    cut = partition_layer(
        args.input,
        args.out,
        rows_per_part=args.rows_per_part,
        rows_per_chunk=args.rows_per_chunk,
        scheduler=args.scheduler,
        layer=args.layer,
        source_crs=args.source_crs,
        encoding=args.encoding,
    )
    for finding in cut.read_log.table().itertuples():
        logger.info("read: %s", finding.message)
    logger.info(
        "partition: %s rows in %d parts (%s to %s rows) written to %s in %.1f s",
        f"{sum(cut.rows):,}",
        len(cut.rows),
        f"{min(cut.rows):,}",
        f"{max(cut.rows):,}",
        cut.folder,
        cut.seconds,
    )


def _diff(args: argparse.Namespace) -> None:
    report = diff_inventories(
        args.old,
        args.new,
        out_dir=args.out,
        iou_min=args.iou_min,
        force=args.force,
    )
    sys.stdout.write(report.summary)
