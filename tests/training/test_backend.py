"""``--backend jax`` trains the same numbers as the C backend, from and into the same checkpoints.

One checkpoint (a tiny CRMN, n=1 and 4-8-16 maps on 8x8 images of 3 classes, one epoch under the C backend)
is continued for one more epoch (4 SGD steps) under each backend.  Both continuations must end with the same
weights, momentum velocities and BatchNorm running statistics, and report the same training loss and
validation numbers, within float32 tolerance: the two backends run the same graph with different kernels
(our C code vs XLA), which sum in different orders.  The evaluation batch (7) divides neither the validation
(16 images) nor the test split (30), so under JAX the last batch of each is padded to the static batch size:
equal numbers show the padding is neither dropped nor counted.  Checkpoints cross over: the JAX run resumes
the C checkpoint, and each backend's checkpoint evaluates the same under the other.
"""

import dataclasses
import importlib.util
import shutil

import numpy as np
import pytest

from crmn_legacy.training import checkpoint as ck
from crmn_legacy.training.backend import BackendUnavailable, check_backend, input_variables
from crmn_legacy.training.config import TrainConfig
from crmn_legacy.training.step import evaluate_batches
from crmn_legacy.datasets.iterator import MinibatchIterator
from training_helpers import tiny_config

#: float32 tolerance after 4 steps at lr 0.1 (relative to each tensor's largest entry): float32 eps is
#: 6e-8 and the two backends differ by a few ulps per step.
REL = 1e-4


def float32_precision():
    """JAX's float32 arithmetic for convolutions and matmuls (on a GPU its default is TensorFloat-32), in
    this block only: the C backend computes in float32, and so does JAX on a CPU anyway."""
    import jax

    return jax.default_matmul_precision("float32")


def _close(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-3)
    assert np.max(np.abs(a - b)) <= REL * scale, f"{what}: max |c - jax| {np.max(np.abs(a - b)):.3g}, scale {scale:.3g}"


@pytest.fixture(scope="module")
def continued(tiny_file, tmp_path_factory):
    """{backend: (summary of the continued select phase, its last.h5), "start": the C checkpoint}."""
    from crmn_legacy.training.trainer import Trainer, train

    root = tmp_path_factory.mktemp("backends")
    cfg = tiny_config(tiny_file, root / "start", model="crmn", width=0.25, epochs=1, phase="select", patience=5,
                      eval_batch_size=7)
    trainer = Trainer(cfg)
    trainer.run()
    out = {}
    for backend in ("c", "jax"):
        shutil.copytree(root / "start", root / backend)
        more = dataclasses.replace(cfg, out=str(root / backend), epochs=2, backend=backend)
        if backend == "c":  # the compiled C trainer, pointed at the copy
            trainer.config, trainer.out = more.resolved(), root / backend
            res = trainer.run(resume=True)
        else:
            with float32_precision():
                res = train(more, resume=True)
        out[backend] = (res["select"], ck.load_checkpoint(root / backend / "select" / "last.h5"))
    out["start"] = ck.load_checkpoint(root / "start" / "select" / "last.h5")
    return out


@pytest.mark.jax
def test_a_checkpoint_continued_under_each_backend_gives_the_same_state(continued):
    (sel_c, ck_c), (sel_j, ck_j) = continued["c"], continued["jax"]
    for ckpt in (ck_c, ck_j):
        assert (ckpt.meta["epoch"], ckpt.meta["step"]) == (2, 8)  # resumed at step 4, four steps each
        assert ckpt.config["backend"] in ("c", "jax")
    assert ck_j.config["backend"] == "jax"
    assert list(ck_c.params) == list(ck_j.params) and list(ck_c.velocities) == list(ck_j.velocities)
    stats = [k for k in ck_c.params if k.endswith((".mean", ".inv_std"))]
    assert len(stats) >= 10 and any(k.startswith("memory.") for k in ck_c.params)  # BatchNorm and the LSTM
    start = continued["start"]
    for k in ck_c.params:
        _close(ck_c.params[k], ck_j.params[k], f"parameter {k}")
    for k in ck_c.velocities:
        _close(ck_c.velocities[k], ck_j.velocities[k], f"velocity {k}")
    # the four steps moved the state well beyond the tolerance, so agreeing is not trivial
    assert max(np.max(np.abs(ck_c.params[k] - start.params[k])) for k in stats) > 100 * REL
    assert max(np.max(np.abs(ck_c.velocities[k] - start.velocities[k])) for k in ck_c.velocities) > 100 * REL
    rec_c, rec_j = ck_c.state["history"][-1], ck_j.state["history"][-1]
    for key in ("train_loss", "val_loss"):
        assert rec_j[key] == pytest.approx(rec_c[key], rel=REL), key
    assert rec_j["train_acc"] == rec_c["train_acc"] and rec_j["val_acc"] == rec_c["val_acc"]


@pytest.mark.jax
def test_each_backends_checkpoint_evaluates_the_same_under_the_other(continued):
    from crmn_legacy.training.evaluate import evaluate_checkpoint

    for written, ckpt in ((b, continued[b][1]) for b in ("c", "jax")):
        path = ckpt.config["out"] + "/select/last.h5"
        with float32_precision():
            res = {b: evaluate_checkpoint(path, split="test", backend=b) for b in ("c", "jax")}
        assert res["c"]["n"] == res["jax"]["n"] == 30, written  # 4 batches of 7 and one of 2, padded under JAX
        assert res["jax"]["loss"] == pytest.approx(res["c"]["loss"], rel=REL), written
        assert abs(res["jax"]["acc"] - res["c"]["acc"]) <= 1 / 30 + 1e-12, written


def test_padded_evaluation_counts_every_image_once():
    """evaluate_batches with a static batch: the padded tail is computed but not counted."""
    X = np.arange(10, dtype=np.float32).reshape(10, 1, 1, 1)
    y = (np.arange(10) % 3).astype(np.int32)
    seen = []

    def fn(xb, yb):  # per image: "loss" = the pixel value, "correct" = label 0
        seen.append(len(yb))
        return xb.reshape(-1), (yb == 0).astype(np.float32)

    loss, acc = evaluate_batches(fn, MinibatchIterator(X, y, 4, shuffle=False, transform=lambda a: a), 4)
    assert seen == [4, 4, 4]  # the last batch (2 images) was padded to 4
    assert loss == pytest.approx(sum(range(10)) / 10)  # 4.5: images 0..9 once each
    assert acc == pytest.approx(4 / 10)  # labels 0 at images 0, 3, 6, 9
    seen.clear()
    assert evaluate_batches(fn, MinibatchIterator(X, y, 4, shuffle=False, transform=lambda a: a)) == (loss, acc)
    assert seen == [4, 4, 2]


@pytest.mark.jax
def test_static_inputs_only_under_jax():
    x, t = input_variables("c", 16, (3, 8, 8))
    assert x.type.shape == (None,) * 4 and t.type.shape == (None,)
    x, t = input_variables("jax", 16, (3, 8, 8))
    assert x.type.shape == (16, 3, 8, 8) and t.type.shape == (16,) and t.dtype == "int32"


def test_unknown_or_missing_backend_is_a_clear_error(monkeypatch):
    with pytest.raises(ValueError, match="--backend must be one of c, jax"):
        TrainConfig(backend="cuda").resolved()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    with pytest.raises(BackendUnavailable, match=r"pip install -e '\.\[jax\]'"):
        check_backend("jax")
    assert check_backend("c") == "c"


def test_command_lines_take_the_backend(capsys):
    from crmn_legacy.training.cli import build_evaluate_parser, build_train_parser, main_train
    from crmn_legacy.training.config import RESUMABLE_OVERRIDES

    assert build_train_parser().parse_args(["--backend", "jax"]).backend == "jax"
    assert build_evaluate_parser().parse_args(["x.h5", "--backend", "c"]).backend == "c"
    assert "backend" in RESUMABLE_OVERRIDES  # a run resumes under the other backend
    with pytest.raises(SystemExit) as exc:
        main_train(["--backend", "cuda"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--backend" in err and "Traceback" not in err


def test_a_step_is_timed_until_its_outputs_are_on_the_host(trainer, tiny_file, tmp_path):
    """Regression: a JAX step function returns device arrays at once and the device finishes the step later;
    the recorded step time must include waiting for the outputs (it counted only the dispatch)."""
    import json
    import time

    from training_helpers import retarget

    tr = retarget(trainer, tiny_file, tmp_path / "run", epochs=1, phase="select")
    real = tr.train_fn

    class Pending:  # an output whose value is there 20 ms after the call returned
        def __init__(self, value):
            self.value = value

        def __float__(self):
            time.sleep(0.02)
            return float(self.value)

    tr.train_fn = lambda x, y: [Pending(v) for v in real(x, y)]
    try:
        tr.run()
    finally:
        tr.train_fn = real
    rec = json.loads((tmp_path / "run" / "select" / "log.jsonl").read_text().splitlines()[-1])
    assert rec["step_seconds_median"] >= 3 * 0.02  # the three outputs waited for inside the timed span
