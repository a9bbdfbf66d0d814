import logging
import subprocess
import sys

import pytest

from tqspatial import cli, settings


def test_refresh_exit_code_zero_and_nothing_printed(tmp_path, capsys, caplog, fast_config):
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="tqspatial"):
        assert cli.main(["refresh", "--config", str(fast_config), "--out", str(out)]) == 0
    assert (out / "manifest.json").exists()
    out = capsys.readouterr().out
    assert out == ""
    assert any("stage assign: done" in r.getMessage() for r in caplog.records)


def test_bad_input_exits_with_its_own_code(tmp_path, caplog, monkeypatch):
    from tqspatial import datasets

    monkeypatch.setattr(datasets, "raw_dir", lambda: tmp_path)  # an install missing its data
    with settings.override(data_dir=tmp_path):
        assert cli.main(["refresh", "--out", str(tmp_path / "out")]) == cli.EXIT_BAD_INPUT
    assert "embedded dataset file missing" in caplog.text
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_python_dash_m_entry_point(tmp_path, fast_config):
    out = tmp_path / "out"
    out_args = ["--out", str(out)]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tqspatial",
            "-q",
            "refresh",
            "--config",
            str(fast_config),
            *out_args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "cluster_summary.csv").exists()


def test_map_command_writes_the_requested_formats(tmp_path):
    from PIL import Image

    out = tmp_path / "maps"
    args = ["-q", "map", "--out", str(out), "--formats", "png,svg", "--dpi", "50", "--no-atlas"]
    assert cli.main(args) == cli.EXIT_OK
    names = sorted(p.name for p in out.iterdir())
    assert names == [".tqspatial-output", "cluster_map.png", "cluster_map.svg", "manifest.json"]
    with Image.open(out / "cluster_map.png") as png:
        assert png.info["dpi"][0] == pytest.approx(50, abs=0.5)
    assert "<svg" in (out / "cluster_map.svg").read_text(encoding="utf-8")[:500]


@pytest.mark.parametrize(
    ("flags", "tty", "expected"),
    [
        ([], False, False),  # batch: off
        ([], True, True),  # a terminal: on
        (["--progress"], False, True),  # asked for, e.g. to watch a log file
        (["--no-progress"], True, False),
        (["-q", "--progress"], True, False),  # quiet wins
    ],
)
def test_progress_flag(monkeypatch, flags, tty, expected):
    seen = {}

    class _Result:
        files = ()

    def fake_refresh(config, **kwargs):
        seen.update(kwargs)
        return _Result()

    monkeypatch.setattr(cli, "refresh", fake_refresh)
    monkeypatch.setattr(cli, "progress_default", lambda: tty)
    quiet = [f for f in flags if f == "-q"]
    rest = [f for f in flags if f != "-q"]
    assert cli.main([*quiet, "refresh", *rest]) == cli.EXIT_OK
    assert seen["progress"] is expected
