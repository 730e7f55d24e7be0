"""Shared fixtures."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from tests.datasets import DATA, HAS_MNIST


@pytest.fixture
def one_torch_thread():
    """One torch thread: tiny models, and a shared machine must not be oversubscribed."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST (skips the test when the files are absent)."""
    if not HAS_MNIST:
        pytest.skip("real MNIST absent: set BEYONDADAM_DATA to a directory with mnist/")
    from beyondadam.experiments import load_dataset

    return load_dataset("mnist", str(DATA))


def sigterm_after(step_to_kill: int):
    """A progress callback that sends this process SIGTERM after iteration ``step_to_kill``."""
    seen = {"n": 0}

    def progress(n, loss):
        seen["n"] += n
        if seen["n"] == step_to_kill:
            os.kill(os.getpid(), signal.SIGTERM)

    return progress
