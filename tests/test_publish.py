import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tqspatial.errors import OutputError
from tqspatial.publish import (
    OWNER_MARKER,
    OutputLockedError,
    check_target,
    lock_file,
    output_lock,
    outputs_size,
    publish,
    read_owner,
    recover,
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
    lock_file,
    output_lock,
    outputs_size,
    publish,
    read_owner,
    recover,
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


class Died(BaseException):
    """A job killed between two renames (SIGKILL, a power cut)."""


def _set(folder, **files):
    for name, text in files.items():
        (folder / name).write_text(text)
    listed = [n for n in files if n != "mine.txt"] + ["manifest.json"]
    (folder / "manifest.json").write_text(json.dumps({"outputs": listed}))


@pytest.mark.parametrize("mount_point", [True, False], ids=["contents swap", "two renames"])
def test_a_swap_killed_at_every_step_is_undone_without_losing_a_file(
    tmp_path, monkeypatch, mount_point
):
    from tqspatial import publish as mod

    target = tmp_path / "out"
    target.mkdir()
    _set(target, **{"a.csv": "old a", "b.csv": "old b", "mine.txt": "the user's"})
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    monkeypatch.setattr(mod, "_exchange", lambda a, b: False)  # no atomic exchange here
    if mount_point:
        monkeypatch.setattr(mod.os.path, "ismount", lambda p: Path(p) == target)
    real_rename = Path.rename
    steps = 0
    for kill_at in range(1, 12):
        calls = 0

        def dying_rename(self, dest, kill_at=kill_at):
            nonlocal calls
            calls += 1
            if calls == kill_at:
                raise Died
            return real_rename(self, dest)

        staging = staging_dir(target)
        (staging / "a.csv").write_text("new a")
        (staging / "c.csv").write_text("new c")
        monkeypatch.setattr(Path, "rename", dying_rename)
        try:
            publish(staging, target)
            finished = True
        except Died:
            finished = False
        monkeypatch.setattr(Path, "rename", real_rename)
        recover(target)
        now = {p.name: p.read_bytes() for p in target.iterdir() if not p.name.startswith(".t")}
        if finished:  # killed after the last rename: the new set, the user's file kept
            assert now["a.csv"] == b"new a"
            assert now["mine.txt"] == b"the user's"
            break
        steps += 1
        assert now == before, kill_at  # the complete old set, the user's file included
        assert not [p for p in target.iterdir() if p.name.startswith(".tqspatial-")], kill_at
    assert steps >= 2  # the kill really fell between renames


def test_lost_and_found_is_neither_foreign_nor_moved(tmp_path, monkeypatch):
    from tqspatial import publish as mod

    target = tmp_path / "volume"
    (target / "lost+found").mkdir(parents=True)
    assert check_target(target, job="refresh") == []  # a fresh ext4 volume is usable
    monkeypatch.setattr(mod.os.path, "ismount", lambda p: Path(p) == target)
    for run in ("one", "two"):
        staging = staging_dir(target)
        (staging / "x.txt").write_text(run)
        (staging / "manifest.json").write_text('{"outputs": ["x.txt", "manifest.json"]}')
        publish(staging, target)
    assert (target / "lost+found").is_dir()
    assert (target / "x.txt").read_text() == "two"
    assert lock_file(target) == target / ".tqspatial-lock"


def test_a_cleanup_failure_after_the_swap_is_a_warning(tmp_path, monkeypatch, caplog):
    from tqspatial import publish as mod

    target = tmp_path / "out"
    for run in ("one", "two"):
        staging = staging_dir(target)
        (staging / "x.txt").write_text(run)
        if run == "two":
            monkeypatch.setattr(mod.shutil, "rmtree", lambda *a, **k: None)  # cannot delete
        publish(staging, target)
    assert (target / "x.txt").read_text() == "two"  # published all the same
    assert "could not remove" in caplog.text


def test_free_space_estimate_counts_only_the_listed_outputs(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _set(target, **{"a.csv": "x" * 1000, "mine.txt": "y" * 50_000})
    manifest = (target / "manifest.json").stat().st_size
    assert outputs_size(target) == 1000 + manifest
