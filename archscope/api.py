"""The Python API behind the CLI: functions that return dataclasses and DataFrames."""

from __future__ import annotations

import pandas as pd


def zoo_table(pattern: str = "*") -> pd.DataFrame:
    """The zoo as a DataFrame: name, kind, family, year, input, classes, params, description."""
    import torch

    from .analysis.params import count_params
    from .errors import ArchscopeError
    from .zoo import build, list_models, model_info

    names = list_models(pattern)
    if not names:
        raise ArchscopeError(f"no zoo model matches {pattern!r}; run `archscope list` for all")
    rows = []
    for name in names:
        info = model_info(name)
        with torch.device("meta"):  # shapes only: no memory, no init time
            params = count_params(build(name))
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
    return pd.DataFrame(rows)
