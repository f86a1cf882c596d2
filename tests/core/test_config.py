"""Run configs through PyYAML with our loader: the same data as PyYAML's SafeLoader on what
Lightning, W&B, DVC and Hydra write and on anything PyYAML's own dumper writes from random data;
Python and unknown tags as plain data (nothing constructed, nothing run); damage as warnings with
the rest kept; read_config's flattening and W&B unwrapping."""

from __future__ import annotations

import argparse
import datetime
import enum
import json
import math
from collections import OrderedDict
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuiboard.core.config import CONFIG_NAMES, parse_yaml, read_config


def norm(value: Any) -> Any:
    """PyYAML's output made comparable: tuples as lists, keys as text, NaN comparable."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        return [norm(item) for item in value]
    if isinstance(value, dict):
        return {str(k): norm(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def same_as_pyyaml(text: str, loader: Any = yaml.SafeLoader) -> Any:
    got, errors = parse_yaml(text)
    assert errors == []
    want = yaml.load(text, Loader=loader)
    assert norm(got) == norm(want)
    return got


LIGHTNING_HPARAMS: dict[str, Any] = {
    "batch_size": 32,
    "learning_rate": 0.001,
    "weight_decay": 1e-05,
    "betas": (0.9, 0.999),
    "max_epochs": 100,
    "model": {"hidden_dim": 256, "layers": [128, 64, 32], "dropout": 0.1, "norm": None},
    "data": {"root": "/data/imagenet", "num_workers": 8, "augment": True},
    "precision": "16-mixed",
    "description": "A long description of the experiment that goes on and on, with commas, "
    "colons: yes, and more words, wrapped by the dumper over several lines for sure",
    "notes": "line one\nline two\n\nline four",
    "looks_like_bool": "yes",
    "looks_like_int": "123",
    "hash": "#tag",
    "tricky": "a: b # c",
    "unicode": "héllo ✓",
    "big": 10**20,
    "inf": float("inf"),
    "tiny": 1e-300,
    "list_of_dicts": [{"a": 1, "b": [1, 2]}, {"c": None}],
    "nested_list": [[1, 2], [3, [4, 5]]],
    "empty_list": [],
    "empty_dict": {},
}


@pytest.mark.parametrize(
    "dump",
    [
        # Lightning's save_hparams_to_yaml: yaml.dump (not safe_dump), so tuples are tagged
        lambda d: yaml.dump(d),
        lambda d: yaml.dump(d, sort_keys=False, width=30),
        lambda d: yaml.safe_dump(json.loads(json.dumps(d)), default_flow_style=None),
        lambda d: yaml.safe_dump(json.loads(json.dumps(d)), indent=4, allow_unicode=True),
    ],
)
def test_lightning_hparams_as_pyyaml_reads_them(dump: Any) -> None:
    shared = [1, 2]
    data = dict(LIGHTNING_HPARAMS, ref1=shared, ref2=shared)  # an anchor and an alias
    same_as_pyyaml(dump(data), loader=yaml.Loader)


WANDB_OLD = """wandb_version: 1

_wandb:
  desc: null
  value:
    cli_version: 0.12.21
    framework: torch
    is_jupyter_run: false
    python_version: 3.8.10
    start_time: 1659000000
    t:
      1:
      - 1
      - 41
      4: 3.8.10
batch_size:
  desc: null
  value: 64
learning_rate:
  desc: null
  value: 0.0003
architecture:
  desc: Model family
  value: resnet50
"""

WANDB_NEW = """_wandb:
    value:
        cli_version: 0.18.5
        m: []
        t:
            "1":
                - 1
                - 55
            "4": 3.11.7
lr:
    value: 0.001
optimizer:
    value:
        name: adam
        betas:
            - 0.9
            - 0.999
"""


def test_wandb_config_yaml_unwrapped(tmp_path: Path) -> None:
    for text in (WANDB_OLD, WANDB_NEW):
        same_as_pyyaml(text)
    path = tmp_path / "config.yaml"
    path.write_text(WANDB_OLD)
    config, warnings = read_config(str(path))
    assert not warnings
    assert config == {"batch_size": 64, "learning_rate": 0.0003, "architecture": "resnet50"}
    path.write_text(WANDB_NEW)
    config, _ = read_config(str(path))
    assert config == {"lr": 0.001, "optimizer/name": "adam", "optimizer/betas": [0.9, 0.999]}


def test_plain_config_with_value_key_not_unwrapped(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("loss:\n  value: 3\n  weight: 0.5\nthreshold:\n  value: 1\n")
    config, _ = read_config(str(path))
    assert config == {"loss/value": 3, "loss/weight": 0.5, "threshold/value": 1}


HAND_WRITTEN = {
    "dvc": """# DVC params
prepare:
  split: 0.20   # fraction held out
  seed: 20170428

train:
  n_est: 50
  layers: [64, 32,
           16]
  opts: {lr: 1.0e-3, 'momentum': .9, nesterov: yes, note: "a, b"}
""",
    "anchors_merges": """defaults: &defaults
  lr: 0.1
  batch: 32
  tags: &tags [a, b]
small:
  <<: *defaults
  batch: 8
large:
  <<: *defaults
  extra: *tags
list:
  - &first {x: 1}
  - *first
""",
    "block_scalars_and_quotes": """---
description: |
  first line
    indented line

  after blank
folded: >-
  a folded
  text here

  new para
keep: |+
  kept

last: 'single ''quoted''
  continued

  para'
dq: "tab\\there \\u00e9 \\x41
  next \\
  joined"
...
""",
    "scalars": """ints: [0x1F, 0o17, 017, 0b101, 1_000, +5, -0, 1:30]
floats: [1.5e+3, .5, -.inf, .NaN, 1_0.5, 6.8523015e+5, 190:20:30.15]
strings: [1e5, 1.0e5, 0.1.2, 1-2, True1, "1", 'null']
bools: [yes, No, on, OFF, true, False]
nulls: [~, null, Null]
key: value#notcomment
spaced:    several   words   # comment
url: http://example.com:8080/x
windows: C:\\temp\\x
"quoted key": 1
'another: key': 2
empty:
""",
    "hydra": """model:
  _target_: torch.nn.Linear
  in_features: 128
trainer:
  callbacks:
  - _target_: ModelCheckpoint
    monitor: val/loss
  - _target_: EarlyStopping
    patience: 5
  nested:
  - - a
    - b
  -
    - c
paths:
  root: ${oc.env:HOME}/runs
""",
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_yaml_as_pyyaml_reads_it(name: str) -> None:
    same_as_pyyaml(HAND_WRITTEN[name])


def test_resolver_matches_pyyaml() -> None:
    words = [
        "1", "-1", "+1", "0", "00", "08", "0x1f", "0b11", "1_000", "1:20", "1.5", "1.", ".5",
        "1e5", "1.0e5", "1.0e+5", "1.0E-5", "-.inf", ".Inf", ".nan", "NaN", "inf", "yes", "Y",
        "n", "On", "off", "TRUE", "tRUE", "~", "null", "NULL", "nil", "none", "None", "1:2.5",
        "-0.0", "+.5", "0o17", "2024-01-01", "12:61", "_1", "1__0",
    ]  # fmt: skip
    for word in words:
        want = yaml.safe_load(f"k: {word}")["k"]
        if not isinstance(want, (int, float, bool, str, type(None))):
            continue  # dates: kept as text on purpose (JSON-serialisable configs)
        got, errors = parse_yaml(f"k: {word}")
        assert errors == [] and norm(got["k"]) == norm(want), word
    assert parse_yaml("k: 2024-01-01")[0] == {"k": "2024-01-01"}
    assert parse_yaml("k: 2024-01-01 10:00:00")[0] == {"k": "2024-01-01 10:00:00"}


# YAML 1.1 (PyYAML) also breaks lines at NEL, LS and PS; the subset breaks at "\n" only, and
# PyYAML itself does not read back a string holding them as written: left out.
# Keys with a line break are written as `? ` complex keys, outside the subset (no config has them).
texts = st.characters(blacklist_characters="\x85\u2028\u2029")
# "<<" is YAML's merge key, not a name.
keys = st.one_of(
    st.text(st.characters(blacklist_characters="\n\r\x85\u2028\u2029"), min_size=1, max_size=12),
    st.sampled_from(["lr", "a b", "x:y", "-k"]),
).filter(lambda key: key != "<<")

# Random data through PyYAML's own dumper: whatever it writes, we read back the same.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(texts, max_size=40),
    st.sampled_from(["yes", "no", "~", "1e5", "0x10", "- a", "a: b", "#c", "'q'", '"', "\\n"]),
)
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=documents,
    style=st.sampled_from([None, False]),
    width=st.sampled_from([20, 80]),
    indent=st.sampled_from([2, 4]),
)
def test_anything_pyyaml_dumps_reads_back_the_same(
    data: dict[str, Any], style: bool | None, width: int, indent: int
) -> None:
    text = yaml.safe_dump(
        data, default_flow_style=style, width=width, indent=indent, allow_unicode=True
    )
    same_as_pyyaml(text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*" -:#'\"[]{},&*!|>?\n\tab1.~\\%@`", "\n  ", ": ", "!!str ", "&a ", "*a"]),
        max_size=60,
    ).map("".join)
)
def test_never_raises_on_junk(text: str) -> None:
    # Agreement with PyYAML is checked on what real writers produce (above); on junk, the
    # contract is: no exception, plain JSON-like data back, problems as (line, message).
    value, errors = parse_yaml(text)
    json.dumps(value)
    assert all(isinstance(line, (int, type(None))) and isinstance(msg, str) for line, msg in errors)


def test_damaged_entries_warn_and_keep_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "hparams.yaml"
    path.write_text(
        "lr: 0.1\n"
        "path: !!python/object/apply:pathlib.PosixPath\n- /data\n- x\n"
        "? complex\n: value\n"
        "model:\n  depth: 3\n    bad: indent\n  width: 2\n"
        "\tafter_tab: 1\n"
        "cycle: &c [*c]\n"
        "after: true\n"
    )
    config, warnings = read_config(str(path))
    # PyYAML refuses the document; read again entry by entry, a damaged entry costs itself only
    # (`model` as a whole: PyYAML cannot say where its damage ends)
    assert config == {"lr": 0.1, "path": "/data/x", "complex": "value", "after": True}
    assert [w.line for w in warnings] == [9, 11, 12]
    assert "mapping values are not allowed" in warnings[0].message
    assert "recursive" in warnings[2].message
    assert all(w.file == str(path) for w in warnings)


def test_read_config_json_and_flattening(tmp_path: Path) -> None:
    data = {
        "model": {"name": "bert", "layers": 12, "dims": {"hidden": 768}},
        "lr": 5e-5,
        "tags": ["a", "b"],
        "empty": {},
        "none": None,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data, indent=2))
    config, warnings = read_config(str(path))
    assert not warnings
    assert config == {
        "model/name": "bert",
        "model/layers": 12,
        "model/dims/hidden": 768,
        "lr": 5e-5,
        "tags": ["a", "b"],
        "empty": {},
        "none": None,
    }


def test_read_config_damage(tmp_path: Path) -> None:
    bad_json = tmp_path / "config.json"
    bad_json.write_text('{"lr": 0.1,')
    config, warnings = read_config(str(bad_json))
    assert config == {} and "not valid JSON" in warnings[0].message
    listed = tmp_path / "params.yaml"
    listed.write_text("- a\n- b\n")
    config, warnings = read_config(str(listed))
    assert config == {} and "not a mapping" in warnings[0].message
    config, warnings = read_config(str(tmp_path / "absent.yaml"))
    assert config == {} and "cannot read" in warnings[0].message
    deep = tmp_path / "deep" / "config.json"
    deep.parent.mkdir()
    deep.write_text('{"a": ' * 5000 + "1" + "}" * 5000)
    config, warnings = read_config(str(deep))
    assert config == {} and len(warnings) == 1
    deep_yaml = tmp_path / "deep" / "params.yaml"
    deep_yaml.write_text("".join(" " * i + f"k{i}:\n" for i in range(3000)))
    config, warnings = read_config(str(deep_yaml))
    assert len(warnings) == 1 and isinstance(config, dict)
    empty = tmp_path / "config.yaml"
    empty.write_text("# nothing yet\n")
    assert read_config(str(empty)) == ({}, [])


def test_config_names() -> None:
    assert CONFIG_NAMES == ("config.json", "config.yaml", "hparams.yaml", "params.yaml")


class Color(enum.Enum):
    RED = 1


def test_python_tags_as_lightning_writes_them(tmp_path: Path) -> None:
    # Lightning's save_hparams_to_yaml is yaml.dump (not safe_dump): objects come out tagged.
    data = {
        "data_dir": PurePosixPath("/data/imagenet"),
        "win_dir": PureWindowsPath("C:/runs/x"),
        "betas": (0.9, 0.999),
        "lr": np.float64(3e-4),
        "epochs": np.int64(30),
        "flag": np.bool_(True),
        "grid": np.arange(6, dtype=np.int32).reshape(2, 3),
        "args": argparse.Namespace(depth=3, widths=[64, 32]),
        "ordered": OrderedDict(a=1, b=2),
        "loss_fn": len,
        "color": Color.RED,
        "complex": 1 + 2j,
        "raw": b"xy",
        "members": {3, 4},
        "day": datetime.date(2024, 1, 1),
    }
    path = tmp_path / "hparams.yaml"
    path.write_text(yaml.dump(data))
    config, warnings = read_config(str(path))
    assert warnings == []
    assert config == {
        "data_dir": "/data/imagenet",
        "win_dir": "C:\\runs\\x",
        "betas": [0.9, 0.999],
        "lr": 3e-4,
        "epochs": 30,
        "flag": True,
        "grid": [[0, 1, 2], [3, 4, 5]],
        "args/depth": 3,
        "args/widths": [64, 32],
        "ordered/a": 1,
        "ordered/b": 2,
        "loss_fn": "builtins.len",
        "color": 1,
        "complex": "1.0+2.0j",
        "raw": "eHk=",
        "members": [3, 4],
        "day": "2024-01-01",
    }
    json.dumps(config)  # `ls --json` prints it


def test_tags_never_run_anything(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "config.yaml"
    path.write_text(
        f"a: !!python/object/apply:os.system ['touch {marker}']\n"
        f"b: !!python/object/new:subprocess.Popen [[touch, {marker}]]\n"
        "c: !!python/name:os.system\n"
        "d: !!python/module:os\n"
        "e: !ENV ${HOME}\n"
        "f: !custom {x: 1}\n"
        "g: !!omap [{k: 1}, {j: 2}]\n"
    )
    config, warnings = read_config(str(path))
    assert not marker.exists() and warnings == []
    assert config == {
        "a": f"touch {marker}",
        "b": ["touch", str(marker)],
        "c": "os.system",
        "d": "os",
        "e": "${HOME}",
        "f/x": 1,
        "g/k": 1,
        "g/j": 2,
    }


def test_alias_bomb_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "params.yaml"
    path.write_text("\n".join(lines) + "\nkept: 1\n")
    config, warnings = read_config(str(path))
    # 10**9 strings once expanded: the entries past the limit are refused, the others kept
    # (aliases to earlier entries still resolve)
    assert config["kept"] == 1 and config["a0"] == ["x"] * 10
    assert config["a1"] == [["x"] * 10] * 10
    assert [w.line for w in warnings] == [6, 7, 8, 9]
    assert all("aliases" in w.message for w in warnings)
