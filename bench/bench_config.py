"""Benchmark: read a Lightning hparams.yaml and an old W&B config.yaml with read_config.

Run: python bench/bench_config.py [REPEATS]. Both files are written the way their writers write
them (Lightning's save_hparams_to_yaml: `yaml.dump`, which tags tuples and other Python objects;
old wandb's files/config.yaml: `{desc, value}` wrappers and a `_wandb` section). Prints the
microseconds one read_config call takes on each (best of REPEATS runs of 20 calls), and what
PyYAML's own yaml.load with its C safe loader takes on the W&B file (it refuses the Lightning
file's Python tags) for scale.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import PurePosixPath

import yaml

from tuiboard.core.config import read_config


def lightning_hparams() -> dict[str, object]:
    """What a LightningModule's save_hyperparameters() typically holds: ~60 entries."""
    hparams: dict[str, object] = {
        "batch_size": 64,
        "learning_rate": 3e-4,
        "weight_decay": 0.05,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "max_epochs": 300,
        "warmup_epochs": 5,
        "precision": "16-mixed",
        "data_dir": PurePosixPath("/datasets/imagenet/train"),
        "image_size": (224, 224),
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "model": {
            "name": "vit_base_patch16_224",
            "depth": 12,
            "heads": 12,
            "embed_dim": 768,
            "mlp_ratio": 4.0,
            "drop_path": 0.1,
            "layers": [768, 768, 768, 768],
        },
        "augment": {"randaugment": "rand-m9-mstd0.5-inc1", "mixup": 0.8, "cutmix": 1.0},
        "scheduler": {"name": "cosine", "min_lr": 1e-6, "cycle": [0, 100, 200, 300]},
        "description": "ViT-B/16 from scratch on ImageNet-1k with the DeiT recipe, "
        "mixed precision, 8 GPUs, gradient clipping at 1.0 and EMA of the weights",
    }
    for i in range(40):
        hparams[f"extra_{i}"] = {"value": i * 0.5, "enabled": i % 2 == 0, "name": f"opt{i}"}
    return hparams


def wandb_config() -> dict[str, object]:
    """Old wandb's files/config.yaml: every entry wrapped, plus its `_wandb` section."""
    config: dict[str, object] = {
        "wandb_version": 1,
        "_wandb": {
            "desc": None,
            "value": {
                "cli_version": "0.15.12",
                "framework": "torch",
                "is_jupyter_run": False,
                "is_kaggle_kernel": False,
                "python_version": "3.10.12",
                "start_time": 1700000000,
                "t": {
                    1: [1, 5, 11, 41, 49, 50, 51, 53, 55],
                    2: [1, 5, 11, 41, 49, 50, 51, 53, 55],
                    3: [2, 7, 13, 16, 23],
                    4: "3.10.12",
                    5: "0.15.12",
                    8: [5],
                },
            },
        },
    }
    for key, value in lightning_hparams().items():
        if isinstance(value, (tuple, PurePosixPath)):
            value = list(value) if isinstance(value, tuple) else str(value)
        config[key] = {"desc": None, "value": value}
    return config


def timed(call: Callable[[], object], calls: int = 20) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp:
        hparams = os.path.join(tmp, "hparams.yaml")
        with open(hparams, "w") as handle:
            yaml.dump(lightning_hparams(), handle)  # Lightning: yaml.dump, not safe_dump
        wandb = os.path.join(tmp, "config.yaml")
        with open(wandb, "w") as handle:
            yaml.dump(wandb_config(), handle, default_flow_style=False)
        with open(wandb) as handle:
            wandb_text = handle.read()
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        calls: dict[str, Callable[[], object]] = {
            "hparams": lambda: read_config(hparams),
            "wandb": lambda: read_config(wandb),
            "pyyaml": lambda: yaml.load(wandb_text, Loader=loader),
        }
        best = dict.fromkeys(calls, float("inf"))
        for _ in range(repeats):  # interleaved, best of REPEATS: the machine is shared and noisy
            for name, call in calls.items():
                best[name] = min(best[name], timed(call))
        for label, path, name in (
            ("Lightning hparams.yaml", hparams, "hparams"),
            ("W&B config.yaml", wandb, "wandb"),
        ):
            config, warnings = read_config(path)
            print(
                f"{label}: {os.path.getsize(path)} bytes, {len(config)} entries, "
                f"{len(warnings)} warnings: {best[name]:.0f} us per read_config"
            )
        print(
            f"W&B config.yaml, yaml.load(Loader={loader.__name__}) alone: {best['pyyaml']:.0f} us "
            f"(read_config takes {best['wandb'] / best['pyyaml']:.2f}x that)"
        )


if __name__ == "__main__":
    main()
