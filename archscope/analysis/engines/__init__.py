"""Counting engines: each turns one forward into a :class:`~archscope.analysis.records.ModelRecord`.

Engines differ only in how they find the ops (torch's dispatcher on the meta device, or
fvcore's TorchScript trace); both cost every op through the one registry
(:mod:`archscope.analysis.costs`) and record every module call through the one recorder
(:mod:`.recorder`). That is what makes their agreement a check. :mod:`.base` holds the engine
registry, importable without torch so ``--help`` can list the choices.
"""

from .base import DEFAULT_ENGINE, ENGINES, EngineInfo, engine_help, engine_names, get_engine, register_engine

__all__ = ["DEFAULT_ENGINE", "ENGINES", "EngineInfo", "engine_help", "engine_names", "get_engine",
           "register_engine"]
