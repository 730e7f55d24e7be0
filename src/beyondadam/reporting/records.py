"""Frozen dataclasses that round-trip through JSON, field by field, from their annotations.

:class:`JsonRecord` is the base of every stage's numbers (:mod:`beyondadam.reporting.numbers`,
:mod:`beyondadam.reporting.benchmark_stats`); it lives apart from them so that both can use it
and :mod:`~beyondadam.reporting.numbers` can still list every kind of stage numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, ClassVar, TypeVar, get_args, get_origin, get_type_hints

__all__ = ["JsonRecord"]

R = TypeVar("R", bound="JsonRecord")


def _dump(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    return value


def _load(tp: Any, value: Any) -> Any:
    """Build a value of type ``tp`` (as annotated on a record's field) from its JSON form."""
    origin, args = get_origin(tp), get_args(tp)
    if isinstance(tp, type) and issubclass(tp, JsonRecord):
        return tp.from_json(value)
    if origin is tuple:
        if isinstance(value, (str, Mapping)):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return tuple(_load(args[0], v) for v in value)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a mapping, got {type(value).__name__}")
        return {str(k): _load(args[1], v) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError(f"expected true or false, got {value!r}")
        return value
    if tp in (int, float, str):
        return tp(value)  # float("nan") reads back what save() wrote for a non-finite float
    return value  # Any


class JsonRecord:
    """``to_json``/``from_json`` for a frozen dataclass, field by field, from its annotations.

    Fields are stored under their own name unless :attr:`JSON_KEYS` renames them; records with a
    ``KIND`` store it under ``"kind"``. Tuples become lists and nested records their own JSON, so
    ``from_json(json.loads(json.dumps(r.to_json()))) == r``.
    """

    JSON_KEYS: ClassVar[dict[str, str]] = {}
    """Field name -> JSON key, where they differ."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data."""
        out: dict[str, Any] = {"kind": self.KIND} if hasattr(self, "KIND") else {}
        for f in fields(self):  # type: ignore[arg-type]
            out[self.JSON_KEYS.get(f.name, f.name)] = _dump(getattr(self, f.name))
        return out

    @classmethod
    def from_json(cls: type[R], obj: Mapping[str, Any]) -> R:
        """Inverse of :meth:`to_json`.

        Raises:
            KeyError: A field without default is absent. TypeError, ValueError: a wrong type.

        """
        if not isinstance(obj, Mapping):
            raise TypeError(f"{cls.__name__}: expected a mapping, got {type(obj).__name__}")
        hints = get_type_hints(cls)
        kwargs = {}
        for f in fields(cls):  # type: ignore[arg-type]
            key = cls.JSON_KEYS.get(f.name, f.name)
            if key in obj:
                kwargs[f.name] = _load(hints[f.name], obj[key])
            elif f.default is MISSING and f.default_factory is MISSING:
                raise KeyError(f"{cls.__name__}: missing {key!r}")
        return cls(**kwargs)
