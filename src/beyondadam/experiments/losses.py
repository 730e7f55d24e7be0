"""How a task scores its model's output: one :class:`Objective` per kind of loss.

A task's loss is not always cross-entropy on labels: an autoencoder's reads the input it
reconstructs, and the noisy quadratic's model returns its own per-example loss. Each kind is one
class here with the same four operations, used by both engines (the plain loop through
:meth:`Objective.mean` / :meth:`Objective.total`, the batched engine through
:meth:`Objective.stacked` / :meth:`Objective.stacked_total`), so no engine switches on a name.

Shapes: ``out`` is the model's output for a minibatch ``x`` (the preprocessed input) with labels
``y``; in the stacked forms ``z`` carries a leading config axis ``C`` and ``x``/``y`` are either
shared by all copies (no config axis) or one per copy.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["CROSS_ENTROPY", "MODEL_OUTPUT", "RECONSTRUCTION", "Objective"]


class Objective:
    """A loss: its minibatch mean, its sum (for evaluation) and its stacked forms.

    Attributes:
        name: short id (``"cross-entropy"``, ...), for messages and docs.
        has_accuracy: whether the output is class logits scored by top-1 accuracy.
        stackable: whether :meth:`stacked` is available (the batched engine needs it).

    """

    name = ""
    has_accuracy = False
    stackable = False

    def mean(self, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """The minibatch's mean loss (a 0-d tensor the plain loop backpropagates)."""
        raise NotImplementedError

    def total(self, out: Tensor, x: Tensor, y: Tensor) -> float:
        """The loss summed over the examples (an evaluation chunk)."""
        raise NotImplementedError

    def correct(self, out: Tensor, y: Tensor) -> int:
        """Examples whose top-1 class is the label (only when :attr:`has_accuracy`)."""
        return int((out.argmax(-1) == y).sum())

    def stacked(self, z: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """Per-copy mean loss ``(C,)`` and its gradient with respect to ``z`` (may reuse ``z``)."""
        raise NotImplementedError(f"the {self.name} loss has no stacked form")

    def stacked_total(self, z: Tensor, x: Tensor, y: Tensor) -> Tensor:
        """Per-copy loss summed over the examples, ``(C,)`` float64."""
        raise NotImplementedError(f"the {self.name} loss has no stacked form")

    def stacked_correct(self, z: Tensor, y: Tensor) -> Tensor:
        """Per-copy count of correct top-1 classes ``(C,)``."""
        return (z.argmax(2) == y).sum(1)

    def __repr__(self) -> str:
        return f"Objective({self.name!r})"


class _CrossEntropy(Objective):
    """Softmax cross-entropy of class logits against integer labels."""

    name = "cross-entropy"
    has_accuracy = True
    stackable = True

    def mean(self, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
        return nn.functional.cross_entropy(out, y)

    def total(self, out: Tensor, x: Tensor, y: Tensor) -> float:
        return float(nn.functional.cross_entropy(out, y, reduction="sum"))

    def stacked(self, z: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        C, B = z.shape[0], z.shape[1]
        logp = torch.log_softmax(z, dim=2)
        yy = (y.expand(C, B) if y.dim() == 1 else y).unsqueeze(2)
        loss = -logp.gather(2, yy).squeeze(2).mean(1)
        # d(mean CE)/dz = (softmax - onehot) / B, formed in place from logp.
        d = logp.exp_()
        d.scatter_add_(2, yy, torch.full_like(yy, -1.0, dtype=d.dtype)).mul_(1.0 / B)
        return loss, d

    def stacked_total(self, z: Tensor, x: Tensor, y: Tensor) -> Tensor:
        C, B = z.shape[0], z.shape[1]
        ce = nn.functional.cross_entropy(z.reshape(C * B, -1), y.repeat(C), reduction="none")
        return ce.view(C, -1).sum(1).double()


class _Reconstruction(Objective):
    """Bernoulli reconstruction of the input: sigmoid cross-entropy of logits against ``x``.

    Summed over the pixels of an image, averaged over the images (nats per image), so the loss
    does not shrink with the image size. ``x`` must lie in ``[0, 1]``.
    """

    name = "reconstruction"
    stackable = True

    def mean(self, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
        return (
            nn.functional.binary_cross_entropy_with_logits(out, x, reduction="sum") / out.shape[0]
        )

    def total(self, out: Tensor, x: Tensor, y: Tensor) -> float:
        return float(nn.functional.binary_cross_entropy_with_logits(out, x, reduction="sum"))

    def stacked(self, z: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        B = z.shape[1]
        t = x.expand_as(z)
        loss = (
            nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none").sum((1, 2)) / B
        )
        # d(sum over pixels, mean over images)/dz = (sigmoid(z) - x) / B
        d = torch.sigmoid(z).sub_(t).mul_(1.0 / B)
        return loss, d

    def stacked_total(self, z: Tensor, x: Tensor, y: Tensor) -> Tensor:
        bce = nn.functional.binary_cross_entropy_with_logits(z, x.expand_as(z), reduction="none")
        return bce.sum((1, 2)).double()


class _ModelOutput(Objective):
    """The model's output is its per-example loss ``(B,)`` (the noisy quadratic)."""

    name = "model-output"

    def mean(self, out: Tensor, x: Tensor, y: Tensor) -> Tensor:
        return out.mean()

    def total(self, out: Tensor, x: Tensor, y: Tensor) -> float:
        return float(out.double().sum())


#: softmax cross-entropy on labels (classifiers).
CROSS_ENTROPY: Objective = _CrossEntropy()
#: sigmoid cross-entropy against the input (autoencoders).
RECONSTRUCTION: Objective = _Reconstruction()
#: the model's own output (models that compute their loss).
MODEL_OUTPUT: Objective = _ModelOutput()
