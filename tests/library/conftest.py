"""Shared fixtures for the diffusion-library tests (tests/library/ only)."""

import pytest
import torch

from diffcourse.schedules import make_schedule

# Per-sample timesteps that expose "used t[0] for the whole batch", the t = 0
# special case and the t = T-1 end of the schedule.
MIXED_T = [999, 500, 37, 1, 0]


@pytest.fixture
def one_thread():
    """Run a test on one intra-op thread, then restore the setting.

    Used by the mathematics test modules (``pytestmark = pytest.mark.usefixtures``).

    These tests use small tensors; on a busy 2-core machine two OpenMP threads
    contend and small elementwise ops ran ~100x slower than on one.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=["linear", "cosine"])
def abar(request):
    """alphas_cumprod (float64, T = 1000) of a schedule."""
    return make_schedule(request.param, 1000)


@pytest.fixture
def abar_cosine():
    return make_schedule("cosine", 1000)


@pytest.fixture
def mixed_t():
    return torch.tensor(MIXED_T, dtype=torch.int64)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.fixture
def randn():
    """randn(*shape, seed=0, dtype=float64): reproducible standard normal test inputs."""
    return _randn
