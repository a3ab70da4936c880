"""The records every analysis is built from: one :class:`CallRecord` per module call.

An engine (:mod:`archscope.analysis.engines`) runs one forward and produces a
:class:`ModelRecord`: every module call in call order, with its input and output specs, the
parameters it reads, and the cost of the ops it ran itself (not its children's). Tables are
views that aggregate these records (:mod:`.params`, :mod:`.flops`, :mod:`.summary`); formatting
lives in :mod:`archscope.render`.

**What adds up.** Across the calls of one module and across a subtree, these fields are summed:
``cost`` (MACs and other FLOPs), ``weights``/``biases``/``trainable`` (each parameter is counted
once, on the first call that reads it), ``bytes_read`` and ``bytes_written`` and
``output_elements``. These are not summed: shapes, dtypes and types (a row shows its first
call's), and ``index``. The root module's path is ``""``; every table shows it as
:data:`ROOT_NAME`.

A :class:`LayerTable` is a rendered view: rows, totals and the notes that say what the figures
count; its DataFrame (``rows``) is built on first use, so printing a table never imports pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..dtypes import itemsize
from ..inputs import TensorSpec
from .costs import Cost

if TYPE_CHECKING:
    import pandas as pd

    from .receptive import CallGeometry, ModelGeometry

ROOT_NAME = "(model)"

# Fields of CallRecord that add up across calls and subtrees (see the module docstring).
ADDITIVE_FIELDS = ("cost", "weights", "biases", "trainable", "bytes_read", "bytes_written",
                   "output_elements")


def layer_name(path: str) -> str:
    """The name tables show for a module path: the root ``""`` is ``(model)``."""
    return path or ROOT_NAME


def depth_of(path: str) -> int:
    """Depth of a module path: the root ``""`` is 0, ``inception3a`` 1, ``inception3a.b1`` 2."""
    return 0 if path == "" else path.count(".") + 1


def is_within(path: str, ancestor: str) -> bool:
    return ancestor == "" or path == ancestor or path.startswith(ancestor + ".")


def ancestors(path: str) -> Iterator[str]:
    """``"a.b.c"`` → ``a.b.c``, ``a.b``, ``a``, ``""`` (itself first, the root last)."""
    while True:
        yield path
        if path == "":
            return
        path = path.rpartition(".")[0]


def is_leaf_module(module: Any) -> bool:
    """An ``nn.Module`` without sub-modules: a layer that does the work itself."""
    return next(iter(module.children()), None) is None


def nbytes(specs: Iterable[TensorSpec], float_bytes: int | None = None) -> int:
    """Bytes of the tensors at their own dtypes, floating tensors at ``float_bytes`` if given."""
    return sum(s.numel * (float_bytes if float_bytes and s.is_float else itemsize(s.dtype))
               for s in specs)


@dataclass
class CallRecord:
    """One call of one module in one forward.

    ``cost`` is the work of the ops run while this call was the innermost module call (its own
    work: a residual add, a concatenation, a ``F.linear`` on a child's weight). ``params_read``
    are the specs of every parameter this call's own code read (for bytes moved: each call reads
    its weights again); ``weights``/``biases``/``trainable`` count the parameters *attributed*
    to this call: each parameter once in the whole record, on the first call that read it (or,
    if none did, the first call of the module that owns it). ``parent`` is the index in
    :attr:`ModelRecord.calls` of the calling module's call (``None`` for the root).
    """

    path: str
    type: str
    index: int
    order: int
    parent: int | None
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    cost: Cost = field(default_factory=Cost)
    params_read: tuple[TensorSpec, ...] = ()
    weights: int = 0
    biases: int = 0
    trainable: int = 0
    uncounted: dict[str, int] = field(default_factory=dict)
    is_leaf: bool = True  # no module call ran inside this one
    # receptive field of the first output and the sliding windows run (only when traced)
    geometry: CallGeometry | None = None

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def output_elements(self) -> int:
        return sum(s.numel for s in self.outputs)

    def bytes_read(self, float_bytes: int | None = None) -> int:
        """Inputs + the parameters it reads, at their dtypes (floats at ``float_bytes``)."""
        return nbytes(self.inputs, float_bytes) + nbytes(self.params_read, float_bytes)

    def bytes_written(self, float_bytes: int | None = None) -> int:
        return nbytes(self.outputs, float_bytes)

    def bytes_moved(self, float_bytes: int | None = None) -> int:
        return self.bytes_read(float_bytes) + self.bytes_written(float_bytes)


@dataclass
class ModuleInfo:
    """A module of the model, whether or not it ran: its type and own parameter counts."""

    path: str
    type: str
    has_children: bool
    weights: int = 0  # directly owned, shared tensors counted under their first owner
    biases: int = 0


@dataclass
class ModelRecord:
    """Everything one forward of one model showed: the calls, the modules, what was not counted.

    ``inputs`` are the model's input specs (batch included); ``uncounted`` maps each op without
    a cost handle to how often it ran (listed in every table's notes, never dropped);
    ``dead_params``/``dead_modules``: parameters no call read and whose module did not run
    (GoogLeNet's auxiliary heads in eval mode), and the top-most modules holding them.
    """

    name: str
    engine: str
    inputs: tuple[TensorSpec, ...]
    calls: list[CallRecord]
    modules: dict[str, ModuleInfo]
    uncounted: dict[str, int] = field(default_factory=dict)
    dead_params: int = 0
    dead_modules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    geometry: ModelGeometry | None = None  # the receptive-field trace, when one ran

    @property
    def root(self) -> CallRecord:
        return self.calls[0]

    @cached_property
    def by_path(self) -> dict[str, list[CallRecord]]:
        """Each module path that ran (or had parameters read) → its calls, in call order."""
        out: dict[str, list[CallRecord]] = {}
        for c in self.calls:
            out.setdefault(c.path, []).append(c)
        return out

    @property
    def cost(self) -> Cost:
        return Cost.total(c.cost for c in self.calls)

    @property
    def params(self) -> int:
        return sum(c.params for c in self.calls)

    def leaf_calls(self) -> list[CallRecord]:
        """Calls inside which no other module call ran (what "every layer" means)."""
        return [c for c in self.calls if c.is_leaf]

    def input_text(self) -> str:
        return ",".join(s.text() for s in self.inputs)


@dataclass
class LayerTable:
    """A per-layer view for one model and input, ready to render.

    ``input_size`` is the first input's shape, batch included (``(1, 3, 224, 224)``);
    ``columns`` maps each column name to its values, one per row; ``rows`` is the same as a
    DataFrame; ``total`` holds the totals under the same names; ``notes`` are the conventions
    and caveats every rendering states up front. ``record`` is the :class:`ModelRecord` the
    view aggregates (``None`` for tables not built from one).
    """

    kind: str
    model: str
    input_size: tuple[int, ...]
    columns: dict[str, list[Any]]
    total: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    record: ModelRecord | None = field(default=None, repr=False, compare=False)

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The per-layer rows as a DataFrame (column order as in ``columns``)."""
        import pandas as pd

        return pd.DataFrame(self.columns, columns=list(self.columns))

    def frame(self) -> pd.DataFrame:
        """``rows`` with the model, input size and totals in ``df.attrs``."""
        df = self.rows
        df.attrs.update({"model": self.model, "input_size": self.input_size,
                         "total": self.total})
        return df
