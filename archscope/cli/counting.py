"""``archscope flops``, ``summary``, ``explain`` and ``verify``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, List, Optional

import typer

from .app import command, fail
from .common import (
    BatchOpt, ColumnsOpt, DepthOpt, InputSizeOpt, KwargsOpt, ModelArg, OutFormatOpt, OutputOpt, QuietOpt,
    WideOpt, emit, parse_kwargs, pick_format, table_view,
)
from ..analysis.engines.base import DEFAULT_ENGINE, engine_help, engine_names
from ..conventions import FLOPS, MACS, OTHER_FLOPS

# The choices come from the engine registry: a new engine appears here without a CLI change.
Engine = Enum("Engine", {name: name for name in engine_names()}, type=str)
EngineOpt = Annotated[
    Engine,
    typer.Option("--engine", "-e", case_sensitive=False,
                 help="Counting engine. " + engine_help() + ". Both engines give identical "
                 "counts, call by call."),
]
DEFAULT = Engine(DEFAULT_ENGINE)
DtypeOpt = Annotated[
    str, typer.Option("--dtype", help="Element type for bytes (intensity, memory): fp32, fp16, "
                      "bf16 or fp64.")
]
UnitOpt = Annotated[
    str, typer.Option("--unit", "-u", help="macs (each layer's mac_share) or flops (flop_share beside it).")
]
# --mode and --freeze: the training step (archscope.analysis.train); shared with `memory`.
ModeOpt = Annotated[
    str, typer.Option("--mode", "-m", help="infer: one inference forward (eval mode). train: one "
                      "training step, the forward in train mode and the backward beside it "
                      "(backward_macs = grad_input_macs + grad_weight_macs); meta engine only.")
]
FreezeOpt = Annotated[
    Optional[List[str]], typer.Option(
        "--freeze", help="With --mode train: give these parameters no gradient; a shell-style "
        "pattern on parameter names or module paths (conv1, 'layer1.*', '*.bn*'); repeat for "
        "several.", show_default=False)
]

# The lesson registry's topics, written out so that `archscope --help` needs no torch; a test
# checks this line against the registry.
TOPIC_HELP = "bottleneck, inception, vgg, 1x1, gap, residual, receptive-field or training."

CONVENTIONS = f"{MACS}. {FLOPS}, {OTHER_FLOPS.brief} (archscope conventions states each)."


ModelsArg = Annotated[List[str], typer.Argument(
    help="One model for its per-layer table, or several (and patterns such as 'resnet*', "
    "'torchvision:resnet*', 'timm:convnext_*') for one summary row per model. Each is a zoo "
    "name, torchvision:NAME, timm:NAME, package.module:factory or path/to/file.py:factory.",
    show_default=False)]


def _progress():
    """A progress bar on stderr over the models (drawn only on a terminal), and its callback."""
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(stderr=True), transient=True)
    state: dict = {}

    def update(done: int, total: int, label: str) -> None:
        if "task" not in state:
            state["task"] = bar.add_task("counting", total=total)
        bar.update(state["task"], completed=done, description=label or "done")

    return bar, update


@command("flops", help="Per-layer MACs and FLOPs, with parameters and arithmetic intensity; "
         "with several models or a pattern, one summary row per model. " + CONVENTIONS)
def flops_cmd(
    models: ModelsArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    depth: DepthOpt = None,
    unit: UnitOpt = "macs",
    engine: EngineOpt = DEFAULT,
    dtype: DtypeOpt = "fp32",
    mode: ModeOpt = "infer",
    freeze: FreezeOpt = None,
    kwargs: KwargsOpt = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..render import render_layer_table
    from ..specs import is_pattern

    if len(models) > 1 or is_pattern(models[0]):
        if mode != "infer" or freeze:
            from ..errors import ArchscopeError

            raise ArchscopeError("--mode train and --freeze count one model at a time; give a "
                                 "single model name")
        from ..analysis.model_set import count_models

        bar, update = _progress()
        with bar:
            rep = count_models(models, input_size, batch_size=batch_size, engine=engine.value,
                               kwargs=parse_kwargs(kwargs), on_progress=update)
        emit(render_layer_table(rep, pick_format(fmt, output), table_view(wide, quiet, columns)), output)
        return
    from ..analysis.flops import flop_report

    rep = flop_report(models[0], input_size, batch_size=batch_size, depth=depth,
                      engine=engine.value, dtype=dtype, unit=unit, kwargs=parse_kwargs(kwargs),
                      mode=mode, freeze=tuple(freeze or ()))
    emit(render_layer_table(rep, pick_format(fmt, output), table_view(wide, quiet, columns)), output)


@command("summary", help="The module tree with output shapes, params and MACs, plus memory. "
         + CONVENTIONS)
def summary_cmd(
    model: ModelArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    depth: Annotated[int, typer.Option("--depth", "-d", help="Tree depth shown.")] = 3,
    engine: EngineOpt = DEFAULT,
    dtype: DtypeOpt = "fp32",
    kwargs: KwargsOpt = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..analysis.summary import summary_report
    from ..render import render_layer_table

    rep = summary_report(model, input_size, batch_size=batch_size, depth=depth,
                         engine=engine.value, dtype=dtype, kwargs=parse_kwargs(kwargs))
    emit(render_layer_table(rep, pick_format(fmt, output), table_view(wide, quiet, columns)), output)


@command("explain", help="The design lessons of the classic CNNs, computed live from real "
         "modules, each on the feature-map size it states. Without a topic: the list of topics.")
def explain_cmd(
    topic: Annotated[Optional[str], typer.Argument(help=TOPIC_HELP, show_default=False)] = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..analysis.explain import explain, topics_table
    from ..render import render_frame

    if topic is None:
        emit(render_frame(topics_table(), pick_format(fmt, output), title="archscope explain TOPIC",
                          view=table_view(wide, quiet, columns)), output)
        return
    e = explain(topic)
    emit(render_frame(e.rows, pick_format(fmt, output), title=e.title, notes=[e.text, *e.notes],
                      json_obj={"topic": e.topic, "title": e.title, "text": e.text,
                                "map_size": list(e.map_size)},
                      view=table_view(wide, quiet, columns), kind="explain"), output)


@command("verify", short_help="Check the figures against GoogLeNet's paper (Table 1) or "
         "against torchinfo, layer by layer.",
         help="Check archscope's figures against an independent source: GoogLeNet's "
         "Table 1 (params, ops) with the paper's errata flagged (--against paper, the default "
         "for googlenet), or torchinfo's per-layer output shapes, params and mult-adds for any "
         "model, reconciled layer by layer (--against torchinfo, the default otherwise). Exit 0 "
         "when archscope agrees, 1 when it does not.")
def verify_cmd(
    model: ModelArg,
    against: Annotated[Optional[str], typer.Option(
        "--against", help="paper (googlenet's Table 1) or torchinfo (any model). Default: "
        "paper for googlenet, torchinfo for every other model.",
        show_default=False)] = None,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    engine: EngineOpt = DEFAULT,
    kwargs: KwargsOpt = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..errors import ArchscopeError
    from ..render import render_frame

    against = against or ("paper" if model == "googlenet" else "torchinfo")
    if against == "torchinfo":
        from ..analysis.crosscheck import crosscheck_torchinfo

        c = crosscheck_torchinfo(model, input_size, batch_size=batch_size, engine=engine.value,
                                 kwargs=parse_kwargs(kwargs))
        shape = "x".join(map(str, c.input_size))
        rendered = render_frame(
            c.columns, pick_format(fmt, output),
            title=f"{c.model} · verify against torchinfo · input {shape}",
            notes=c.notes, total=c.total,
            json_obj={"model": c.model, "input_size": list(c.input_size),
                      "against": "torchinfo", "ok": c.ok},
            view=table_view(wide, quiet, columns), kind="verify-torchinfo",
        )
        emit(rendered, output)
        if not c.ok:
            raise fail(f"archscope and torchinfo disagree on {c.model} (rows with match = no, "
                       "or the totals in the notes)", 1)
        return
    if against != "paper":
        raise ArchscopeError(f"unknown --against {against!r}; use paper or torchinfo")
    if model != "googlenet":
        raise ArchscopeError(f"no paper table to verify for {model!r}; the paper check is for "
                             "googlenet, or use --against torchinfo")
    if input_size or batch_size or kwargs:
        raise ArchscopeError("Table 1 is for googlenet as built, at 1x3x224x224: --input-size, "
                             "--batch-size and --kwargs apply to --against torchinfo")
    from ..analysis.verify import verify_googlenet

    v = verify_googlenet(engine=engine.value)
    emit(render_frame(v.rows, pick_format(fmt, output),
                      title="googlenet · Szegedy et al. 2015, Table 1", notes=v.notes,
                      json_obj={"model": "googlenet", "against": "paper", "ok": v.ok,
                                "total": v.total},
                      view=table_view(wide, quiet, columns), kind="verify-paper"), output)
    if not v.ok:
        raise fail("archscope's googlenet does not match Table 1's widths (see the notes)", 1)
