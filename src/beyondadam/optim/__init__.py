"""Exact, fast PyTorch optimizers for "On the Convergence of Adam and Beyond".

Every class is a ``torch.optim.Optimizer`` whose docstring states its update in math, with a
single-tensor reference path, a multi-tensor (``torch._foreach_*``) path (``foreach=True``) and,
wherever torch has a fused kernel for the same arithmetic (the SGD family, AdaGrad, and every
member of the Adam family with Adam's shape: Adam, AMSGrad, AdamNC, RAdam, Padam with
``partial=0.5``, AdamX, NosAdam), that kernel, the default on CPU and CUDA. A param group may carry
``constraint=`` (:class:`Box`, :class:`L2Ball`, :class:`L1Ball`) for the paper's projection in the
preconditioner-weighted norm.

``CATALOG`` (:mod:`beyondadam.optim.catalog`) maps lowercase names to each optimizer's
:class:`~beyondadam.optim.catalog.Entry` (class, defaults, checks, oracles, simulator rule);
``OPTIMIZERS`` maps the same names to the classes.
"""

from __future__ import annotations

from beyondadam.optim._base import BeyondOptimizer
from beyondadam.optim.adabelief import AdaBelief
from beyondadam.optim.adabound import AdaBound, AMSBound
from beyondadam.optim.adadelta import AdaDelta
from beyondadam.optim.adagrad import AdaGrad
from beyondadam.optim.adam import Adam
from beyondadam.optim.adamnc import AdamNC
from beyondadam.optim.adamx import AdamX
from beyondadam.optim.adopt import ADOPT
from beyondadam.optim.amsgrad import FLAVORS, AMSGrad
from beyondadam.optim.catalog import CATALOG, Entry, get
from beyondadam.optim.constraints import Box, Constraint, L1Ball, L2Ball
from beyondadam.optim.nadam import NAdam
from beyondadam.optim.nosadam import NosAdam
from beyondadam.optim.padam import Padam
from beyondadam.optim.radam import RAdam
from beyondadam.optim.rmsprop import RMSProp
from beyondadam.optim.sgd import NAG, SGD, Momentum
from beyondadam.optim.yogi import Yogi

OPTIMIZERS: dict[str, type[BeyondOptimizer]] = {key: e.cls for key, e in CATALOG.items()}

__all__ = [
    "ADOPT",
    "CATALOG",
    "FLAVORS",
    "NAG",
    "OPTIMIZERS",
    "SGD",
    "AMSBound",
    "AMSGrad",
    "AdaBelief",
    "AdaBound",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamNC",
    "AdamX",
    "BeyondOptimizer",
    "Box",
    "Constraint",
    "Entry",
    "L1Ball",
    "L2Ball",
    "Momentum",
    "NAdam",
    "NosAdam",
    "Padam",
    "RAdam",
    "RMSProp",
    "Yogi",
    "get",
]
