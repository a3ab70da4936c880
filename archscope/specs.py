"""Model specs beyond the zoo: torchvision, timm, and the user's own factories.

A spec names a source and a name, separated by the LAST colon (so ``C:\\nets\\m.py:build`` works):

- ``torchvision:resnet50`` — ``torchvision.models.get_model("resnet50", weights=None)``;
- ``timm:resnet50`` — ``timm.create_model("resnet50", pretrained=False)``;
- ``package.module:factory`` — an importable module and a callable in it;
- ``path/to/file.py:factory`` — a Python file, loaded under a unique private module name.

The factory is called with the ``--kwargs`` options (none by default) and returns an ``nn.Module``,
``(module, input_size)`` with ``input_size`` one sample C×H×W (tuple or ``"3x64x64"``), or
``(module, example_inputs)`` with a tensor, a tuple of tensors or a dict of keyword tensors (their
shapes and dtypes are what the model is counted on; batch first).
For counting, models are built without initialising weights (``meta=True``: large tensors on the
meta device, see :mod:`archscope.building`); a constructor that needs real tensors is built
again on CPU, and a note says so. No weights are ever downloaded: torchvision gets
``weights=None``, timm ``pretrained=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .errors import ArchscopeError, closest, one_line
from .inputs import ModelInputs, TensorSpec, parse_input_size
from .streams import stdout_to_stderr

SPEC_FORMS = "torchvision:NAME, timm:NAME, package.module:factory or path/to/file.py:factory"

_TORCHVISION_DEFAULT_INPUT = (3, 224, 224)


@dataclass
class BuiltSpec:
    """A network built from a spec: display name, module, sample shape or example inputs if
    known, and notes on how it was built."""

    name: str
    model: Any
    sample_shape: tuple[int, ...] | None
    example: ModelInputs | None = None
    notes: tuple[str, ...] = ()


def is_spec(text: str) -> bool:
    """A spec has a colon; a zoo name never does."""
    return ":" in text


def is_pattern(text: str) -> bool:
    """A shell-style pattern (``resnet*``, ``torchvision:vit_?_16``, ``timm:convnext_*``)."""
    return any(c in text for c in "*?[")


def expand_specs(specs: list[str]) -> list[str]:
    """Model specs with every pattern replaced by the models it matches, in order, once each.

    ``resnet*`` matches zoo names; ``torchvision:PATTERN`` torchvision's classification models;
    ``timm:PATTERN`` timm's registry. A pattern that matches nothing is one sentence.
    """
    import fnmatch

    out: list[str] = []
    for spec in specs:
        if not is_pattern(spec):
            out.append(spec)
            continue
        source, _, name = spec.rpartition(":")
        if not source:
            from .zoo import list_models

            found = list_models(name)
        elif source == "torchvision":
            _optional("torchvision", spec)
            models = importlib.import_module("torchvision.models")
            found = [f"torchvision:{n}" for n in models.list_models(module=models)
                     if fnmatch.fnmatchcase(n, name)]
        elif source == "timm":
            timm = _optional("timm", spec)
            found = [f"timm:{n}" for n in timm.list_models(name)]
        else:
            raise ArchscopeError(f"model pattern {spec!r}: patterns work on zoo names, "
                                 "torchvision:PATTERN and timm:PATTERN; give files one by one")
        if not found:
            raise ArchscopeError(f"no model matches {spec!r}; try `archscope list` or a wider "
                                 "pattern such as 'resnet*'")
        out.extend(found)
    return list(dict.fromkeys(out))


# Options that make torchvision or timm fetch pretrained weights over the network. Counting and
# timing never depend on weight values, and archscope never downloads: refused, not ignored.
DOWNLOAD_OPTIONS = {
    "torchvision": ("weights", "weights_backbone", "pretrained", "pretrained_backbone"),
    "timm": ("pretrained",),
}


class _SpecReentered(BaseException):
    """A factory ran archscope on its own spec again. A BaseException, so that no ``except
    Exception`` on the way (the inner CLI's included) turns it into more errors."""


# Specs being built now (not thread-safe, like the builds): a factory that runs archscope
# with its own spec, such as `archscope params archscope.cli:main`, would recurse.
_BUILDING: set[str] = set()


def build_spec(spec: str, kwargs: dict | None = None, meta: bool = False) -> BuiltSpec:
    """Build the network a spec names (for counting with ``meta``: no weights initialised, see
    :mod:`archscope.building`; else with real weights on CPU); every user mistake raises
    :class:`ArchscopeError`.

    The spec's code runs with its stdout sent to stderr (:func:`~archscope.streams.
    stdout_to_stderr`): a ``print`` in a model file must not corrupt ``-f json`` or ``-f csv``.
    """
    if spec in _BUILDING:
        raise _SpecReentered(spec)
    _BUILDING.add(spec)
    try:
        with stdout_to_stderr():
            return _build_spec(spec, kwargs, meta)
    except _SpecReentered:
        if len(_BUILDING) > 1:  # the outermost build reports it, once
            raise
        raise ArchscopeError(
            f"model spec {one_line(spec)!r} runs archscope on itself again instead of building a "
            "network; name a function that returns a torch.nn.Module"
        ) from None
    finally:
        _BUILDING.discard(spec)


def _refuse_downloads(spec: str, source: str, kwargs: dict) -> None:
    for key in DOWNLOAD_OPTIONS.get(source, ()):
        value = kwargs.get(key)
        if value not in (None, False):
            shown = str(value).lower() if isinstance(value, bool) else one_line(value, 40)
            raise ArchscopeError(
                f"--kwargs {key}={shown} would download pretrained weights "
                f"for {one_line(spec)!r}, and archscope never downloads (counts and timings do "
                f"not depend on weights); drop {key}"
            )


def _build_spec(spec: str, kwargs: dict | None, meta: bool) -> BuiltSpec:
    source, _, name = spec.rpartition(":")
    source, name = source.strip(), name.strip()
    if not source or not name:
        raise ArchscopeError(f"model spec {spec!r} needs a source and a name; give {SPEC_FORMS}")
    kwargs = dict(kwargs or {})
    _refuse_downloads(spec, source, kwargs)
    if source == "torchvision":
        return _torchvision(spec, name, kwargs, meta)
    if source == "timm":
        return _timm(spec, name, kwargs, meta)
    if not all(part.isidentifier() for part in name.split(".")):
        raise ArchscopeError(
            f"{name!r} in model spec {spec!r} is not a Python name; after the last colon give the "
            "factory function, e.g. my_model.py:build"
        )
    if source.endswith(".py") or "/" in source or os.sep in source:
        with _loaded_file(spec, source) as module:
            return _call_factory(spec, _attribute(spec, module, name), kwargs, meta)
    module = _import_module(spec, source)
    return _call_factory(spec, _attribute(spec, module, name), kwargs, meta)


# ---------------------------------------------------------------------------------------------
# Optional packages


def _optional(package: str, spec: str):
    try:
        return importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == package:
            raise ArchscopeError(
                f"model spec {spec!r} needs the optional package {package}, which is not "
                f"installed; install it with pip install 'archscope[{package}]'"
            ) from exc
        raise ArchscopeError(
            f"{package} is installed but failed to import ({one_line(exc)}); reinstall it "
            f"with pip install 'archscope[{package}]'"
        ) from exc
    except Exception as exc:  # a broken install (e.g. built against another torch)
        raise ArchscopeError(
            f"{package} is installed but failed to import ({type(exc).__name__}: "
            f"{one_line(exc)}); reinstall a version matching your torch"
        ) from exc


def _torchvision_default(models: Any, name: str) -> tuple[Any, dict]:
    """The DEFAULT weights' entry (metadata only, nothing downloaded) and the builder options
    torchvision itself sets from it (a ViT's ``image_size``, MaxViT's ``input_size``)."""
    try:
        weights = models.get_model_weights(name).DEFAULT
    except (AttributeError, KeyError, ValueError, TypeError):
        return None, {}
    size = (getattr(weights, "meta", None) or {}).get("min_size")
    options = {}
    if size and name.startswith("vit_"):
        options["image_size"] = size[0]
    elif size and name.startswith("maxvit_"):
        options["input_size"] = tuple(size)
    return weights, options


def _torchvision_input(weights: Any) -> tuple[int, ...]:
    """One sample at the default weights' transforms' crop size (3×224×224 without them)."""
    keywords = getattr(getattr(weights, "transforms", None), "keywords", None) or {}
    crop = keywords.get("crop_size")
    if isinstance(crop, int):
        return (3, crop, crop)
    if isinstance(crop, (list, tuple)) and crop:
        return (3, *(int(c) for c in crop)) if len(crop) == 2 else (3, int(crop[0]), int(crop[0]))
    return _TORCHVISION_DEFAULT_INPUT


def _torchvision(spec: str, name: str, kwargs: dict, meta: bool) -> BuiltSpec:
    tv = _optional("torchvision", spec)
    models = importlib.import_module("torchvision.models")
    known = list(models.list_models()) if hasattr(models, "list_models") else [
        n for n in dir(models) if not n.startswith("_") and callable(getattr(models, n))
    ]
    if name not in known:
        hint = closest(name, known)
        more = f"did you mean {', '.join(hint)}?" if hint else "see torchvision.models.list_models()"
        raise ArchscopeError(f"torchvision {getattr(tv, '__version__', '')} has no model {name!r}; {more}")
    classification = (
        name in models.list_models(module=models) if hasattr(models, "list_models") else True
    )
    weights, options = _torchvision_default(models, name) if classification else (None, {})
    for key, value in options.items():
        kwargs.setdefault(key, value)
    kwargs.setdefault("weights", None)  # never download weights
    # Detection and segmentation builders default to ImageNet backbone weights: none either.
    builder = (models.get_model_builder(name) if hasattr(models, "get_model_builder")
               else getattr(models, name, None))
    try:
        takes_backbone = "weights_backbone" in inspect.signature(builder).parameters
    except (TypeError, ValueError):  # no signature to read
        takes_backbone = False
    if takes_backbone:
        kwargs.setdefault("weights_backbone", None)
    if hasattr(models, "get_model"):
        model, notes = _call(spec, models.get_model, kwargs, name, meta=meta)
    else:
        model, notes = _call(spec, getattr(models, name), kwargs, meta=meta)
    shape = _torchvision_input(weights) if classification else None
    return BuiltSpec(spec, _check_module(spec, model), shape, notes=notes)


def _timm(spec: str, name: str, kwargs: dict, meta: bool) -> BuiltSpec:
    timm = _optional("timm", spec)
    if hasattr(timm, "is_model") and not timm.is_model(name):
        hint = closest(name, timm.list_models())
        more = f"did you mean {', '.join(hint)}?" if hint else "see timm.list_models()"
        raise ArchscopeError(f"timm has no model {name!r}; {more}")
    kwargs.setdefault("pretrained", False)  # never download weights
    model, notes = _call(spec, timm.create_model, kwargs, name, meta=meta)
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None) or {}
    shape = cfg.get("input_size") if isinstance(cfg, dict) else None
    return BuiltSpec(spec, _check_module(spec, model), tuple(shape) if shape else None,
                     notes=notes)


# ---------------------------------------------------------------------------------------------
# The user's own module


def _where(exc: BaseException, path: str | None = None) -> str:
    """`` (file.py line 12)`` for the deepest frame in the user's file, or the syntax error."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({Path(exc.filename).name} line {exc.lineno})"
    frames = traceback.extract_tb(exc.__traceback__)
    if path is not None:
        mine = [f for f in frames if os.path.abspath(f.filename) == path]
        frames = mine or frames
    if not frames:
        return ""
    return f" ({Path(frames[-1].filename).name} line {frames[-1].lineno})"


def _import_module(spec: str, dotted: str):
    if not all(part.isidentifier() for part in dotted.split(".")):
        raise ArchscopeError(
            f"{dotted!r} in model spec {spec!r} is neither a module name nor a .py file; give "
            f"{SPEC_FORMS}"
        )
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (dotted == missing or dotted.startswith(missing + ".")):
            raise ArchscopeError(
                f"cannot import {dotted!r} for model spec {spec!r}: no module named {missing!r}; "
                "check the spelling and that its folder is on PYTHONPATH, or give "
                "path/to/file.py:factory"
            ) from exc
        raise ArchscopeError(
            f"importing {dotted!r} failed{_where(exc)}: {type(exc).__name__}: {one_line(exc)}; "
            "install what it imports or fix the import"
        ) from exc
    except BaseException as exc:
        _reraise_ours(exc)
        raise ArchscopeError(
            f"importing {dotted!r} failed{_where(exc)}: {type(exc).__name__}: {one_line(exc)}; "
            "fix the module (run with --debug for the traceback)"
        ) from exc


@contextlib.contextmanager
def _on_path(folder: str) -> Iterator[None]:
    """The file's folder on sys.path while it loads, so it can import its siblings."""
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(folder)


@contextlib.contextmanager
def _loaded_file(spec: str, source: str) -> Iterator[Any]:
    """The file as a module, registered under a private name only while it loads and builds."""
    path = Path(source).expanduser()
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError as exc:  # a name too long, a folder that cannot be searched
        raise ArchscopeError(
            f"cannot read model file {one_line(source)!r}: {exc.strerror or exc}; give "
            "path/to/file.py:factory with a readable file"
        ) from exc
    if not is_file:
        where = "is a directory" if is_dir else "does not exist"
        raise ArchscopeError(
            f"model file {source!r} {where}; give path/to/file.py:factory with an existing file"
        )
    if path.suffix != ".py":
        raise ArchscopeError(f"model file {source!r} is not a .py file; give path/to/file.py:factory")
    full = str(path.resolve())
    # A private name per file: loading "models.py" must never shadow or replace a real
    # `models` module; the entry is removed again once the factory has run.
    unique = "_archscope_user_" + hashlib.sha1(full.encode()).hexdigest()[:12]
    module_spec = importlib.util.spec_from_file_location(unique, full)
    if module_spec is None or module_spec.loader is None:
        raise ArchscopeError(f"cannot load {source!r} as a Python file; give path/to/file.py:factory")
    module = importlib.util.module_from_spec(module_spec)
    previous = sys.modules.get(unique)
    sys.modules[unique] = module  # dataclasses and typing look the module up while it runs
    try:
        with _on_path(str(Path(full).parent)):
            try:
                module_spec.loader.exec_module(module)
            except BaseException as exc:
                _reraise_ours(exc)
                raise ArchscopeError(
                    f"loading {source!r} failed{_where(exc, full)}: {type(exc).__name__}: "
                    f"{one_line(exc)}; fix the file (run with --debug for the traceback)"
                ) from exc
            yield module
    finally:
        if previous is None:
            sys.modules.pop(unique, None)
        else:
            sys.modules[unique] = previous


def _attribute(spec: str, module: Any, name: str):
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            public = [n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])]
            hint = closest(name, public)
            more = f"did you mean {', '.join(hint)}?" if hint else "name a function defined there"
            raise ArchscopeError(f"model spec {spec!r}: the module has no {name!r}; {more}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ArchscopeError(
            f"model spec {spec!r}: {name!r} is a {type(obj).__name__}, not a function or class "
            "to call; name the factory that builds the network"
        )
    return obj


def _call(spec: str, fn: Any, kwargs: dict, *args: Any, meta: bool = False) -> tuple[Any, tuple]:
    """Call a factory: ``(result, notes)``. With ``meta``, first without initialising weights
    (:class:`~archscope.building.MetaBuild`); a constructor that needs real tensors there is
    called again on CPU, and a note says so."""
    import torch

    if meta:
        from .building import MetaBuild

        try:
            with MetaBuild():
                return fn(*args, **kwargs), ()
        except BaseException as exc:  # noqa: BLE001 - built again on CPU, which reports errors
            _reraise_ours(exc)
            why = f"{type(exc).__name__}: {one_line(exc, 150)}"
        result, _ = _call(spec, fn, kwargs, *args)
        return result, (f"built on CPU with real weights: its constructor needs real tensors "
                        f"({why})",)
    try:
        with torch.device("cpu"):  # real weights on CPU, whatever the caller's default
            return fn(*args, **kwargs), ()
    except TypeError as exc:
        # Only a signature mismatch of the call itself, not a TypeError deep inside the factory.
        if len(traceback.extract_tb(exc.__traceback__)) <= 1:
            text = str(exc)
            if "unexpected keyword argument" in text:
                raise ArchscopeError(
                    f"model spec {spec!r} does not take that option ({one_line(exc)}); pass "
                    "only the options it accepts with --kwargs key=value,..."
                ) from exc
            if "required" in text and "argument" in text:
                raise ArchscopeError(
                    f"model spec {spec!r} needs arguments ({one_line(exc)}); pass them with "
                    "--kwargs key=value,..."
                ) from exc
        raise _factory_failed(spec, exc) from exc
    except BaseException as exc:
        _reraise_ours(exc)
        raise _factory_failed(spec, exc) from exc


def _reraise_ours(exc: BaseException) -> None:
    """User code may raise anything; Ctrl-C and a re-entered spec pass through, the rest (a
    bare ``BaseException`` subclass, ``SystemExit``) become one sentence at the caller."""
    if isinstance(exc, (KeyboardInterrupt, _SpecReentered, GeneratorExit)):
        raise exc


def _factory_failed(spec: str, exc: BaseException) -> ArchscopeError:
    return ArchscopeError(
        f"model spec {spec!r} raised {type(exc).__name__}{_where(exc)}: {one_line(exc)}; "
        "fix the factory (run with --debug for the traceback)"
    )


def _check_module(spec: str, obj: Any):
    from torch import nn

    if not isinstance(obj, nn.Module):
        raise ArchscopeError(
            f"model spec {spec!r} returned a value of type {type(obj).__name__}, not a "
            "torch.nn.Module; "
            "return the network, or (network, input_size) such as (net, (3, 224, 224))"
        )
    return obj


def _sample_shape(spec: str, size: Any) -> tuple[int, ...]:
    if isinstance(size, str):
        sample, _batch = parse_input_size(size)
        return sample
    try:
        sample = tuple(int(d) for d in size)
        ok = len(sample) >= 1 and all(d >= 1 and d == s for d, s in zip(sample, size))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ArchscopeError(
            f"model spec {spec!r} returned input size {one_line(repr(size), 80)}; give one sample C×H×W "
            "of whole numbers ≥ 1 such as (3, 224, 224), or example inputs (a tensor, a tuple "
            "of tensors or a dict of keyword tensors)"
        )
    return sample


def _example_inputs(spec: str, value: Any) -> ModelInputs | None:
    """A factory's example inputs (a tensor, a tuple of tensors, a dict of keyword tensors) as
    specs; ``None`` when ``value`` is not such a thing."""
    import torch

    def spec_of(t: torch.Tensor) -> TensorSpec:
        return TensorSpec(tuple(int(d) for d in t.shape), str(t.dtype).removeprefix("torch."))

    if isinstance(value, torch.Tensor):
        return ModelInputs((spec_of(value),))
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return ModelInputs(tuple(spec_of(v) for v in value))
    if isinstance(value, dict) and value and all(isinstance(v, torch.Tensor) for v in value.values()):
        if not all(isinstance(k, str) and k.isidentifier() for k in value):
            raise ArchscopeError(f"model spec {spec!r} returned example inputs whose keys are not "
                                 "argument names; use a dict such as {'input_ids': tensor}")
        return ModelInputs((), tuple((k, spec_of(v)) for k, v in value.items()))
    return None


def _call_factory(spec: str, factory: Any, kwargs: dict, meta: bool = False) -> BuiltSpec:
    from torch import nn

    result, notes = _call(spec, factory, kwargs, meta=meta)
    shape, example = None, None
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], nn.Module):
        example = _example_inputs(spec, result[1])
        if example is None:
            shape = _sample_shape(spec, result[1])
        result = result[0]
    return BuiltSpec(spec, _check_module(spec, result), shape, example, notes)
