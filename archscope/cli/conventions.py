"""``archscope conventions``: every counting convention in full, and each op family's costs."""

from __future__ import annotations

from .app import command
from .common import OutFormatOpt, OutputOpt, emit, pick_format


@command("conventions")
def conventions_cmd(fmt: OutFormatOpt = None, output: OutputOpt = None) -> None:
    """Every counting convention in full (tables show one short line of each), then the cost
    of each op family as the counting code states it."""
    from ..conventions import REGISTRY, cost_family_texts
    from ..render import Format, render_frame, to_json
    from ..terminal import terminal_width

    fmt = pick_format(fmt, output)
    families = cost_family_texts()
    rows = {"convention": list(REGISTRY) + [f"cost:{f}" for f in families],
            "brief": [c.brief for c in REGISTRY.values()] + [""] * len(families),
            "text": [str(c) for c in REGISTRY.values()] + list(families.values())}
    if fmt is Format.json:
        text = to_json({"conventions": {k: {"brief": c.brief, "text": str(c)}
                                        for k, c in REGISTRY.items()},
                        "op_costs": families})
    elif fmt is Format.csv:
        text = render_frame(rows, fmt)
    else:
        text = _document(REGISTRY, families, markdown=fmt is Format.markdown,
                         width=terminal_width() or 100)
    emit(text, output)


def _document(registry: dict, families: dict[str, str], *, markdown: bool, width: int) -> str:
    """Plain text wrapped to ``width`` (bullets with a hanging indent), or Markdown."""
    import textwrap

    def para(text: str, first: str = "  ") -> list[str]:
        if markdown:
            return [text]
        rest = first + "  " if text.startswith("- ") else first
        return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                             break_long_words=False, break_on_hyphens=False)

    h = "## " if markdown else ""
    out = [f"{h}Counting conventions"]
    for key, c in registry.items():
        out += ["", f"**{key}**: {c}"] if markdown else [f"{key}:", *para(str(c))]
    out += ["", f"{h}Cost of each op family (archscope/analysis/costs/*.py)"]
    for family, doc in families.items():
        out += ["", f"### {family}" if markdown else f"{family}:"]
        for n, block in enumerate(doc.split("\n\n")):
            out += [""] if n or markdown else []
            for item in _items(block):
                out += para(item)
    return "\n".join(out) + "\n"


def _items(block: str) -> list[str]:
    """A docstring paragraph as one string per bullet (or one for plain prose)."""
    items: list[str] = []
    for line in block.splitlines():
        line = line.strip()
        if line.startswith("- ") or not items:
            items.append(line)
        else:
            items[-1] += " " + line
    return items
