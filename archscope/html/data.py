"""What a report shows, gathered as plain DataFrames before any figure is drawn.

Figures (:mod:`archscope.html.figures`) only read the frames built here, so they can be tested
on small synthetic frames. Units: ``params`` and ``macs`` are exact counts (ints), ``*_bytes``
are bytes, ``*_share`` are fractions of the model's total (0..1), ``intensity`` is FLOPs per
byte moved (parameters + activations).

Conventions stated on the page: MACs = multiply-accumulates of conv, linear and matmul, biases
excluded; FLOPs = 2 × MACs + other FLOPs; a *weight layer* is a row that holds weights and
does multiply-accumulates (convolutions and linear layers, projection shortcuts included;
batch-norm is not one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..analysis.records import ROOT_NAME, ancestors

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis.records import LayerTable

ROOT = ROOT_NAME  # the one name of the root module, in every table


@dataclass
class ModelData:
    """One model's per-layer table (leaf layers) and its zoo metadata.

    ``name`` is what the charts show; ``spec`` is what the user gave (a zoo name, or a spec such
    as ``/long/path/net.py:make``, shown in full in the summary table and the hovers).
    """

    name: str
    table: LayerTable
    year: int | None = None
    family: str | None = None
    spec: str | None = None

    def __post_init__(self) -> None:
        if self.spec is None:
            self.spec = self.name


def short_name(spec: str) -> str:
    """A chart label for a model spec: ``/a/b/net.py:make`` → ``net.py:make``.

    Zoo names, ``torchvision:NAME``, ``timm:NAME`` and ``package.module:factory`` are short
    already and stay as they are; only a file path loses its folders.
    """
    import os

    source, sep, factory = spec.rpartition(":")
    if not sep or not ("/" in source or os.sep in source or source.endswith(".py")):
        return spec
    base = source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"{base}:{factory}" if base else spec


def display_names(specs: list[str]) -> list[str]:
    """Short names for the charts, unless two of them would collide (then the full specs)."""
    short = [short_name(s) for s in specs]
    return [s if short.count(s) == 1 else full for s, full in zip(short, specs)]


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def weight_layers(rows: pd.DataFrame) -> int:
    """Rows that hold weights and do multiply-accumulates: convolutions and linear layers."""
    return int(((rows["weights"] > 0) & (rows["macs"] > 0)).sum())


def model_totals_frame(models: list[ModelData]) -> pd.DataFrame:
    """One row per model: exact totals and the depth in weight layers."""
    import pandas as pd

    records = []
    for m in models:
        t = m.table.total
        records.append(
            {
                "model": m.name,
                "spec": m.spec,
                "year": m.year,
                "input": "x".join(str(d) for d in m.table.input_size),
                "params": _int(t.get("params")),
                "macs": _int(t.get("macs")),
                "flops": _int(t.get("flops")),
                "param_bytes": _int(t.get("param_bytes")),
                "activation_bytes": _int(t.get("activation_bytes")),
                "weight_layers": weight_layers(m.table.rows),
            }
        )
    return pd.DataFrame.from_records(records)


def stage_of(layer: str, depth: int = 1) -> str:
    """The module ``depth`` levels down that a layer path belongs to (``layer3.0.conv1`` →
    ``layer3`` at depth 1, ``layer3.0`` at depth 2; a shallower path is its own stage)."""
    return ".".join(layer.split(".")[:depth])


def _stage_sums(layers: list[str], values: list[int], depth: int) -> dict[str, int]:
    sums: dict[str, int] = {}
    for layer, value in zip(layers, values):
        key = stage_of(layer, depth)
        sums[key] = sums.get(key, 0) + value
    return sums


def stage_depth(rows: pd.DataFrame) -> int:
    """The first depth at which no module holds more than half of the model's MACs.

    Depth 1 is the top-level modules. With torchvision's and timm's models one of them often
    holds nearly all the work (``features``, ``stages``: one bar of 97 %), so the bars go one
    level down until the largest module holds at most half of the MACs, or until it is a single
    layer, which cannot be split. A model without MACs keeps depth 1.
    """
    layers = [str(v) for v in rows["layer"]]
    macs = [int(v) for v in rows["macs"]]
    total = sum(macs)
    deepest = max((len(layer.split(".")) for layer in layers), default=1)
    if total <= 0:
        return 1
    leaves = set(layers)
    for depth in range(1, deepest + 1):
        sums = _stage_sums(layers, macs, depth)
        top = max(sums, key=sums.__getitem__)
        if 2 * sums[top] <= total or top in leaves:
            return depth
    return deepest


def stage_words(depth: int) -> str:
    """What a stage is at ``depth``, for a caption."""
    return ("top-level module" if depth == 1 else
            f"module {depth} levels down (the first depth at which no module holds more than "
            "half of the MACs)")


def stage_frame(rows: pd.DataFrame, depth: int | None = None,
                columns: tuple[str, ...] = ("params", "macs")) -> pd.DataFrame:
    """``columns`` (exact ints: params and MACs by default) summed per module at ``depth``
    (default :func:`stage_depth`), in forward order (order of first appearance); the depth used
    is in ``attrs["depth"]``."""
    depth = stage_depth(rows) if depth is None else depth
    df = rows[["layer", *columns]].copy()
    df["stage"] = [stage_of(str(layer), depth) for layer in df["layer"]]
    out = df.groupby("stage", sort=False, as_index=False)[list(columns)].sum()
    out = out.astype({c: "int64" for c in columns})
    out.attrs["depth"] = depth
    return out


def _node_label(parts: list[str]) -> str:
    """A module's name in the tree: ``features.6`` rather than a bare Sequential index ``6``."""
    label = parts[-1]
    if label.isdigit() and len(parts) > 1:
        label = f"{parts[-2]}.{label}"
    return label


def hierarchy_frame(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """Every module on the path to each row, with params and MACs summed over its subtree.

    ``id`` is the module path (the root is the model's name), ``parent`` the enclosing module's
    id (``""`` for the root). A subtree's value is the sum of the rows within it, so a treemap
    with ``branchvalues="total"`` shows exact figures at every level.
    """
    import pandas as pd

    sums: dict[str, list[int]] = {model: [0, 0]}
    parents: dict[str, str] = {model: ""}
    labels: dict[str, str] = {model: model}
    for layer, kind, params, macs in zip(rows["layer"], rows["type"], rows["params"],
                                         rows["macs"]):
        if layer == ROOT:
            sums[model][0] += int(params)
            sums[model][1] += int(macs)
            continue
        node_parent = model
        for node in reversed([p for p in ancestors(layer) if p]):  # outermost first
            if node not in sums:
                sums[node] = [0, 0]
                parents[node] = node_parent
                labels[node] = _node_label(node.split("."))
            sums[node][0] += int(params)
            sums[node][1] += int(macs)
            node_parent = node
        labels[layer] = f"{labels[layer]} ({kind})"
        sums[model][0] += int(params)
        sums[model][1] += int(macs)
    return pd.DataFrame(
        {
            "id": list(sums),
            "parent": [parents[n] for n in sums],
            "label": [labels[n] for n in sums],
            "params": [v[0] for v in sums.values()],
            "macs": [v[1] for v in sums.values()],
        }
    )


CONV_TYPES = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
              "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d")
LINEAR_TYPES = ("Linear", "LazyLinear", "Bilinear")
KINDS = ("convolution", "linear", "other")


def kind_of(layer_type: str) -> str:
    """``convolution`` (Conv*d, ConvTranspose*d), ``linear`` (Linear) or ``other``."""
    if layer_type in CONV_TYPES:
        return "convolution"
    if layer_type in LINEAR_TYPES:
        return "linear"
    return "other"


def kind_frame(models: list[ModelData]) -> pd.DataFrame:
    """Params and MACs per model and layer kind, as exact sums and as shares of the totals.

    Every row of the table is in exactly one kind, so per model the three kinds add up to the
    model's totals (``params_share`` and ``mac_share`` each sum to 1).
    """
    import pandas as pd

    records = []
    for m in models:
        rows = m.table.rows
        total_p = _int(m.table.total.get("params"))
        total_m = _int(m.table.total.get("macs"))
        sums = {k: [0, 0] for k in KINDS}
        for kind, params, macs in zip(rows["type"], rows["params"], rows["macs"]):
            acc = sums[kind_of(str(kind))]
            acc[0] += _int(params)
            acc[1] += _int(macs)
        for kind, (params, macs) in sums.items():
            records.append({"model": m.name, "kind": kind, "params": params, "macs": macs,
                            "params_share": params / total_p if total_p else 0.0,
                            "mac_share": macs / total_m if total_m else 0.0})
    return pd.DataFrame.from_records(
        records, columns=["model", "kind", "params", "macs", "params_share", "mac_share"])


def share_frame(models: list[ModelData]) -> pd.DataFrame:
    """Per-layer params share against MAC share, for layers that hold either."""
    import pandas as pd

    parts = []
    for m in models:
        rows = m.table.rows
        total_p = _int(m.table.total.get("params")) or 1
        total_m = _int(m.table.total.get("macs")) or 1
        keep = rows[(rows["params"] > 0) | (rows["macs"] > 0)]
        parts.append(
            pd.DataFrame(
                {
                    "model": m.name,
                    "layer": keep["layer"].to_numpy(),
                    "type": keep["type"].to_numpy(),
                    "params": keep["params"].astype("int64").to_numpy(),
                    "macs": keep["macs"].astype("int64").to_numpy(),
                    "params_share": keep["params"].to_numpy() / total_p,
                    "mac_share": keep["macs"].to_numpy() / total_m,
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def device_labels(bench: pd.DataFrame) -> list[str]:
    """``cpu · AMD EPYC 7B13``, ``cuda · NVIDIA H100 80GB HBM3``: the device and its name.

    The name is the run's ``env_device_name`` (what ``load_results`` gives every row; the GPU
    on CUDA, the CPU model on CPU), used only where the run's device is the record's device;
    a hand-made frame may carry ``device_name`` instead. Runs on different GPUs or CPUs thus
    never share a label.
    """
    n = len(bench)
    devices = [str(d) for d in bench["device"]]
    if "env_device_name" in bench.columns:
        names = list(bench["env_device_name"])
        run_dev = list(bench["env_device"]) if "env_device" in bench.columns else [None] * n
    elif "device_name" in bench.columns:
        names, run_dev = list(bench["device_name"]), [None] * n
    else:
        names, run_dev = [None] * n, [None] * n
    out = []
    for dev, name, run in zip(devices, names, run_dev):
        if _blank(name) or str(name) == dev or (not _blank(run) and str(run) != dev):
            out.append(dev)
        else:
            out.append(f"{dev} · {name}")
    return out


def timed_layers_frame(bench: pd.DataFrame) -> pd.DataFrame | None:
    """Per-layer timings from bench records run with ``--per-layer``: one row per layer.

    Per model, the first successful configuration that carries per-layer data is used (a model
    timed at several batch sizes would otherwise plot each layer several times); its label
    (device, dtype, batch) is kept in ``config``, and its ``batch_size``, ``dtype``,
    ``device_label`` and ``input_shape`` (the timed input, batch included) alongside.
    """
    if "per_layer" not in bench.columns:
        return None
    labels = device_labels(bench)
    rows = []
    seen: set = set()
    for rec, device in zip(bench.to_dict(orient="records"), labels):
        layers = rec.get("per_layer")
        if not isinstance(layers, list) or not layers or rec.get("status") != "ok":
            continue
        if rec["model"] in seen:
            continue
        seen.add(rec["model"])
        config = f"{device} · {rec.get('dtype')} · batch {rec.get('batch_size')}"
        shape = rec.get("input_shape")
        extra = {"batch_size": int(rec.get("batch_size") or 1), "dtype": rec.get("dtype"),
                 "device_label": device,
                 "input_shape": tuple(shape) if isinstance(shape, (list, tuple)) else None}
        rows += [{"model": rec["model"], "config": config, **extra, **layer} for layer in layers]
    import pandas as pd

    return pd.DataFrame(rows) if rows else None
