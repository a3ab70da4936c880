"""The report's sections in reading order, each a heading, a sentence and its charts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import data as D
from . import figures
from .bench_section import bench_sections
from .page import Chart, Section, Table

if TYPE_CHECKING:
    import pandas as pd


def model_colors(models: list[D.ModelData]) -> dict[str, str]:
    """Each model's colour, the same in every section."""
    return figures.model_colors([m.name for m in models])


def _mib(value) -> str:
    return f"{int(value) / 2**20:,.2f} MiB"


def model_sections(models: list[D.ModelData], colors: dict[str, str]) -> list[Section]:
    summary = D.model_totals_frame(models)
    headers = {"model": "model", "year": "year", "input": "input (N×C×H×W)",
               "params": "parameters", "macs": "MACs", "flops": "FLOPs",
               "param_bytes": "parameter memory", "activation_bytes": "activation memory",
               "weight_layers": "weight layers"}
    caption = "Exact counts for one forward at the input shown; memory in MiB (2^20 bytes)."
    text = ()
    if any(m.spec != m.name for m in models):
        headers = {"model": "model", "spec": "given as",
                   **{k: v for k, v in headers.items() if k != "model"}}
        text = ("spec",)
        caption += " Models given as a file are named by file and factory; “given as” shows " \
                   "the full spec."
    table = Table(
        summary, headers, caption=caption, text=text,
        formats={"param_bytes": _mib, "activation_bytes": _mib,
                 "year": lambda v: "" if v is None or v != v else str(int(v))},
    )
    out = [
        Section("summary", "Summary", "The models side by side: size, work and memory.", [table]),
        Section("totals", "Parameters and MACs per model",
                "Bars show exact totals on hover; use the Linear/Log buttons when the models "
                "differ by orders of magnitude.",
                [Chart(figures.totals_bar(summary, "params", "Parameters per model", "parameters",
                                    colors),
                       "How many weights and biases each model stores."),
                 Chart(figures.totals_bar(summary, "macs", "MACs per model (one forward)", "MACs",
                                    colors),
                       "How many multiply-accumulates one forward costs at the input shown.")]),
    ]
    items = []
    for m in models:
        rows = m.table.rows
        stages = D.stage_frame(rows)
        where = D.stage_words(stages.attrs["depth"])
        items.append(Chart(figures.stage_bars(stages, m.name, colors.get(m.name, figures.PALETTE[0])),
                           f"{m.name}: parameters (left) and MACs (right) summed per {where}, "
                           "in forward order; modules with neither (pooling, dropout, "
                           "activations) keep their place with an empty bar, so the bars read "
                           "as the network from input to output."))
        items.append(Chart(figures.hierarchy_treemap(D.hierarchy_frame(rows, m.name), m.name),
                           f"{m.name}: every module as a box whose area is its share of the "
                           "parameters (or MACs, with the button); click to zoom into a block."))
    out.append(Section("layers", "Per-layer breakdown",
                       "Where each model keeps its weights and where it spends its work.", items))
    out.append(Section(
        "shares", "Parameter share vs MAC share",
        "Where a model stores its weights is not where it does its work: convolutions reuse "
        "each weight at every position of the feature map, a fully connected layer uses each "
        "weight once per sample.",
        [Chart(figures.kind_share_bars(D.kind_frame(models)),
               "Per model, the left bar splits the parameters and the right bar the MACs by "
               "layer kind (convolution, linear, everything else); each bar is 100 % of that "
               "model, hover for the exact counts."),
         Chart(figures.share_scatter(D.share_frame(models), colors),
               "One point per layer with weights or MACs. Layers above the diagonal do more "
               "work than their weight count suggests (early convolutions on large maps); "
               "layers below it store many weights for little work (fully connected layers). "
               "Log spreads the many small layers apart; layers with a zero share (no MACs, "
               "e.g. batch-norm) cannot sit on a log axis and drop out there.")]))
    return out


def lesson_section(engine: str, training: bool = False) -> Section:
    """The lessons of the registry that ``archscope explain`` reads, counted with ``engine``:
    every one, but those on training only when the report has its training section."""
    from ..analysis.explain import LESSONS, explain

    from .training_figures import step_lesson_bars

    items = []
    for topic, lesson in LESSONS.items():
        if lesson.report_with == "training" and not training:
            continue
        e = explain(topic, engine)
        bias = e.notes[1]
        # a lesson on the training step compares its costs, not its designs' sizes
        bars = step_lesson_bars if "grad_weight_macs" in e.compared else figures.lesson_bars
        items.append(Chart(bars(e.compared, e.title),
                           f"{e.text} {bias[:1].upper()}{bias[1:]}. The table of every design: "
                           f"archscope explain {topic}."))
    return Section("lessons", "Design lessons",
                   "Two or more ways to do the same job, built as real modules and counted by the "
                   "same engine as the models above; each states the feature-map size it runs "
                   "on.", items)


def build_sections(models: list[D.ModelData], bench: pd.DataFrame | None, engine: str,
                   per_layer: pd.DataFrame | None = None, differences: Any = None,
                   training: Section | None = None) -> list[Section]:
    from .compare import diff_section, rf_section

    colors = model_colors(models)
    sections = model_sections(models, colors)
    if differences is not None:
        sections.append(diff_section(differences))
    fields = rf_section(models, colors)
    if fields is not None:
        sections.append(fields)
    if training is not None:
        sections.append(training)
    if bench is not None and len(bench):
        sections += bench_sections(bench, models, colors, per_layer)
    sections.append(lesson_section(engine, training=training is not None))
    return sections
