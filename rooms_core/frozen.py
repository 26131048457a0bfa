"""A quicker ``__init__`` for the frozen, slotted dataclasses made on the hot paths.

A frozen dataclass's generated ``__init__`` writes each field with
``object.__setattr__(self, name, value)``, a lookup and a generic call per field: about
twice the time of a mutable one. The simulator makes a dozen such value objects per bet
(postings, journal entries, audit records, quotes, results), a few million a run. A slotted
class keeps each field in a slot whose descriptor can write it directly, which is what
:func:`quick_init` has the ``__init__`` do. The instance is the same (same slots, same
defaults, ``__post_init__`` still runs, assignment still raises ``FrozenInstanceError``);
only its making is quicker.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")


def quick_init(cls: type[_T]) -> type[_T]:
    """Replace the ``__init__`` of a frozen, slotted dataclass by one that writes its slots
    through their descriptors. Apply it above ``@dataclass(frozen=True, slots=True)``.

    Supported: positional-or-keyword fields, plain defaults and ``__post_init__`` without
    init-only variables. Anything else (``default_factory``, ``kw_only``, ``init=False``,
    ``InitVar``) raises ``TypeError``: such a class keeps the generated ``__init__``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"quick_init({cls.__name__}) needs a frozen, slotted dataclass")
    declared: dict[str, dataclasses.Field[Any]] = cls.__dataclass_fields__  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {}
    arguments: list[str] = []
    body: list[str] = []
    for index, field in enumerate(declared.values()):
        if field._field_type is not dataclasses._FIELD:  # type: ignore[attr-defined]
            if field._field_type is dataclasses._FIELD_CLASSVAR:  # type: ignore[attr-defined]
                continue
            raise TypeError(f"quick_init({cls.__name__}): init-only field {field.name}")
        if not field.init or field.kw_only is True:
            raise TypeError(f"quick_init({cls.__name__}): field {field.name} is not positional")
        if field.default_factory is not dataclasses.MISSING:
            raise TypeError(f"quick_init({cls.__name__}): field {field.name} has a factory")
        name = field.name
        if field.default is dataclasses.MISSING:
            arguments.append(name)
        else:
            namespace[f"_default_{index}"] = field.default
            arguments.append(f"{name}=_default_{index}")
        namespace[f"_set_{index}"] = getattr(cls, name).__set__
        body.append(f"    _set_{index}(self, {name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    source = f"def __init__(self, {', '.join(arguments)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # as dataclasses itself makes __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
