"""beyondadam: the optimizers of "On the Convergence of Adam and Beyond" (Reddi, Kale, Kumar, 2018).

Subpackages:

- :mod:`beyondadam.optim`: exact, fast ``torch.optim.Optimizer`` implementations
  (SGD ... NAdam, AMSGrad in three flavors, AdamNC) with the paper's weighted projections.
- :mod:`beyondadam.sim`: compiled simulation of the paper's non-convergence counterexamples.
- :mod:`beyondadam.experiments`: the paper's training experiments, a resumable result store, sweeps.
- :mod:`beyondadam.reporting`: the report that checks each claim of the paper.
- :mod:`beyondadam.cli`: the ``beyondadam`` command (``beyondadam --help``), on top of them all.

Importing this package imports nothing else, so ``beyondadam --help`` starts fast.
"""

__version__ = "0.1.0"
