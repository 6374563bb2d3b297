"""dlink.record.Record: what the replaced dataclasses gave, read from __slots__."""

from __future__ import annotations

import pytest

from dlink.record import Record


class Point(Record):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int = 0) -> None:
        self.x = x
        self.y = y


class Point3(Point):
    __slots__ = ("z",)

    def __init__(self, x: int, y: int = 0, z: int = 0) -> None:
        super().__init__(x, y)
        self.z = z


class Other(Record):
    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


def test_fields_follow_the_hierarchy_in_declaration_order() -> None:
    assert Point._fields == ("x", "y")
    assert Point3._fields == ("x", "y", "z")


def test_equality_and_hash_are_by_value_and_class() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert hash(Point(1, 2)) == hash(Point(1, 2))
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2
    # Same values, different record types: not equal, as with dataclasses.
    assert Point(1, 2) != Other(1, 2)
    assert Point(1, 2) != (1, 2)
    assert Point3(1, 2, 0) != Point(1, 2)


def test_repr_names_every_field() -> None:
    assert repr(Point3(1, 2, 3)) == "Point3(x=1, y=2, z=3)"
    assert repr(Point(1, y=-1)) == "Point(x=1, y=-1)"


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    original = Point3(1, 2, 3)
    changed = original.replace(z=9)
    assert changed == Point3(1, 2, 9)
    assert original == Point3(1, 2, 3)
    assert type(changed) is Point3
    with pytest.raises(TypeError, match="no field 'w'"):
        original.replace(w=1)


def test_no_instance_dict() -> None:
    with pytest.raises(AttributeError):
        Point(1).extra = 1  # type: ignore[attr-defined]
