"""C stacked copies of a sequential model: one forward and backward pass trains them all.

The model is read from its ``nn.Module`` (:mod:`beyondadam.experiments.models`), never written a
second time: a model whose layers are ``nn.Linear`` and ``nn.ReLU`` in sequence (an
``nn.Sequential``, as ``LogReg`` and ``MLP``) becomes a list of layer kinds, and each kind has one
stacked rule here, forward and backward, for parameters stacked along a leading "config" axis
(weight ``(C, O, I)``, bias ``(C, O)``). The minibatch is either shared by all C copies (``x`` of
shape ``(B, I)``: one matrix product against all C weight matrices at once) or one per copy
(``(C, B, I)``: batched products). The backward pass is written out per layer kind rather than
taken from autograd or ``torch.func.vmap``: both were measured to change the floating-point order
(and vmap the speed), while these rules keep the batched engine's curves bit-identical to before.
The loss at the top is the task's :class:`~beyondadam.experiments.losses.Objective` (its stacked
form gives the gradient with respect to the output), so an autoencoder stacks as a classifier does.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from beyondadam.experiments.losses import CROSS_ENTROPY, Objective

__all__ = ["StackedModel", "stackable"]


def stackable(model: nn.Module) -> bool:
    """Whether ``model`` is a sequence of ``nn.Linear`` (with bias) and ``nn.ReLU`` layers."""
    return isinstance(model, nn.Sequential) and all(
        (isinstance(m, nn.Linear) and m.bias is not None) or isinstance(m, nn.ReLU) for m in model
    )


def _linear(h: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``h @ w^T + b`` per copy: ``(C, B, O)`` from ``h`` ``(B, I)`` (shared) or ``(C, B, I)``."""
    if h.dim() == 2:
        C, n_out, _ = w.shape
        out = (h @ w.reshape(C * n_out, -1).T).view(-1, C, n_out)
        return out.transpose(0, 1) + b.unsqueeze(1)
    return torch.bmm(h, w.transpose(1, 2)) + b.unsqueeze(1)


def _linear_weight_grad(d: Tensor, h: Tensor) -> Tensor:
    """dL/dw ``(C, O, I)`` of a layer ``h @ w^T`` with output gradient ``d`` ``(C, B, O)``."""
    if h.dim() == 2:
        C, B, n_out = d.shape
        return (d.permute(0, 2, 1).reshape(C * n_out, B) @ h).view(C, n_out, -1)
    return torch.bmm(d.transpose(1, 2), h)


class StackedModel:
    """Forward and backward passes of C stacked copies of a :func:`stackable` model.

    ``params`` are the model's parameters in ``model.parameters()`` order, each stacked along a
    leading config axis (see :meth:`stack`).
    """

    def __init__(self, model: nn.Module) -> None:
        if not stackable(model):
            raise ValueError(
                f"model must be a sequence of nn.Linear and nn.ReLU layers, got {type(model)}"
            )
        self.kinds = ["linear" if isinstance(m, nn.Linear) else "relu" for m in model]

    @staticmethod
    def stack(models: list[nn.Module]) -> list[Tensor]:
        """The parameters of ``models`` (same architecture) stacked along a new leading axis."""
        per_model = [[p.detach() for p in m.parameters()] for m in models]
        return [torch.stack(ps) for ps in zip(*per_model, strict=True)]

    def _forward(self, params: list[Tensor], x: Tensor) -> tuple[Tensor, list[Tensor]]:
        """Logits ``(C, B, K)`` and each layer's input (what its backward rule needs)."""
        h, inputs, i = x, [], 0
        for kind in self.kinds:
            inputs.append(h)
            if kind == "linear":
                h = _linear(h, params[i], params[i + 1])
                i += 2
            else:
                h = torch.relu(h)
        return h, inputs

    @torch.no_grad()
    def logits(self, params: list[Tensor], x: Tensor) -> Tensor:
        """Logits ``(C, B, K)``; ``x`` is ``(B, I)`` (shared by all copies) or ``(C, B, I)``."""
        return self._forward(params, x)[0]

    @torch.no_grad()
    def loss_and_grads(
        self, params: list[Tensor], x: Tensor, y: Tensor, objective: Objective = CROSS_ENTROPY
    ) -> tuple[Tensor, list[Tensor]]:
        """Per-copy mean loss ``(C,)`` of ``objective`` and its gradients (as ``params``).

        ``x`` is ``(B, I)`` with ``y`` ``(B,)`` (a minibatch shared by all copies) or ``(C, B, I)``
        with ``y`` ``(C, B)``. The loss is the task's (:mod:`beyondadam.experiments.losses`):
        cross-entropy on ``y`` by default, or e.g. a reconstruction of ``x``.
        """
        z, inputs = self._forward(params, x)
        loss, d = objective.stacked(z, x, y)
        grads: list[Tensor] = [torch.empty(0)] * len(params)
        i = len(params)
        for layer in range(len(self.kinds) - 1, -1, -1):
            h = inputs[layer]
            if self.kinds[layer] == "relu":
                d = d.mul_(h > 0)
                continue
            i -= 2
            grads[i], grads[i + 1] = _linear_weight_grad(d, h), d.sum(1)
            if layer > 0:  # the input of the first layer needs no gradient
                d = torch.bmm(d, params[i])
        return loss, grads
