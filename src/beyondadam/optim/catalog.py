"""The catalog of optimizers: one line per optimizer, read by every layer.

Adding an optimizer touches its module (the class and its ``ENTRY``), its oracle (a peer package
or a float64 reference in ``tests/reference.py``) and one line below; the generic tests, the
simulator, the CLI and the docs pick it up from here, and ``tests/test_catalog.py`` fails until
every part of the entry is complete.
"""

from __future__ import annotations

from beyondadam.optim import (
    adabelief,
    adabound,
    adadelta,
    adagrad,
    adam,
    adamnc,
    adamx,
    adopt,
    amsgrad,
    nadam,
    nosadam,
    padam,
    radam,
    rmsprop,
    sgd,
    yogi,
)
from beyondadam.optim._entry import Entry, Oracle

ENTRIES: tuple[Entry, ...] = (
    sgd.SGD_ENTRY,
    sgd.MOMENTUM_ENTRY,
    sgd.NAG_ENTRY,
    adagrad.ENTRY,
    rmsprop.ENTRY,
    adadelta.ENTRY,
    adam.ENTRY,
    nadam.ENTRY,
    amsgrad.ENTRY,
    adamnc.ENTRY,
    radam.ENTRY,
    adopt.ENTRY,
    adabelief.ENTRY,
    adabound.ADABOUND_ENTRY,
    adabound.AMSBOUND_ENTRY,
    yogi.ENTRY,
    padam.ENTRY,
    adamx.ENTRY,
    nosadam.ENTRY,
)

#: lowercase name -> entry, in catalog order.
CATALOG: dict[str, Entry] = {e.key: e for e in ENTRIES}


def get(name: str) -> Entry:
    """The entry for ``name`` (any case); ``ValueError`` listing the choices otherwise."""
    try:
        return CATALOG[str(name).lower()]
    except KeyError:
        choices = ", ".join(e.name for e in ENTRIES)
        raise ValueError(f"unknown optimizer {name!r}; choose from {choices}") from None


__all__ = ["CATALOG", "ENTRIES", "Entry", "Oracle", "get"]
