from pathlib import Path

import pytest

from tqspatial import settings
from tqspatial.errors import ConfigError, TqspatialError


def test_default_working_crs_is_cgcs2000_117e_without_zone_prefix():
    assert settings.get_settings().working_crs == "EPSG:4548"


def test_override_restores_previous_value_even_after_an_error():
    before = settings.get_settings()
    seen = []

    def fail_inside() -> None:
        with settings.override(data_dir="/tmp/elsewhere"):
            seen.append(settings.get_settings().data_dir)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_inside()
    assert seen == [Path("/tmp/elsewhere")]
    assert settings.get_settings() == before


def test_unknown_setting_lists_valid_names():
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['crs'\].*'working_crs'"):  # noqa: SIM117
        with settings.override(crs="EPSG:4326"):
            pass


def test_errors_are_also_builtin_errors():
    assert issubclass(ConfigError, ValueError)
    assert issubclass(ConfigError, TqspatialError)


def test_default_outputs_go_under_the_working_directory(tmp_path, monkeypatch):
    """No output path depends on where the package is installed (issue 18)."""
    from tqspatial import datasets, pipeline
    from tqspatial.config import Config

    monkeypatch.chdir(tmp_path)
    assert pipeline._target(Config(), None) == tmp_path.resolve() / "data" / "processed"
    package = Path(pipeline.__file__).resolve().parent
    assert datasets.raw_dir().resolve() == package / "datasets" / "data"
    assert not datasets.raw_dir().resolve().is_relative_to(tmp_path.resolve())
