"""The Trainer and its command line: exact resume, the update rules, label dropout, errors."""

import subprocess
import sys

import pytest
import torch
from PIL import Image

from diffcourse.data import two_moons
from diffcourse.models import TimeMLP
from diffcourse.pretrained import load_digits_model, load_model
from diffcourse.schedules import make_schedule
from diffcourse.train import main
from diffcourse.trainer import Trainer, warmup_cosine


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


ABAR = make_schedule("cosine", 1000)


def moons(n=256):
    return two_moons(n, torch.Generator().manual_seed(0))


def small_model(seed=0, num_classes=None):
    torch.manual_seed(seed)
    return TimeMLP(2, width=32, num_blocks=2, emb_dim=16, num_classes=num_classes)


def trainer(model=None, data=None, labels=None, **kw):
    kw = dict(dict(steps=8, batch_size=32, warmup_steps=3, progress=False, seed=0), **kw)
    return Trainer(model or small_model(), moons() if data is None else data, ABAR, labels, **kw)


def assert_same_state(a: Trainer, b: Trainer):
    for (name, pa), pb in zip(
        a.model.state_dict().items(), b.model.state_dict().values(), strict=True
    ):
        assert torch.equal(pa, pb), name
    for (name, pa), pb in zip(a.ema.state_dict().items(), b.ema.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), "ema " + name
    sa, sb = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    for k in sa:
        for key in sa[k]:
            assert torch.equal(torch.as_tensor(sa[k][key]), torch.as_tensor(sb[k][key]))
    assert a.scheduler.get_last_lr() == b.scheduler.get_last_lr()
    assert a.step == b.step and a.losses == b.losses
    assert torch.equal(a.generator.get_state(), b.generator.get_state())


def test_resume_equals_uninterrupted_training_bit_for_bit(tmp_path):
    straight = trainer(labels=None)
    straight.train()
    first = trainer()
    first.train(4)
    first.save_checkpoint(tmp_path / "ckpt.pt")
    # a fresh trainer whose model starts from DIFFERENT weights: everything must come from the file
    resumed = trainer(model=small_model(seed=123))
    resumed.load_checkpoint(tmp_path / "ckpt.pt")
    assert resumed.step == 4
    resumed.train()
    assert_same_state(straight, resumed)


def test_same_seed_same_run_other_seed_other_run():
    a, b, c = trainer(), trainer(), trainer(seed=1)
    a.train(), b.train(), c.train()
    assert a.losses == b.losses and a.losses != c.losses


def test_ema_and_learning_rate_follow_their_formulas():
    tr = trainer(ema_decay=0.9, lr=1e-2)
    init = {k: v.clone() for k, v in tr.model.state_dict().items()}
    tr.train(1)
    for k, v in tr.model.state_dict().items():
        expected = 0.9 * init[k] + 0.1 * v
        assert torch.allclose(tr.ema.state_dict()[k], expected, atol=1e-7), k
    # the LambdaLR multiplier after s steps is warmup_cosine(s)
    tr.train(6)
    assert tr.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2 * warmup_cosine(6, 3, 8))


def test_warmup_cosine_shape():
    assert warmup_cosine(0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(10, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100) == pytest.approx(0.5)
    assert warmup_cosine(100, 10, 100) == pytest.approx(0.0, abs=1e-12)
    values = [warmup_cosine(s, 10, 100) for s in range(10, 101)]
    assert all(x >= y for x, y in zip(values, values[1:], strict=False))


class RecordingMLP(TimeMLP):
    """Records the labels it is called with."""

    def forward(self, x, t, labels=None):
        self.seen.append(labels.clone())
        return super().forward(x, t, labels)


@pytest.mark.parametrize("dropout", [0.0, 0.3, 1.0])
def test_label_dropout_replaces_labels_by_the_null_label(dropout):
    torch.manual_seed(0)
    model = RecordingMLP(2, width=16, num_blocks=1, emb_dim=8, num_classes=3)
    model.seen = []
    labels = torch.arange(256) % 3
    tr = trainer(model=model, labels=labels, label_dropout=dropout, steps=20, batch_size=64)
    tr.train()
    seen = torch.cat(model.seen)
    null_fraction = (seen == 3).double().mean().item()
    assert seen.min() >= 0 and seen.max() <= 3
    if dropout == 0.0:
        assert null_fraction == 0.0
    elif dropout == 1.0:
        assert null_fraction == 1.0
    else:
        assert abs(null_fraction - dropout) < 0.06  # 1280 draws: std ~0.013
        assert set(seen.tolist()) == {0, 1, 2, 3}


def test_training_reduces_the_loss():
    tr = trainer(steps=150, batch_size=128, lr=3e-3, warmup_steps=10)
    losses = tr.train()
    assert sum(losses[-20:]) / 20 < 0.8 * sum(losses[:20]) / 20


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="steps"):
        trainer(steps=0)
    with pytest.raises(ValueError, match="learning rate"):
        trainer(lr=-1e-3)
    with pytest.raises(ValueError, match="larger than the data set"):
        trainer(batch_size=1000)
    with pytest.raises(ValueError, match="ema_decay"):
        trainer(ema_decay=1.0)
    with pytest.raises(ValueError, match="labels are required"):
        trainer(model=small_model(num_classes=3))
    with pytest.raises(ValueError, match="unconditional"):
        trainer(labels=torch.zeros(256, dtype=torch.long))
    with pytest.raises(ValueError, match="labels must lie"):
        trainer(model=small_model(num_classes=3), labels=torch.full((256,), 3))


def test_export_is_loadable_by_pretrained(tmp_path):
    tr = trainer(model=small_model(num_classes=2), labels=torch.arange(256) % 2, steps=5)
    tr.train()
    path = tr.export(tmp_path / "m.pt", half=False)
    loaded = load_digits_model(path=path)
    x, t = torch.randn(4, 2), torch.tensor([999, 500, 1, 0])
    assert torch.equal(
        loaded(x, t, torch.tensor([0, 1, 2, 0])), tr.ema(x, t, torch.tensor([0, 1, 2, 0]))
    )
    assert torch.equal(loaded.alphas_cumprod, ABAR) and loaded.num_classes == 2
    half = load_model(tr.export(tmp_path / "h.pt", half=True))
    assert torch.allclose(half(x, t), tr.ema(x, t), atol=1e-2)


def image_folder(tmp_path, n=6, size=(10, 12)):
    folder = tmp_path / "imgs"
    folder.mkdir()
    g = torch.Generator().manual_seed(0)
    for i in range(n):
        arr = (torch.rand(size[1], size[0], 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(arr).save(folder / f"img{i}.png")
    return folder


def test_cli_trains_on_an_image_folder_and_resumes_exactly(tmp_path, capsys):
    folder = image_folder(tmp_path)
    common = ["--data", str(folder), "--batch-size", "4", "--image-size", "8", "--model", "unet"]
    common += [
        "--sample-every",
        "3",
        "--sample-steps",
        "2",
        "--no-progress",
        "--checkpoint-every",
        "2",
    ]
    assert main(common + ["--out", str(tmp_path / "a"), "--steps", "4"]) == 0
    out = tmp_path / "a"
    assert (out / "checkpoint.pt").is_file() and (out / "model.pt").is_file()
    assert (out / "samples" / "step_0000003.png").is_file()
    # interrupted at 2 steps, resumed to 4 with --resume: the same weights as the straight run
    assert main(common + ["--out", str(tmp_path / "b"), "--steps", "4", "--stop-after", "2"]) == 0
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["step"] == 2
    assert main(["--out", str(tmp_path / "b"), "--resume", "--no-progress"]) == 0
    a = torch.load(out / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 4
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
        assert torch.equal(a["ema"][k], b["ema"][k]), k
    assert "DigitsUNet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "digits", "--lr", "-1"], "learning rate must be a positive number"),
        (["--data", "digits", "--steps", "0"], "steps must be a positive integer"),
        (["--data", "digits", "--batch-size", "5000"], "larger than the data set"),
        (
            ["--data", "IMAGES", "--image-size", "7", "--model", "unet", "--batch-size", "2"],
            "multiple of 2",
        ),
        (["--data", "moons", "--model", "unet"], "needs images"),
        (["--data", "moons", "--conditional"], "needs a labelled data set"),
        (["--data", "no/such/folder"], "no such folder"),
        (["--data", "digits", "--image-size", "16"], "digits are 8x8"),
        (["--resume"], "no checkpoint"),
    ],
)
def test_cli_refuses_bad_arguments_with_one_line(tmp_path, capsys, args, message):
    folder = image_folder(tmp_path, n=3)
    args = [str(folder) if a == "IMAGES" else a for a in args]
    assert main(args + ["--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error:" in err and message in err, err


def test_cli_module_entry_point(tmp_path):
    """`python -m diffcourse.train` runs, and a bad argument gives one line and status 2."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "diffcourse.train",
            "--data",
            "moons",
            "--out",
            str(tmp_path / "o"),
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--sample-every",
            "3",
            "--sample-steps",
            "2",
            "--no-progress",
            "--threads",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o" / "samples" / "step_0000003.png").is_file()
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "diffcourse.train",
            "--data",
            "moons",
            "--out",
            str(tmp_path / "o"),
            "--lr",
            "-0.1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        "python -m diffcourse.train: error: learning rate must be a positive number, got -0.1"
    ]


@pytest.mark.gpu
def test_trains_on_cuda_when_present():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    tr = trainer(device="cuda")
    tr.train()
    assert next(tr.model.parameters()).is_cuda and len(tr.losses) == 8


def test_the_command_line_is_its_own_module_and_the_old_imports_still_work():
    """The Trainer lives in diffcourse.trainer; students' `from diffcourse.train import
    Trainer` and the `diffcourse-train` script (pyproject) keep working."""
    from pathlib import Path

    import diffcourse.train as cli
    import diffcourse.trainer as trainer_module

    assert cli.Trainer is trainer_module.Trainer
    assert cli.warmup_cosine is trainer_module.warmup_cosine
    assert not hasattr(trainer_module, "main") and not hasattr(trainer_module, "build_parser")
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert 'diffcourse-train = "diffcourse.train:main"' in pyproject
