"""The engine interface and registry (no torch import: the CLI builds its choices from here).

An engine is an object with a ``name`` and ``record(model, inputs, name=...) -> ModelRecord``.
Register one with :func:`register_engine` (its module is imported on first use); the CLI's
``--engine`` choices and help, the Python API and the tables all read this registry, so a third
engine needs no change anywhere else.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import ArchscopeError

if TYPE_CHECKING:
    from ...inputs import ModelInputs
    from ..records import ModelRecord


class Engine(Protocol):
    name: str

    def record(self, model: Any, inputs: ModelInputs, *, name: str) -> ModelRecord: ...


@dataclass(frozen=True)
class EngineInfo:
    """A registered engine: its name, the module that defines ``ENGINE``, and one line of help."""

    name: str
    module: str
    help: str


ENGINES: dict[str, EngineInfo] = {}
DEFAULT_ENGINE = "meta"


def register_engine(info: EngineInfo) -> None:
    if info.name in ENGINES:
        raise ValueError(f"engine {info.name!r} is registered already")
    ENGINES[info.name] = info


def engine_names() -> list[str]:
    return list(ENGINES)


def engine_help() -> str:
    """One sentence per engine, the default first (the CLI's ``--engine`` help)."""
    return "; ".join(f"{e.name}{' (default)' if e.name == DEFAULT_ENGINE else ''}: {e.help}"
                     for e in ENGINES.values())


def get_engine(name: str) -> Engine:
    """The engine registered as ``name``; an unknown name is one sentence."""
    info = ENGINES.get(str(name))
    if info is None:
        raise ArchscopeError(f"unknown engine {name!r}; use {' or '.join(ENGINES)}")
    return importlib.import_module(info.module).ENGINE


register_engine(EngineInfo(
    "meta", "archscope.analysis.engines.meta",
    "torch's dispatcher on the meta device: no arithmetic and no activation memory, any input "
    "size"))
register_engine(EngineInfo(
    "fvcore", "archscope.analysis.engines.fvcore",
    "fvcore's TorchScript trace of a real CPU forward (zero-filled weights)"))
