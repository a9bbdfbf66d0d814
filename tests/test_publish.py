import os
import threading

import pytest

from tqspatial.publish import OutputLockedError, output_lock, publish, staging_dir


def _files(folder):
    return {p.name: p.read_text() for p in folder.iterdir()}


def test_publish_replaces_the_whole_set_and_keeps_the_readme(tmp_path):
    target = tmp_path / "processed"
    target.mkdir()
    (target / "README.md").write_text("docs")
    (target / "old_only.csv").write_text("stale")
    staging = staging_dir(target)
    (staging / "new.csv").write_text("fresh")
    publish(staging, target)
    assert _files(target) == {"README.md": "docs", "new.csv": "fresh"}
    assert not staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["processed"]


def test_publish_without_the_atomic_exchange_still_ends_complete(tmp_path, monkeypatch):
    from tqspatial import publish as mod

    monkeypatch.setattr(mod, "_exchange", lambda a, b: False)  # e.g. a non-Linux file system
    target = tmp_path / "out"
    for run in ("one", "two"):
        staging = staging_dir(target)
        (staging / "x.txt").write_text(run)
        publish(staging, target)
    assert _files(target) == {"x.txt": "two"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


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
