import tomllib

import pytest

from tqspatial import cli, datasets
from tqspatial.config import Config, default_config_text, load_config, parse_config
from tqspatial.errors import ConfigError


def test_default_text_round_trips_to_the_defaults():
    assert parse_config(tomllib.loads(default_config_text())) == Config()


def test_every_key_is_documented_in_the_written_config():
    text = default_config_text()
    for section, values in Config().as_dict().items():
        assert f"[{section}]" in text
        for key in values:
            line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} = "))
            assert "  # " in line
            assert len(line.split("  # ", 1)[1]) > 5


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"asign": {}}, "valid sections are [accessibility], [assign]"),
        ({"assign": {"min_share": 0.5}}, "valid keys are min_cluster_share"),
        ({"assign": {"min_cluster_share": "half"}}, "must be float"),
        ({"assign": {"min_cluster_share": 1.5}}, "must be in (0, 1]"),
        ({"maps": {"enabled": "yes"}}, "must be bool"),
        ({"maps": {"dpi": True}}, "must be int"),
        ({"maps": {"lang": "fr"}}, "choose from 'both', 'en', 'zh'"),
        ({"accessibility": {"modes": ["walk"]}}, "modes moved to nowhere"),
        ({"inputs": {"water": "w.gpkg"}}, "water moved to the profile's [layers] water"),
        ({"supply": {"flood_depth_threshold_m": 1}}, "[[constraints]] threshold"),
        ({"supply": {"phase_years": [2035, 2030, 2040]}}, "3 increasing years"),
        ({"inputs": "parcels.gpkg"}, "must be a table"),
    ],
)
def test_bad_config_is_refused_with_the_valid_choices(data, fragment):
    with pytest.raises(ConfigError) as err:
        parse_config(data)
    assert fragment in str(err.value)


def test_ints_are_accepted_where_floats_are_expected():
    assert parse_config({"assign": {"min_cluster_share": 1}}).assign.min_cluster_share == 1.0


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    cfg_file = tmp_path / "sub" / "job.toml"
    cfg_file.parent.mkdir()
    cfg_file.write_text('[inputs]\nparcels = "my/地块.gpkg"\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    assert cfg.input_path("parcels") == tmp_path / "sub" / "my" / "地块.gpkg"
    layers = cfg.layers(cfg.district_profile())
    assert layers["parcels"].path == tmp_path / "sub" / "my" / "地块.gpkg"
    assert layers["parcels"].provenance is None  # the user's file: not labelled for them
    assert layers["boundary"].path.parent == datasets.raw_dir()  # still the profile's (embedded)


def test_load_config_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[assign\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml is not valid TOML"):
        load_config(broken)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[assign]\nthreshold = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'threshold'.*wrong\.toml"):
        load_config(wrong)


def test_init_config_writes_an_editable_default_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "tq.toml"
    assert cli.main(["-q", "init-config", str(path)]) == cli.EXIT_OK
    assert load_config(path) == Config(base_dir=tmp_path)
    path.write_text("# edited\n", encoding="utf-8")
    assert cli.main(["-q", "init-config", str(path)]) == cli.EXIT_BAD_INPUT
    assert path.read_text(encoding="utf-8") == "# edited\n"
    assert cli.main(["-q", "init-config", "--force", str(path)]) == cli.EXIT_OK
    assert load_config(path) == Config(base_dir=tmp_path)
