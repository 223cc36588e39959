"""Base classes of every configuration object: :class:`Section` (a TOML table) and :class:`Spec` (a
registered component that builds something).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_serializer, model_validator

from lamina.registry import KINDS, registry

__all__ = ["Section", "Spec", "UnknownKey", "RenamedKey"]


@dataclass(frozen=True)
class UnknownKey:
    """Stands in for the value of a key a section does not know, so the error can suggest a valid key."""

    key: str
    value: Any
    valid: tuple[str, ...]

    def message(self) -> str:
        """The problem in words, with the closest valid key."""
        close = difflib.get_close_matches(self.key, self.valid, n=1, cutoff=0.6)
        hint = f" did you mean {close[0]!r}?" if close else ""
        valid = ", ".join(self.valid) or "(none)"
        return f"unknown key {self.key!r};{hint} valid keys: {valid}"


@dataclass(frozen=True)
class RenamedKey(UnknownKey):
    """Stands in for the value of a key that was renamed; the error says what replaced it."""

    now: str = ""

    def message(self) -> str:
        """``'cd_k' is now 'k'`` (``now`` is the new key's name, quoted, and any note)."""
        return f"{self.key!r} is now {self.now}"


class Section(BaseModel):
    """A table of an experiment file: unknown keys are errors, values are never coerced across types.

    ``strict`` keeps ``epochs = "5"`` an error instead of quietly becoming 5; an int is still accepted
    where a float is expected.
    """

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, protected_namespaces=())

    # an old key -> its replacement, quoted, with any note (``{"cd_k": "'k'"}``): the error names the new key
    renamed_keys: ClassVar[dict[str, str]] = {}
    # named settings (a paper's schedule): ``preset = "name"`` fills in the keys the table does not give; the
    # section declares a ``preset`` field listing them. Defaults stay the constructor's (issue 25).
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _mark_unknown_keys(cls, data: Any) -> Any:
        # Wrapping the value (rather than raising here) lets pydantic go on to report the other fields'
        # problems too; the problem formatter turns the wrapper into a did-you-mean.
        if isinstance(data, dict):
            data = cls._drop_own_name(data)
            if isinstance(data.get("preset"), str) and data["preset"] in cls.presets:
                data = {**cls.presets[data["preset"]], **data}
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
            valid = tuple(sorted(known))
            renamed = cls.renamed_keys
            data = {
                k: RenamedKey(str(k), v, valid, renamed[k]) if k in renamed and k not in known else v
                for k, v in data.items()
            }
            # tuples become lists: TOML has only lists, and strict mode would refuse a tuple from Python
            data = {
                k: (list(v) if isinstance(v, tuple) else v)
                if k in known or isinstance(v, RenamedKey)
                else UnknownKey(str(k), v, valid)
                for k, v in data.items()
            }
        return data

    @classmethod
    def _drop_own_name(cls, data: dict) -> dict:
        return data


class Spec(Section):
    """A registered component: validated options plus a ``build`` method.

    Subclasses are registered with :func:`lamina.registry.register`; the registry sets ``registered_name``
    and ``registry_kind``. Dumping a spec writes its name back under its registry's key, so every component
    round-trips through its config.
    """

    registered_name: ClassVar[str] = ""
    registry_kind: ClassVar[str] = ""
    # the class whose constructor (or the function whose signature) declares the options (issue 25)
    target_class: ClassVar[type | Callable[..., Any] | None] = None
    # the target's keywords the builder supplies (sizes, built modules): no field stands for them as they are
    excluded_options: ClassVar[tuple[str, ...]] = ()
    _name: str | None = PrivateAttr(default=None)

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The fields that are keyword options of :attr:`target_class`'s constructor, in field order."""
        if cls.target_class is None:
            return ()
        from lamina.config.component import options_of

        taken = options_of(cls.target_class)
        return tuple(n for n in cls.model_fields if n in taken)

    def options(self, **changes: Any) -> dict[str, Any]:
        """``{name: value}`` of :meth:`option_names`, with ``changes`` applied: ``Target(**spec.options())``.
        A field holding a component (an optimizer table) is passed as that component's ``build``."""
        values = {n: getattr(self, n) for n in self.option_names()}
        built = {n: v.build if isinstance(v, Spec) else v for n, v in values.items()}  # type: ignore[attr-defined]
        return {**built, **changes}

    @classmethod
    def _drop_own_name(cls, data: dict) -> dict:
        # A spec written out names itself (``type = "early_stopping"``); where a field holds this class directly
        # (not through the registry), that key comes back and is accepted if it names this very class.
        key = KINDS.get(cls.registry_kind)
        if key is None or key not in data or key in cls.model_fields or not cls.registry_kind:
            return data
        name = data[key]
        if (
            isinstance(name, str)
            and name in registry(cls.registry_kind)
            and registry(cls.registry_kind).lookup(name) is cls
        ):
            return {k: v for k, v in data.items() if k != key}
        return data

    @property
    def type_name(self) -> str:
        """The name this spec was given in the config (an alias stays an alias)."""
        return self._name or self.registered_name

    @model_serializer(mode="wrap")
    def _serialize_with_name(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        key = KINDS.get(self.registry_kind, "type")
        return {key: self.type_name, **data} if self.type_name else data

    def to_config(self) -> dict[str, Any]:
        """The spec as a TOML-ready table, defaults included (``{"type": "dense", "units": 10, ...}``)."""
        return self.model_dump(mode="json", exclude_none=True)
