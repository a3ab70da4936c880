"""The Python API behind the CLI: functions that return dataclasses and DataFrames.

``archscope.bench``, ``archscope.load_results`` and ``archscope.report`` live here, not in the
packages that implement them (:mod:`archscope.timing`, :mod:`archscope.html`), so a function
never shares its name with a sub-package that Python would bind over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import pandas as pd

    from .timing.runner import BenchResults


def bench(models: Any, **options: Any) -> BenchResults:
    """Time every configuration of a sweep; see :func:`archscope.timing.runner.bench`."""
    from .timing.runner import bench as run

    return run(models, **options)


def load_results(paths: Any) -> pd.DataFrame:
    """Merge bench results files into one DataFrame; see
    :func:`archscope.timing.results.load_results`."""
    from .timing.results import load_results as load

    return load(paths)


def report(models: Sequence[Any], bench: Sequence[Any] | None = None, output: Any = None,
           title: str | None = None, **options: Any) -> Path:
    """Write the HTML report of ``models`` and return its path (see
    :func:`archscope.html.build.build_report`).

    ``options``: ``input_size``, ``engine`` ("meta" by default, or "fvcore"), ``kwargs``,
    ``diff`` (two models: a Differences section), ``train`` (a Training section) with
    ``train_batch_size`` (32) and ``optimizer`` ("adam").
    """
    from .html.build import build_report

    return build_report(models, bench, output, title, **options)


def zoo_table(pattern: str = "*") -> pd.DataFrame:
    """The zoo as a DataFrame: name, kind, family, year, input, classes, params, description."""
    import pandas as pd

    from .analysis.params import count_params
    from .errors import ArchscopeError
    from .models import load_target
    from .zoo import list_models, model_info

    names = list_models(pattern)
    if not names:
        raise ArchscopeError(f"no zoo model matches {pattern!r}; run `archscope list` for all")
    rows = []
    for name in names:
        info = model_info(name)
        # shapes only: meta device, no initialisation, no memory
        params = count_params(load_target(name, device="meta", init=False).model)
        rows.append(
            {
                "name": name,
                "kind": info.kind,
                "family": info.family,
                "year": info.year,
                "input": "x".join(map(str, info.input_size)),
                "classes": info.num_classes,
                "params": params,
                "description": info.description,
            }
        )
    df = pd.DataFrame(rows)
    df["classes"] = df["classes"].astype("Int64")  # blocks have none: missing, not NaN floats
    return df
