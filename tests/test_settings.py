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
