"""``archscope.report(...)``: count the models, read the timings, draw, write one HTML file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import ArchscopeError
from . import data as D

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DIR = Path("reports")
NOTES = [
    "params = weights + biases; shared tensors count once; counts are for one inference forward "
    "(eval mode: GoogLeNet's auxiliary heads are left out).",
    "MACs = multiply-accumulates of convolution, linear and matmul, biases excluded; "
    "FLOPs = 2 × MACs + other FLOPs (normalisation, pooling, activation, add, …).",
    "Parameter memory = params × bytes per element; activation memory = the outputs of every "
    "layer for one forward at the batch size shown.",
    "Weight layers: layers that hold weights and do multiply-accumulates (convolutions and "
    "linear layers, projection shortcuts included; batch-norm not).",
    "Latency is the median of the timed runs; throughput = batch size / latency; achieved "
    "FLOP/s = FLOPs of the forward / latency, with SI prefixes (G = 10^9, T = 10^12).",
    "Arithmetic intensity = FLOPs / bytes moved, where each layer reads its weights and its "
    "input and writes its output once, at the bytes per element of the dtype (4 for fp32, 2 "
    "for bf16 and fp16).",
]

TRAIN_NOTE = (
    "Training: one step in train mode (batch statistics, dropout, auxiliary heads) counted on "
    "the meta device, fp32; the backward's MACs are those of the ops autograd dispatches (each "
    "input or weight gradient of a convolution or linear layer costs its forward's MACs); saved "
    "activations are what autograd keeps for the backward, each storage once; the peak follows "
    "every tensor from its birth to its release (as archscope memory and flops --mode train)."
)


def default_output(models: Sequence[str]) -> Path:
    """``reports/googlenet-vgg16-resnet50.html`` (names reduced to safe file-name characters)."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.]+", "_", m) for m in models)[:120] or "report"
    return DEFAULT_DIR / f"{stem}.html"


def gather_models(models: Sequence[Any], input_size: Any = None, engine: str = "meta",
                  kwargs: dict | None = None) -> list[D.ModelData]:
    """Count every model per leaf layer with the chosen engine."""
    from ..specs import is_spec
    from ..zoo import model_info

    from .compare import count_with_fields

    out = []
    for spec in models:
        table = count_with_fields(spec, input_size, engine, kwargs)  # with receptive fields
        year = family = None
        if isinstance(spec, str) and not is_spec(spec):  # torchvision:…, file.py:… have no zoo entry
            info = model_info(spec)
            year, family = info.year, info.family
        out.append(D.ModelData(table.model, table, year, family, spec=table.model))
    specs = [m.spec for m in out]
    if len(set(specs)) != len(specs):
        raise ArchscopeError(f"each model can appear once in a report; got {', '.join(specs)}")
    for m, name in zip(out, D.display_names(specs)):
        m.name = name  # a file spec's folders only in the summary table and hovers
    return out


def load_bench(bench: Any) -> pd.DataFrame:
    """Result files (paths) read with ``archscope.load_results``, or a results frame as is."""
    if hasattr(bench, "columns"):
        return bench
    from .. import load_results

    return load_results([str(p) for p in bench])


def check_train_options(train: bool, batch_size: int | None, optimizer: str | None
                        ) -> tuple[int, str]:
    """The Training section's batch and optimizer (defaults: 32, Adam), checked before any
    counting; either one without ``train`` is a mistake."""
    from .training import DEFAULT_BATCH, DEFAULT_OPTIMIZER

    if not train:
        given = [o for o, v in (("--train-batch-size", batch_size), ("--optimizer", optimizer))
                 if v is not None]
        if given:
            raise ArchscopeError(f"{' and '.join(given)} set{'s' if len(given) == 1 else ''} "
                                 "the Training section; add --train to include it")
        return DEFAULT_BATCH, DEFAULT_OPTIMIZER
    from ..analysis.memory.optim import check_optimizer

    batch = DEFAULT_BATCH if batch_size is None else batch_size
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ArchscopeError(f"--train-batch-size must be a whole number of 1 or more, got "
                             f"{batch_size!r}")
    return batch, check_optimizer(optimizer or DEFAULT_OPTIMIZER)


def build_report(models: Sequence[Any], bench: Sequence[Any] | None = None,
                 output: Any = None, title: str | None = None, *, input_size: Any = None,
                 engine: str = "meta", kwargs: dict | None = None, diff: bool = False,
                 train: bool = False, train_batch_size: int | None = None,
                 optimizer: str | None = None) -> Path:
    """Write the HTML report of ``models`` (zoo names or modules) and return its path.

    ``bench`` is a list of result files written by ``archscope bench`` (or the DataFrame
    ``archscope.load_results`` returns); their timings add the
    latency, throughput, roofline and per-layer time sections. ``output`` defaults to
    ``reports/<models>.html``; the folder ``reports/`` is created when the default is used, an
    explicit path's folder must exist. ``diff`` (exactly two models) adds a "Differences"
    section: the second model against the first (:func:`archscope.analysis.diff_view.diff_models`).
    ``train`` adds a "Training" section: one training step per model at ``train_batch_size``
    (default 32) with ``optimizer`` (``sgd``, ``momentum``, ``adam`` (default) or ``adamw``),
    fp32 — its memory by part and by layer, and its forward and backward MACs by stage.
    """
    import plotly.offline

    from .sections import build_sections

    if isinstance(models, str):
        models = [models]
    if not models:
        raise ArchscopeError("give at least one model, e.g. `archscope report googlenet vgg16`")
    if diff and len(models) != 2:
        raise ArchscopeError(f"--diff compares two models, got {len(models)}; e.g. `archscope "
                             "report googlenet torchvision:googlenet --diff`")
    train_batch, train_optimizer = check_train_options(train, train_batch_size, optimizer)
    explicit = output
    if output is None:
        names = [D.short_name(m) if isinstance(m, str) else type(m).__name__.lower()
                 for m in models]
        output = default_output(names)
    from ..io import check_writable, write_atomic

    default_dir = Path(output).parent if explicit is None else None
    # fail before the counting, not after (the default folder is made only when writing, so a
    # mistake leaves no empty reports/ behind)
    target = Path(output) if default_dir is not None and not default_dir.exists() \
        else check_writable(output)
    gathered = gather_models(models, input_size, engine, kwargs)
    bench_df = load_bench(bench) if bench is not None and len(bench) else None
    if bench_df is not None:  # bench records name a spec model by its spec, as given
        renamed = {m.spec: m.name for m in gathered}
        bench_df = bench_df.assign(model=[renamed.get(v, v) for v in bench_df["model"]])
    names = [m.name for m in gathered]
    title = title or "archscope report: " + ", ".join(names)
    from .page import render_page

    per_layer = D.timed_layers_frame(bench_df) if bench_df is not None else None
    differences = None
    if diff:
        from ..analysis.diff_view import diff_models

        differences = diff_models(models[0], models[1], input_size, kwargs=kwargs)
    training = None
    if train:
        from .sections import model_colors
        from .training import gather_training, training_section

        steps = gather_training(models, names, input_size, batch_size=train_batch,
                                optimizer=train_optimizer, kwargs=kwargs)
        training = training_section(steps, model_colors(gathered), train_batch, train_optimizer)
    sections = build_sections(gathered, bench_df, engine, per_layer, differences, training)
    subtitle = (f"{len(gathered)} model{'s' if len(gathered) > 1 else ''} · counting engine: "
                f"{engine}" + (f" · {len(bench_df)} timed configurations" if bench_df is not None
                               else ""))
    notes = NOTES + ([TRAIN_NOTE] if train else [])
    html_text = render_page(title, subtitle, sections, notes, plotly.offline.get_plotlyjs())
    if default_dir is not None:
        try:
            default_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchscopeError(f"could not create {str(default_dir)!r}: {exc.strerror or exc}; "
                                 "choose an output file with -o") from exc
    return write_atomic(target, html_text)
