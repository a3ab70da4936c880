"""The Python API behind the CLI: functions that return dataclasses and DataFrames."""

from __future__ import annotations

import pandas as pd


def zoo_table(pattern: str = "*") -> pd.DataFrame:
    """The zoo as a DataFrame: name, kind, family, year, input, classes, params, description."""
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
