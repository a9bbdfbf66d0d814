import os
import subprocess
import sys
import threading

import pytest

from tqspatial.errors import OutputError
from tqspatial.publish import (
    OWNER_MARKER,
    OutputLockedError,
    check_target,
    output_lock,
    publish,
    read_owner,
    staging_dir,
)


def _files(folder):
    return {p.name: p.read_text() for p in folder.iterdir() if p.name != OWNER_MARKER}


def test_publish_replaces_its_outputs_and_keeps_the_users_files(tmp_path):
    target = tmp_path / "processed"
    target.mkdir()
    (target / "README.md").write_text("docs")  # not an output: the user's (or the repo's)
    (target / "old_only.csv").write_text("stale")
    (target / "manifest.json").write_text('{"outputs": ["old_only.csv", "manifest.json"]}')
    staging = staging_dir(target)
    (staging / "new.csv").write_text("fresh")
    publish(staging, target)
    assert _files(target) == {"README.md": "docs", "new.csv": "fresh"}
    assert read_owner(target) == "refresh"
    assert not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]


def test_publish_without_the_atomic_exchange_still_ends_complete(tmp_path, monkeypatch):
    from tqspatial import publish as mod

    monkeypatch.setattr(mod, "_exchange", lambda a, b: False)  # e.g. a non-Linux file system
    target = tmp_path / "out"
    for run in ("one", "two"):
        staging = staging_dir(target)
        (staging / "x.txt").write_text(run)
        (staging / "manifest.json").write_text('{"outputs": ["x.txt", "manifest.json"]}')
        publish(staging, target)
    assert _files(target) == {
        "x.txt": "two",
        "manifest.json": '{"outputs": ["x.txt", "manifest.json"]}',
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_check_target_refuses_files_foreign_folders_and_other_jobs(tmp_path):
    afile = tmp_path / "a.txt"
    afile.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_target(afile, job="refresh")
    foreign = tmp_path / "foreign"
    (foreign / "gis").mkdir(parents=True)
    with pytest.raises(OutputError, match=r"did not write \(gis/\)"):
        check_target(foreign, job="refresh")
    assert check_target(foreign, job="refresh", force=True) == [foreign / "gis"]
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / OWNER_MARKER).write_text('{"job": "maps", "tool": "tqspatial"}')
    with pytest.raises(OutputError, match="outputs of tqspatial maps, not of refresh"):
        check_target(maps, job="refresh")
    assert check_target(maps, job="maps") == []
    assert check_target(tmp_path / "new", job="refresh") == []


def test_lock_works_without_fcntl(tmp_path):
    """The package imports and locks where fcntl does not exist (e.g. Windows)."""
    script = f"""
import sys
sys.modules["fcntl"] = None  # importing it raises ImportError, as on Windows
import tqspatial
from pathlib import Path
from tqspatial.errors import OutputError
from tqspatial.publish import (
    OWNER_MARKER,
    OutputLockedError,
    check_target,
    output_lock,
    publish,
    read_owner,
    staging_dir,
)
target = Path({str(tmp_path / "out")!r})
with output_lock(target):
    try:
        with output_lock(target):
            raise SystemExit("second lock was granted")
    except OutputLockedError as exc:
        assert "process" in str(exc)
    staging = staging_dir(target)
    (staging / "a.txt").write_text("ok")
    publish(staging, target)
with output_lock(target):  # released
    pass
print((target / "a.txt").read_text())
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_a_second_writer_is_refused_while_the_lock_is_held(tmp_path):
    target = tmp_path / "out"
    with output_lock(target), pytest.raises(OutputLockedError) as err:  # noqa: SIM117
        with output_lock(target):
            pass
    assert str(os.getpid()) in str(err.value)
    with output_lock(target):  # released on exit
        pass


def test_lock_is_exclusive_across_threads(tmp_path):
    target = tmp_path / "out"
    outcomes = []
    entered = threading.Event()
    release = threading.Event()

    def holder():
        with output_lock(target):
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    entered.wait(5)
    try:
        with output_lock(target):
            outcomes.append("entered")
    except OutputLockedError:
        outcomes.append("refused")
    release.set()
    thread.join()
    assert outcomes == ["refused"]


def test_interrupted_swap_is_recovered_by_the_next_lock(tmp_path):
    target = tmp_path / "out"
    aside = tmp_path / ".out.previous-12345"  # as left by a run killed between two renames
    aside.mkdir()
    (aside / "table.csv").write_text("previous")
    stale = tmp_path / ".out.staging-999"
    stale.mkdir()
    (stale / "half.csv").write_text("half")
    with output_lock(target):
        assert _files(target) == {"table.csv": "previous"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]
