"""The batch job never loses a user's file or changes its input: owned output folders,
preflight checks, clean interrupts, and fault trials (SIGKILL, a full disk, a dying database)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import pytest

from tests import pg_server
from tests.district_builder import build_district
from tqspatial import cli
from tqspatial.postgis import read_inventory_postgis
from tqspatial.publish import OWNER_MARKER

BAD = cli.EXIT_BAD_INPUT
#: Every command line these tests ran, with its output: none may say "internal error".
TRANSCRIPTS: list[str] = []

FAST = "\n[accessibility]\nenabled = false\n"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    # no change report: these tests compare whole output sets across refreshes
    d = build_district(tmp_path_factory.mktemp("safe"), maps=False, changes=False)
    with d.config.open("a", encoding="utf-8") as handle:
        handle.write(FAST)
    return d


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tqspatial", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    TRANSCRIPTS.append(proc.stdout + proc.stderr)
    return proc


def refresh_args(district, out: Path, *extra: str) -> list[str]:
    return ["refresh", "--config", str(district.config), "--out", str(out), *extra]


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file (and '<dir>' for folders)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = "<dir>" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def outputs_of(folder: Path) -> dict[str, str]:
    """Hashes of a published set's outputs (the manifest aside: it holds timings)."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = [o for o in manifest["outputs"] if o != "manifest.json"]
    return {o: hashlib.sha256((folder / o).read_bytes()).hexdigest() for o in listed}


@contextlib.contextmanager
def tmpfs(where: Path, size: str):
    """Mount a small tmpfs (root only); refuse the test loudly elsewhere."""
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip()}); needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# ------------------------------------------------------------------ the output folder


def test_a_folder_with_the_users_files_is_refused_and_left_intact(district, tmp_path):
    out = tmp_path / "out"
    (out / "gis").mkdir(parents=True)
    (out / "field_notes.docx").write_bytes(b"notes")
    (out / "gis" / "survey.shp").write_bytes(b"shape")
    before = tree(out)
    t0 = time.perf_counter()
    proc = run_cli(*refresh_args(district, out))
    assert proc.returncode == BAD
    assert tree(out) == before
    assert "holds files tqspatial did not write (field_notes.docx, gis/)" in proc.stderr
    assert "--force" in proc.stderr
    assert "stage read" not in proc.stderr  # refused before anything was read
    assert time.perf_counter() - t0 < 20
    assert "Traceback" not in proc.stderr
    # --force takes the folder over, deleting what the message listed
    proc = run_cli(*refresh_args(district, out, "--force"))
    assert proc.returncode == 0, proc.stderr
    assert not (out / "field_notes.docx").exists()
    assert (out / OWNER_MARKER).is_file()


def test_files_added_to_an_owned_folder_survive_refreshes(district, tmp_path):
    out = tmp_path / "out"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    (out / "my_analysis.xlsx").write_bytes(b"mine")
    (out / "notes").mkdir()
    (out / "notes" / "todo.txt").write_text("check cluster 2")
    first = outputs_of(out)
    assert run_cli(*refresh_args(district, out)).returncode == 0
    assert (out / "my_analysis.xlsx").read_bytes() == b"mine"
    assert (out / "notes" / "todo.txt").read_text() == "check cluster 2"
    assert outputs_of(out) == first  # and the outputs are the same bytes


def test_out_pointing_at_a_file_is_refused_at_once(district, tmp_path):
    target = tmp_path / "notadir.txt"
    target.write_text("keep me")
    proc = run_cli(*refresh_args(district, target))
    assert proc.returncode == BAD
    assert "is a file, not a folder" in proc.stderr
    assert target.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notadir.txt"]


def test_read_only_target_is_refused_before_the_run(district, tmp_path):
    with tmpfs(tmp_path / "ro", "4m") as mount:
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        proc = run_cli(*refresh_args(district, mount / "out"))
    assert proc.returncode == BAD
    assert "read-only file system" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "stage read" not in proc.stderr


def test_a_mount_point_target_swaps_its_contents(district, tmp_path):
    with tmpfs(tmp_path / "mnt", "64m") as mount:
        assert run_cli(*refresh_args(district, mount)).returncode == 0
        (mount / "mine.txt").write_text("kept")
        first = outputs_of(mount)
        proc = run_cli(*refresh_args(district, mount))
        assert proc.returncode == 0, proc.stderr
        assert "mount point" in proc.stderr
        assert outputs_of(mount) == first
        assert (mount / "mine.txt").read_text() == "kept"
        assert not [p for p in mount.iterdir() if p.name.startswith(".tqspatial-staging")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "--dpi", "0"], "expected a positive whole number, got '0'"),
        (["map", "--dpi", "-3"], "expected a positive whole number, got '-3'"),
    ],
)
def test_bad_dpi_is_refused(args, message):
    proc = run_cli(*args)
    assert proc.returncode == BAD
    assert message in proc.stderr


def test_bad_dpi_in_the_config_is_refused(district, tmp_path):
    config = district.folder / "zero_dpi.toml"  # beside the profile it names
    config.write_text(
        district.config.read_text(encoding="utf-8").replace("dpi = 50", "dpi = 0"),
        encoding="utf-8",
    )
    proc = run_cli("refresh", "--config", str(config), "--out", str(tmp_path / "o"))
    assert proc.returncode == BAD
    assert "[maps] dpi = 0 is out of range; expected a positive number" in proc.stderr


def test_a_symlinked_output_folder_is_published_into_and_kept(district, tmp_path):
    real = tmp_path / "bigdisk" / "processed"
    real.mkdir(parents=True)
    link = tmp_path / "processed"
    link.symlink_to(real, target_is_directory=True)
    for _ in range(2):
        proc = run_cli(*refresh_args(district, link))
        assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert (real / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bigdisk", "processed"]
    assert (real.parent / ".processed.lock").is_file()  # beside the real folder


def test_a_disk_too_small_for_the_first_geopackage_is_exit_2(district, tmp_path):
    with tmpfs(tmp_path / "tiny", "160k") as disk:
        proc = run_cli(*refresh_args(district, disk / "out"))
        assert proc.returncode == BAD, proc.stderr
        assert "No space left on device" in proc.stderr
        assert [p.name for p in disk.iterdir() if "staging" in p.name] == []


def test_a_mount_point_under_a_read_only_parent_works(district, tmp_path):
    with tmpfs(tmp_path / "root", "8m") as root:
        (root / "data").mkdir()
        with tmpfs(root / "data", "64m") as volume:
            subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
            proc = run_cli(*refresh_args(district, volume))
            assert proc.returncode == 0, proc.stderr
            assert (volume / "manifest.json").is_file()
            assert (volume / ".tqspatial-lock").is_file()  # the lock lives inside


def test_dry_run_checks_the_output_folder_without_writing(district, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    proc = run_cli(*refresh_args(district, afile, "--dry-run"))
    assert proc.returncode == BAD
    assert "is a file" in proc.stderr
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "field_notes.docx").write_text("mine")
    before = tree(tmp_path)
    proc = run_cli(*refresh_args(district, foreign, "--dry-run"))
    assert proc.returncode == BAD
    assert "holds files tqspatial did not write" in proc.stderr
    assert tree(tmp_path) == before


# ------------------------------------------------------------------ interrupts


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_leaves_the_outputs_and_no_staging(district, tmp_path, sig, code):
    out = tmp_path / "out"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    before = tree(out)
    with subprocess.Popen(
        [sys.executable, "-m", "tqspatial", *refresh_args(district, out)],
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:  # interrupt in the middle of the parcel stages
            if "stage validate: start" in line:
                proc.send_signal(sig)
                break
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == code
    TRANSCRIPTS.append(rest)
    lines = [ln for ln in rest.splitlines() if "ERROR" in ln]
    assert len(lines) == 1
    assert "published outputs are unchanged" in lines[0]
    assert "Traceback" not in rest
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


# ------------------------------------------------------------------ databases and dry runs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://tq@127.0.0.1:1/gis", "cannot connect to PostgreSQL at"),
        ("mysql://tq@127.0.0.1/gis", "is not a postgresql:// URL"),
    ],
)
def test_unreachable_or_wrong_database_is_refused_before_the_run(district, tmp_path, url, message):
    proc = run_cli(*refresh_args(district, tmp_path / "out", "--to", url))
    assert proc.returncode == BAD
    assert message in proc.stderr
    assert "stage read" not in proc.stderr  # nothing was read, nothing published
    assert not (tmp_path / "out").exists()


def test_dry_run_leaves_the_output_folder_byte_identical(district, tmp_path):
    out = tmp_path / "out"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    (out / "mine.txt").write_text("x")
    before = tree(tmp_path)
    proc = run_cli(*refresh_args(district, out, "--dry-run"))
    assert proc.returncode == 0, proc.stderr
    assert tree(tmp_path) == before
    # a dry run that fails on bad input writes no failure report and takes no lock either
    parcels = pyogrio.read_dataframe(district.folder / "parcels.gpkg")
    far = parcels.set_geometry(parcels.geometry.translate(xoff=90_000))
    pyogrio.write_dataframe(far, district.folder / "parcels_far.gpkg")
    bad = district.folder / "bad_dry.toml"
    bad.write_text(
        district.config.read_text(encoding="utf-8").replace(
            'profile = "profile.toml"', 'profile = "profile.toml"\nparcels = "parcels_far.gpkg"'
        ),
        encoding="utf-8",
    )
    for target in (out, tmp_path / "fresh"):
        proc = run_cli("refresh", "--config", str(bad), "--out", str(target), "--dry-run")
        assert proc.returncode == BAD
        assert "parcels were rejected" in proc.stderr
    assert tree(tmp_path) == before


# ------------------------------------------------------------------ maps have their own folder


def test_map_and_refresh_do_not_touch_each_others_outputs(district, tmp_path):
    out = tmp_path / "processed"
    maps_dir = tmp_path / "maps"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    refresh_set = outputs_of(out)
    proc = run_cli(
        "map", "--config", str(district.config), "--out", str(out), "--no-atlas", "--dpi", "40"
    )
    assert proc.returncode == BAD
    assert "holds the outputs of tqspatial refresh, not of maps" in proc.stderr
    proc = run_cli(
        "map", "--config", str(district.config), "--out", str(maps_dir), "--formats", "png",
        "--no-atlas", "--dpi", "40",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    maps_set = outputs_of(maps_dir)
    assert "cluster_map.png" in maps_set
    assert run_cli(*refresh_args(district, out)).returncode == 0
    assert outputs_of(out) == refresh_set
    assert outputs_of(maps_dir) == maps_set
    proc = run_cli(*refresh_args(district, maps_dir))
    assert proc.returncode == BAD  # and the refresh will not publish over the maps
    assert outputs_of(maps_dir) == maps_set


# ------------------------------------------------------------------ inputs are never modified


def test_every_input_column_is_unchanged_in_the_outputs(district, tmp_path):
    out = tmp_path / "out"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    source = pyogrio.read_dataframe(district.folder / "parcels.gpkg")  # the raw input
    for written in (
        gpd.read_parquet(out / "parcels.parquet"),
        pyogrio.read_dataframe(out / "inventory.gpkg", layer="parcels"),
    ):
        assert written["parcel_id"].tolist() == source["parcel_id"].tolist()
        for column in source.columns.drop("geometry"):
            a = source[column].to_numpy()
            b = written[column].to_numpy()
            assert a.dtype == b.dtype, column
            assert np.array_equal(a, b), column
    ledger = pd.read_csv(out / "renewal_ledger.csv", encoding="utf-8-sig")
    parcels = gpd.read_parquet(out / "parcels.parquet")
    assert ledger["new_residents"].sum() == pytest.approx(parcels["new_residents"].sum())
    assert parcels["residents"].sum() == source["residents"].sum()


# ------------------------------------------------------------------ fault trials


#: Outcome of every SIGKILL trial ("old" or "new" complete set), for the issue's note.
KILLS: list[str] = []


def _kill_during(cmd: list[str], *, after_line: str | None, delay: float) -> None:
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as p:
        assert p.stderr is not None
        if after_line is not None:
            for line in p.stderr:
                if after_line in line:
                    break
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)


def test_sigkill_at_ten_random_moments_leaves_a_complete_set(district, tmp_path):
    """Five kills anywhere in the run, five inside the write stage (where the swap is): after
    every kill the folder holds one complete set, and the next run recovers and publishes."""
    out = tmp_path / "out"
    assert run_cli(*refresh_args(district, out)).returncode == 0
    old = outputs_of(out)
    changed = district.folder / "changed.toml"
    changed.write_text(
        district.config.read_text(encoding="utf-8").replace(
            'dir = "processed"', 'dir = "processed"\n\n[supply]\nfirst_year = 2027'
        ),
        encoding="utf-8",
    )
    reference = tmp_path / "reference"
    t0 = time.perf_counter()
    proc = run_cli("refresh", "--config", str(changed), "--out", str(reference))
    assert proc.returncode == 0, proc.stderr
    duration = time.perf_counter() - t0
    write_s = float(re.search(r"stage write: done in ([0-9.]+) s", proc.stderr).group(1))
    new = outputs_of(reference)
    assert new != old  # the two sets really differ
    rng = random.Random(20261204)
    cmd = [sys.executable, "-m", "tqspatial", "refresh", "--config", str(changed),
           "--out", str(out)]  # fmt: skip
    for trial in range(10):
        if trial < 5:
            _kill_during(cmd, after_line=None, delay=rng.uniform(0.0, duration))
        else:
            _kill_during(cmd, after_line="stage write: start", delay=rng.uniform(0.0, write_s))
        got = outputs_of(out)
        assert got in (old, new)
        KILLS.append("old" if got == old else "new")
        if got == new:  # reset to the old set for the next trial
            assert run_cli(*refresh_args(district, out)).returncode == 0
    assert len(KILLS) == 10
    assert run_cli("refresh", "--config", str(changed), "--out", str(out)).returncode == 0
    assert outputs_of(out) == new
    leftovers = [
        p.name for p in tmp_path.iterdir() if ".staging-" in p.name or ".previous-" in p.name
    ]
    assert leftovers == []


def test_a_full_disk_gives_exit_2_and_keeps_the_old_outputs(district, tmp_path):
    small = tmp_path / "small"
    assert run_cli(*refresh_args(district, small)).returncode == 0
    a = sum((small / o).stat().st_size for o in outputs_of(small))
    with_access = district.folder / "with_access.toml"
    with_access.write_text(
        district.config.read_text(encoding="utf-8").replace(FAST, ""), encoding="utf-8"
    )
    big = tmp_path / "big"
    assert run_cli("refresh", "--config", str(with_access), "--out", str(big)).returncode == 0
    b = sum((big / o).stat().st_size for o in outputs_of(big))
    assert b > 1.5 * a, (a, b)  # the second run needs more room than the first left
    size_kb = int((a + (1.25 * a + b) / 2) / 1024) + 64
    with tmpfs(tmp_path / "disk", f"{size_kb}k") as disk:
        out = disk / "out"
        assert run_cli(*refresh_args(district, out)).returncode == 0
        old = outputs_of(out)
        proc = run_cli("refresh", "--config", str(with_access), "--out", str(out))
        assert proc.returncode == BAD, proc.stderr
        assert "No space left on device" in proc.stderr
        assert "previous outputs are unchanged" in proc.stderr
        assert outputs_of(out) == old
        assert [p.name for p in disk.iterdir() if "staging" in p.name] == []
        # the preflight refuses at once when even the last run's size does not fit
        filler = disk / "filler.bin"
        filler.write_bytes(b"\0" * max(shutil.disk_usage(disk).free - a // 2, 0))
        proc = run_cli(*refresh_args(district, out))
        assert proc.returncode == BAD
        assert "not enough free space" in proc.stderr
        assert "stage read" not in proc.stderr


def _wait_for_open_transaction(url: str, *, timeout_s: float) -> bool:
    """Poll until a tqspatial session has a transaction open (its COPY of the layers)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tqspatial'"
        " AND xact_start IS NOT NULL AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(query).fetchone()
            if row and row[0]:
                return True
            time.sleep(0.002)
    return False


def test_a_database_killed_mid_write_leaves_the_previous_inventory(district, tmp_path):
    server = pg_server.start()
    try:
        out = tmp_path / "out"
        assert run_cli(*refresh_args(district, out, "--to", server.url)).returncode == 0
        first = read_inventory_postgis(server.url, "parcels")
        big = district.folder / "big_write.toml"
        big.write_text(
            district.config.read_text(encoding="utf-8").replace(FAST, ""), encoding="utf-8"
        )
        with subprocess.Popen(
            [sys.executable, "-m", "tqspatial", "refresh", "--config", str(big), "--out",
             str(tmp_path / "out2"), "--to", server.url],
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:  # fmt: skip
            assert proc.stderr is not None
            for line in proc.stderr:
                if "stage postgis: start" in line:
                    assert _wait_for_open_transaction(server.url, timeout_s=30)
                    server.kill()  # mid-write: the refresh's transaction is open
                    break
            rest = proc.stderr.read()
            TRANSCRIPTS.append(rest)
            assert proc.wait(timeout=120) == BAD
        assert "previous inventory" in rest
        server.restart()
        again = read_inventory_postgis(server.url, "parcels")
        assert again["parcel_id"].tolist() == first["parcel_id"].tolist()
        assert again.geometry.equals(first.geometry)
    finally:
        server.stop()


def test_interrupt_after_publishing_says_so(district, tmp_path):
    server = pg_server.start()
    try:
        slow = district.folder / "slow_db.toml"
        slow.write_text(
            district.config.read_text(encoding="utf-8").replace(FAST, ""), encoding="utf-8"
        )
        with subprocess.Popen(
            [sys.executable, "-m", "tqspatial", "refresh", "--config", str(slow), "--out",
             str(tmp_path / "out"), "--to", server.url],
            stderr=subprocess.PIPE,
            text=True,
        ) as proc:  # fmt: skip
            assert proc.stderr is not None
            for line in proc.stderr:
                if "stage postgis: start" in line:
                    proc.send_signal(signal.SIGINT)
                    break
            rest = proc.stderr.read()
            TRANSCRIPTS.append(rest)
            assert proc.wait(timeout=120) == 130
        assert "after the outputs were published in" in rest
        assert (tmp_path / "out" / "manifest.json").is_file()
    finally:
        server.stop()


def test_no_command_said_internal_error():
    assert TRANSCRIPTS, "the tests above ran commands"
    assert sum(t.count("internal error") for t in TRANSCRIPTS) == 0
    assert not any("Traceback" in t for t in TRANSCRIPTS)
