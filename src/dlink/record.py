"""Value records without the import-time cost of dataclasses.

`@dataclass` writes the source of `__init__`, `__repr__`, `__eq__` (and, frozen, of
`__setattr__`, `__delattr__`, `__hash__`) and compiles it when the module is imported:
0.1-0.4 ms a class on a CI runner. dlink starts once per commit and per editor save,
and the 53 dataclasses on the `check` path cost about 22 ms of a 98 ms run. Classes on
that path are therefore plain slotted classes with a hand-written `__init__`; this base
gives them, written once, what the decorator generated: equality, hashing, a readable
repr and `replace`, all read from `__slots__` along the class hierarchy.

A Record is immutable by convention (nothing assigns to a field after `__init__`), as
its hash depends on its values. Classes whose instances change after construction
(a stage being built, a run's counters) are plain slotted classes without this base.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Self


class Record:
    __slots__ = ()
    # Every field in declaration order, base classes first; set for each subclass.
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            names.extend((slots,) if isinstance(slots, str) else slots)
        cls._fields = tuple(names)

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self.__class__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed; every field must be an `__init__` keyword."""
        values = {name: getattr(self, name) for name in self._fields}
        unknown = changes.keys() - values.keys()
        if unknown:
            raise TypeError(f"{self.__class__.__qualname__} has no field {min(unknown)!r}")
        values.update(changes)
        return self.__class__(**values)
