"""The teaching app's network: organisations as nodes, partner links shaded by trust.

:func:`draw_network` draws a matplotlib figure with no text in it (it redraws
every month, and text is the slow part); :func:`network_caption` and
:func:`network_legend_html` give the caption and legend as HTML instead.
matplotlib is imported only when something is drawn.
"""

from __future__ import annotations

import functools
import html
import io
import math

import numpy as np

from ioc_sim.engine import ACTIVE, DEEPENING
from ioc_sim.errors import ConfigError
from ioc_sim.model.model import CollaborationModel
from ioc_sim.spec.forms import TYPE_NAMES

#: Node colours by organisation type (the palette repeats if types are added).
_PALETTE = ("#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
TYPE_COLOURS = {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(TYPE_NAMES)}
DISTRESS_COLOURS = {False: "#9e9e9e", True: "#d62728"}

#: Colour map of links by trust (red low, green high), and its CSS twin for the legend.
TRUST_CMAP = "RdYlGn"


def _link_classes(model: CollaborationModel):
    """Each partner pair once: end points, mean trust, and whether it is active or partial."""
    s = model.sim
    keep = s.st.src < s.st.dst  # every pair appears in both directions
    src, dst = s.st.src[keep], s.st.dst[keep]
    trust = 0.5 * (s.trust[0][keep] + s.trust[0][s.st.rev[keep]])
    collab = s.edge_collab[0][keep]
    status = s.status[0][collab]
    live = collab < s.C
    active = live & ((status == ACTIVE) | (status == DEEPENING))
    return src, dst, trust, live, active, live & ~active


def node_colours(
    model: CollaborationModel, colour_by: str = "type"
) -> tuple[list[str], dict[str, str]]:
    """Colour of each organisation, and the legend (label -> colour) of those in use.

    Raises:
        ConfigError: If ``colour_by`` is neither ``"type"`` nor ``"distress"``.
    """
    s = model.sim
    if colour_by == "type":
        present = set(s.pop.types)
        return (
            [TYPE_COLOURS[t] for t in s.pop.types],
            {t.replace("_", " "): TYPE_COLOURS[t] for t in TYPE_NAMES if t in present},
        )
    if colour_by == "distress":
        return (
            [DISTRESS_COLOURS[bool(d)] for d in s.distressed[0]],
            {
                "in special measures": DISTRESS_COLOURS[True],
                "not in special measures": DISTRESS_COLOURS[False],
            },
        )
    raise ConfigError("colour_by", f"got {colour_by!r}; allowed: 'type', 'distress'")


def draw_network(model: CollaborationModel, colour_by: str = "type", size_px: int = 480):
    """Draw the organisations and their partner links as a matplotlib figure.

    Nodes sit at the organisations' positions, sized by organisation size and
    coloured by type or by distress (special measures). Each partner link is
    shaded by the mean trust of its two directions (:data:`TRUST_CMAP`); solid
    when the pair works in an active or deepening collaboration, dashed while
    its collaboration forms or dissolves, faint and dotted when it has none.
    The figure holds no text: title and legend are cheaper to draw as HTML,
    and that keeps a 200-organisation network quick to redraw.

    Args:
        model: The model to draw.
        colour_by: ``"type"`` or ``"distress"``.
        size_px: Width and height of the image at 80 dpi.

    Returns:
        A matplotlib Figure.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    s = model.sim
    colours, _ = node_colours(model, colour_by)
    fig = Figure(figsize=(size_px / 80, size_px / 80), dpi=80)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    x, y = s.org["x"], s.org["y"]
    src, dst, trust, live, active, partial = _link_classes(model)
    segs = np.stack([np.column_stack([x[src], y[src]]), np.column_stack([x[dst], y[dst]])], axis=1)
    # Thinner lines and smaller nodes as the system grows, so 200 organisations stay legible.
    scale = 1.0 if s.N <= 30 else max(0.35, math.sqrt(30.0 / s.N))
    norm = Normalize(0.0, 1.0)
    if (~live).any():
        ax.add_collection(
            LineCollection(
                segs[~live], colors="#c8c8c8", linestyles=":", linewidths=0.8 * scale, zorder=1
            )
        )
    for mask, style, width in ((partial, "--", 1.2), (active, "-", 2.0)):
        if mask.any():
            lc = LineCollection(
                segs[mask],
                cmap=TRUST_CMAP,
                norm=norm,
                linestyles=style,
                linewidths=width * scale,
                zorder=2,
            )
            lc.set_array(trust[mask])
            ax.add_collection(lc)
    merged = s.merged_into >= 0
    size = (30.0 + 140.0 * s.org["size"]) * scale
    colours = np.array(colours, dtype=object)
    ax.scatter(
        x[~merged],
        y[~merged],
        s=size[~merged],
        c=list(colours[~merged]),
        edgecolors="black",
        linewidths=0.6,
        zorder=3,
    )
    if merged.any():  # an acquired organisation no longer acts on its own
        ax.scatter(
            x[merged],
            y[merged],
            s=size[merged],
            facecolors="none",
            edgecolors="#777777",
            linewidths=0.8,
            zorder=3,
        )
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylim(-0.04, 1.04)
    ax.set_axis_off()
    return fig


def network_png(model: CollaborationModel, colour_by: str = "type") -> bytes:
    """The network drawing as PNG bytes (what the app shows)."""
    fig = draw_network(model, colour_by)
    out = io.BytesIO()
    # Light compression: encoding at the default level costs more than the drawing.
    fig.savefig(out, format="png", pil_kwargs={"compress_level": 1})
    return out.getvalue()


def network_caption(model: CollaborationModel) -> str:
    """The line above the network: month, organisations, live collaborations."""
    s = model.sim
    n_orgs = int((s.merged_into < 0).sum())
    n_live = int(s.live_collaborations()[0].sum())
    return (
        f"Month {s.month}: {n_orgs} organisations, {n_live} live "
        f"collaboration{'s' if n_live != 1 else ''}"
    )


def network_legend_html(model: CollaborationModel, colour_by: str = "type") -> str:
    """The network's legend as HTML: node colours, link styles and the trust scale."""
    _, legend = node_colours(model, colour_by)
    dot = (
        '<div><span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
        'border:1px solid #000;background:{c};margin:0 6px -1px 0"></span>{t}</div>'
    )
    nodes = "".join(dot.format(c=c, t=html.escape(t)) for t, c in legend.items())
    line = (
        '<div><span style="display:inline-block;width:24px;border-top:{w}px {s} {c};'
        'margin:0 6px 3px 0"></span>{t}</div>'
    )
    links = (
        line.format(w=3, s="solid", c="#1a9850", t="active collaboration")
        + line.format(w=2, s="dashed", c="#1a9850", t="forming or dissolving")
        + line.format(w=2, s="dotted", c="#aaaaaa", t="no live collaboration")
    )
    stops = ", ".join(_cmap_css(TRUST_CMAP, k / 10) for k in range(11))
    scale = (
        '<div>link trust</div><div>0 <span style="display:inline-block;width:100px;'
        f'height:10px;background:linear-gradient(to right, {stops});margin:0 3px -1px 3px">'
        "</span> 1</div>"
    )
    return (
        f'<div class="ioc-network-legend" style="font-size:12px;line-height:1.6;'
        f'width:160px">{nodes}<div style="margin-top:4px">node size: organisation size'
        f'</div><div style="margin-top:6px">{links}</div>'
        f'<div style="margin-top:6px">{scale}</div></div>'
    )


@functools.lru_cache(maxsize=32)
def _cmap_css(name: str, at: float) -> str:
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    return to_hex(colormaps[name](at))
