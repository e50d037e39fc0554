"""The pretrained digits model: loading, attributes, a quality smoke check, vendoring."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import diffcourse
from diffcourse.judge import DigitsJudge
from diffcourse.pretrained import checkpoint_path, load_digits_model
from diffcourse.samplers import ddim_sample
from diffcourse.schedules import make_schedule

PACKAGE = Path(diffcourse.__file__).resolve().parent
SUPPORT_FILES = ("models.py", "pretrained.py", "judge.py", "plotting.py")
# Student support files may use these (and the standard library), nothing else of the course.
ALLOWED_THIRD_PARTY = {"torch", "numpy", "sklearn", "matplotlib", "scipy", "PIL"}


@pytest.fixture(scope="module")
def model():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_digits_model()
    torch.set_num_threads(before)


def test_checkpoint_is_package_data_and_small():
    path = checkpoint_path()
    assert path.is_file() and path.parent == PACKAGE / "checkpoints"
    assert path.stat().st_size < 3_000_000
    ckpt = torch.load(path, map_location="cpu", weights_only=True)  # no pickled code
    assert all(
        v.dtype == torch.float16 for v in ckpt["state_dict"].values() if v.is_floating_point()
    )
    assert (PACKAGE / "checkpoints" / "MODEL_CARD.md").is_file()


def test_model_attributes(model):
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert model.num_classes == 10 and model.null_label == 10
    assert model.prediction_type == "epsilon" and model.schedule == "cosine"
    assert model.alphas_cumprod.dtype == torch.float64
    # the schedule it was trained with is the library's cosine schedule (independent rebuild)
    assert torch.allclose(model.alphas_cumprod, make_schedule("cosine", 1000), rtol=0, atol=1e-15)
    x = torch.randn(3, 1, 8, 8)
    assert model(x, torch.tensor([999, 500, 0]), torch.tensor([1, 2, 10])).shape == (3, 1, 8, 8)


def test_guided_samples_are_read_as_their_class(model):
    """Fast smoke check (the card's figures come from scripts/train_digits_model.py)."""
    labels = torch.arange(10).repeat(10)  # (100,)
    g = torch.Generator().manual_seed(0)
    x = ddim_sample(
        model,
        (100, 1, 8, 8),
        model.alphas_cumprod,
        20,
        g,
        labels=labels,
        guidance_scale=2.0,
        clip_sample=True,
    )
    assert DigitsJudge().accuracy(x, labels) >= 0.9


def test_missing_checkpoint_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DIFFCOURSE_DIGITS_CHECKPOINT", str(tmp_path / "missing.pt"))
    assert checkpoint_path() == tmp_path / "missing.pt"
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_digits_model()
    bad = tmp_path / "bad.pt"
    torch.save({"weights": torch.zeros(2)}, bad)
    with pytest.raises(ValueError, match="not a diffcourse model checkpoint"):
        load_digits_model(path=bad)


@pytest.mark.parametrize("name", SUPPORT_FILES)
def test_support_files_import_nothing_students_must_write(name):
    tree = ast.parse((PACKAGE / name).read_text())
    stdlib = set(sys.stdlib_module_names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:  # relative: only another support file
                assert f"{node.module}.py" in SUPPORT_FILES, (name, node.module)
                continue
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top in ("models", "pretrained", "judge", "plotting"):
                continue  # the vendored, flat form of a sibling support file
            assert top in ALLOWED_THIRD_PARTY or top in stdlib, (name, module)


def test_support_files_work_vendored_without_the_package(tmp_path):
    """Copied flat into a student folder with the checkpoint, they load and judge on their own."""
    for name in SUPPORT_FILES:
        shutil.copy(PACKAGE / name, tmp_path / name)
    (tmp_path / "checkpoints").mkdir()
    shutil.copy(checkpoint_path(), tmp_path / "checkpoints" / checkpoint_path().name)
    code = (
        "import sys, torch\n"
        "import pretrained, judge, plotting, models\n"
        "m = pretrained.load_digits_model()\n"
        "x = torch.zeros(2, 1, 8, 8)\n"
        "assert m(x, torch.tensor([5, 900])).shape == x.shape\n"
        "assert judge.DigitsJudge().predict(x).shape == (2,)\n"
        "assert not any(k == 'diffcourse' or k.startswith('diffcourse.') for k in sys.modules)\n"
        "print('ok', pretrained.checkpoint_path())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "checkpoints") in result.stdout


@pytest.mark.gpu
def test_loads_on_cuda():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    m = load_digits_model(device="cuda")
    assert m.alphas_cumprod.is_cuda and next(m.parameters()).is_cuda
    x = torch.randn(4, 1, 8, 8, device="cuda")
    assert m(x, torch.tensor([1, 2, 3, 4], device="cuda")).is_cuda
