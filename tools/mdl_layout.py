"""Layout of a Vensim view of one sector: the stock-and-flow band, rows of names, bowed arrows.

The stocks sit in a row (the band), chained by the flows between them; flows from and to clouds are
vertical pipes. The names that feed the band stand in rows above it, by their distance to it; the
names it feeds stand in rows below, by depth; each row is ordered and placed by the mean x of its
neighbours (barycentre sweeps) so arrows stay short. Coordinates are Vensim's: centres and half sizes.
"""

import textwrap
from dataclasses import dataclass, field

import numpy as np

BUILTINS = {"time": "Time"}  # Vensim's clock: used by equations, defined by no equation
ROW_GAP, ROW_ITEMS, X_GAP = 48, 9, 28


@dataclass
class Obj:
    """A sketch object; x, y its centre, w, h its half width and height (Vensim's convention)."""
    kind: str  # stock | aux | shadow | valve | flow | cloud
    name: str
    x: float
    y: float
    w: float
    h: float
    vertical: bool = False
    id: int = 0


def text_box(name: str, width: int = 18) -> tuple[float, float]:
    """Half width and height of a name wrapped as Vensim wraps it (Times New Roman 12, about 6 px a letter)."""
    lines = textwrap.wrap(name, width) or [name]
    return 3.1 * max(map(len, lines)) + 4, 7.5 * len(lines) + 1


@dataclass
class View:
    name: str
    objects: list[Obj] = field(default_factory=list)
    arrows: list[tuple[Obj, Obj, str]] = field(default_factory=list)  # (from, to, pipe_in|pipe_out|info)
    nodes: dict = field(default_factory=dict)  # graph node -> Obj
    points: list[tuple[int, int]] = field(default_factory=list)  # each arrow's stored point


def build_view(group: str, variables: dict) -> View:
    view = View(group)
    own = {k: v for k, v in variables.items() if v.group == group}
    piped = _layout_band(view, own, variables)
    edges = _edges(own, variables, piped)
    _layout_rows(view, own, edges, variables)
    for dep, target in edges:
        view.arrows.append((view.nodes[dep], view.nodes[target], "info"))
    return view


def _pipe_ends(own: dict) -> dict[str, list[str | None]]:
    """flow key -> [source stock, destination stock] (None = cloud), stocks of this group only."""
    ends: dict[str, list[str | None]] = {}
    for k, stock in own.items():
        for index, flows in ((1, stock.inflows), (0, stock.outflows)):
            for flow in flows:
                if flow in own:
                    end = ends.setdefault(flow, [None, None])
                    end[index] = end[index] or k
    return ends


def _stock_order(own: dict, ends: dict) -> list[list[str]]:
    """Stocks grouped into chains joined by stock-to-stock flows, in equation order."""
    neighbours = {k: [] for k, v in own.items() if v.is_stock}
    for source, target in ends.values():
        if source and target:
            neighbours[source].append(target)
            neighbours[target].append(source)
    chains, seen = [], set()
    for first in neighbours:
        if first in seen:
            continue
        component, todo = [], [first]
        while todo:  # collect the component, then walk it from an end so a chain stays in sequence
            k = todo.pop()
            if k not in component:
                component.append(k)
                todo += neighbours[k]
        start = next((k for k in neighbours if k in component and len(set(neighbours[k])) <= 1), first)
        chain, todo = [], [start]
        while todo:
            k = todo.pop(0)
            if k not in chain:
                chain.append(k)
                todo += [n for n in dict.fromkeys(neighbours[k]) if n not in chain]
        seen.update(chain)
        chains.append(chain)
    return chains


def _layout_band(view: View, own: dict, variables: dict) -> set[tuple[str, str]]:
    """Place stocks, valves, flow names and clouds; return the (flow, stock) pairs drawn as pipes."""
    ends = _pipe_ends(own)
    lanes: dict[tuple[str, str], list[str]] = {}
    clouds = {k: ([], []) for k, v in own.items() if v.is_stock}
    for flow, (source, target) in ends.items():
        if source and target:
            lanes.setdefault(tuple(sorted((source, target))), []).append(flow)
        else:
            clouds[source or target][0 if target else 1].append(flow)
    lane_count = {k: 0 for k in clouds}
    for (a, b), flows in lanes.items():
        lane_count[a], lane_count[b] = max(lane_count[a], len(flows)), max(lane_count[b], len(flows))
    for chain in _stock_order(own, ends):
        previous = None
        for k in chain:
            between = lanes.get(tuple(sorted((previous, k))), []) if previous else []
            label = max([text_box(variables[f].name)[0] for f in between], default=0)
            rightmost = max((o.x + o.w for o in view.objects), default=-60)
            x = max(rightmost + 60, view.nodes[previous].x + view.nodes[previous].w + 2 * label + 70
                    if between else rightmost + 60)
            w, h = text_box(own[k].name, 16)
            stock = Obj("stock", own[k].name, 0, 0, max(45, w + 4, 70 * max(map(len, clouds[k]))),
                        max(22, h + 6, 14 * lane_count[k] + 6))
            stock.x = x + stock.w
            view.nodes[k] = stock
            view.objects.append(stock)
            if between:
                _lane_flows(view, variables, between, view.nodes[previous], stock, ends)
            for flows, side in ((clouds[k][0], -1), (clouds[k][1], 1)):
                for i, flow in enumerate(flows):
                    _cloud_flow(view, variables[flow].name, flow, stock, (i - (len(flows) - 1) / 2) * 140, side)
            previous = k
    _separate_band_labels(view)
    return {(f, s) for f, pair in ends.items() for s in pair if s}


def _lane_flows(view: View, variables: dict, flows: list[str], left: Obj, right: Obj, ends: dict) -> None:
    """Horizontal flows between neighbouring stocks, one lane each; names above or below the lanes."""
    mid = (left.x + left.w + right.x - right.w) / 2
    for i, flow in enumerate(flows):
        lane = (i - (len(flows) - 1) / 2) * 28 or 0.0
        valve = Obj("valve", "", mid, left.y + lane, 6, 8)
        w, h = text_box(variables[flow].name)
        above = lane < 0 or (lane == 0 and i == 0 and len(flows) == 1)
        label = Obj("flow", variables[flow].name, mid, valve.y + (-1 if above else 1) * (valve.h + 3 + h), w, h)
        source, target = ends[flow]
        view.objects += [valve, label]
        view.nodes[flow] = label
        view.arrows.append((valve, view.nodes[target], "pipe_in"))
        view.arrows.append((valve, view.nodes[source], "pipe_out"))


def _cloud_flow(view: View, name: str, flow: str, stock: Obj, offset: float, side: int) -> None:
    """A vertical flow: inflows (side -1) come from a cloud above, outflows go to a cloud below."""
    x = stock.x + offset
    valve = Obj("valve", "", x, stock.y + side * (stock.h + 62), 8, 6, vertical=True)
    cloud = Obj("cloud", "", x, stock.y + side * (stock.h + 112), 10, 8)
    w, h = text_box(name)
    label = Obj("flow", name, x + valve.w + 4 + w, valve.y, w, h)
    view.objects += [valve, label, cloud]
    view.nodes[flow] = label
    view.arrows += [(valve, stock, "pipe_in" if side < 0 else "pipe_out"),
                    (valve, cloud, "pipe_out" if side < 0 else "pipe_in")]


def _separate_band_labels(view: View) -> None:
    """Push flow names sideways off anything they overlap (long names beside tight pipes)."""
    for label in (o for o in view.objects if o.kind == "flow"):
        for _ in range(20):
            hit = next((o for o in view.objects if o is not label and overlaps(o, label)), None)
            if hit is None:
                break
            label.x = hit.x + hit.w + label.w + 4 if label.x >= hit.x else hit.x - hit.w - label.w - 4


def overlaps(a: Obj, b: Obj, margin: float = 1) -> bool:
    return abs(a.x - b.x) < a.w + b.w + margin and abs(a.y - b.y) < a.h + b.h + margin


def _edges(own: dict, variables: dict, piped: set) -> list[tuple[str, str]]:
    """Influence arrows (dependency -> user) of the view; shadows are ('shadow', key) nodes."""
    edges = []
    for k, variable in own.items():
        deps = [*variable.stock_deps, *variable.inflows, *variable.outflows] if variable.is_stock else variable.deps
        for dep in deps:
            if (dep, k) in piped:
                continue
            node = dep if dep in own else ("shadow", dep)
            edges.append((node, k))
    return list(dict.fromkeys(edges))


def _layers(nodes: list, edges: list, band: set) -> dict:
    """Row of each node: -d above the band for nodes d arrows upstream of it, +depth below otherwise."""
    users = {n: [t for d, t in edges if d == n] for n in nodes}
    deps = {n: [d for d, t in edges if t == n] for n in nodes}
    layer = {n: 0 for n in band}
    frontier, distance = list(band), 0
    while frontier:  # breadth-first upstream of the band
        distance += 1
        frontier = [d for n in frontier for d in deps.get(n, []) if d not in layer]
        for d in frontier:
            layer[d] = -distance
    below = [n for n in nodes if n not in layer]
    reached = set()
    todo = [n for n in below if any(d in band or layer.get(d, 1) < 0 for d in deps[n])]
    while todo:
        n = todo.pop()
        if n not in reached:
            reached.add(n)
            todo += [u for u in users[n] if u in below]
    depth: dict = {}

    def longest(n, stack=()):
        if n not in depth:
            inner = [d for d in deps[n] if d in below and d not in stack]
            depth[n] = 1 + max((longest(d, (*stack, n)) for d in inner), default=0)
        return depth[n]

    for n in below:
        longest(n)
    sources = sorted((n for n in below if n not in reached), key=lambda n: -depth[n])
    depth = {n: 2 * d for n, d in depth.items()}  # even rows; the odd rows between are for sources
    for n in sources:
        consumers = [depth[u] for u in users[n] if u in below]
        depth[n] = max(1, min(consumers, default=2) - 1)  # just above their first user
    return layer | depth


def _layout_rows(view: View, own: dict, edges: list, variables: dict) -> None:
    band = {k for k in view.nodes}
    nodes = list(dict.fromkeys([*own, *(d for d, _ in edges)]))
    layer = _layers(nodes, edges, band)
    for node in [n for n in nodes if isinstance(n, tuple) and layer[n] < 0]:
        below = [t for d, t in edges if d == node and layer[t] > 0]
        if below:  # a second shadow below the band rather than arrows across it
            twin = (*node, "below")
            layer[twin] = max(1, min(layer[t] for t in below) - 1)
            edges[:] = [(twin if d == node and t in below else d, t) for d, t in edges]
            nodes.append(twin)
    neighbours = {n: [d for d, t in edges if t == n] + [t for d, t in edges if d == n] for n in nodes}
    band_top = min((o.y - o.h for o in view.objects), default=0)
    band_bottom = max((o.y + o.h for o in view.objects), default=0)
    rows = []
    for side in (-1, 1):
        edge = band_top if side < 0 else band_bottom
        for number in sorted({abs(v) for v in layer.values() if v * side > 0}):
            row = [n for n in nodes if layer[n] == side * number]
            row.sort(key=lambda n: _wanted_x(view, n, neighbours) or float("inf"))
            for chunk in (row[i:i + ROW_ITEMS] for i in range(0, len(row), ROW_ITEMS)):
                objs = [_node_obj(n, variables) for n in chunk]
                height = max(o.h for o in objs)
                for obj in objs:
                    obj.y = edge + side * (ROW_GAP + height)
                view.nodes.update(zip(chunk, objs, strict=True))
                view.objects += objs
                _arrange(view, chunk, neighbours)
                edge = objs[0].y + side * height
                rows.append(chunk)
    for _ in range(3):  # barycentre sweeps, now that every row's neighbours have a place
        for chunk in rows:
            _arrange(view, chunk, neighbours)


def _node_obj(node, variables: dict) -> Obj:
    shadow = isinstance(node, tuple)
    name = BUILTINS[node[1]] if shadow and node[1] in BUILTINS else variables[node[1] if shadow else node].name
    return Obj("shadow" if shadow else "aux", name, 0, 0, *text_box(name))


def _wanted_x(view: View, node, neighbours: dict) -> float | None:
    """Mean x of the placed neighbours in other rows (names in the same row only push it aside)."""
    row = view.nodes[node].y if node in view.nodes else None
    xs = [view.nodes[m].x for m in neighbours[node] if m in view.nodes and view.nodes[m].y != row]
    return sum(xs) / len(xs) if xs else None


def _arrange(view: View, chunk: list, neighbours: dict) -> None:
    """Put a row's names in the order of, and as near as they can to, the mean x of their neighbours."""
    placed = [o for o in view.objects if o.kind in ("stock", "valve")] or view.objects
    centre = sum(o.x for o in placed) / len(placed)
    wants = {n: _wanted_x(view, n, neighbours) for n in chunk}
    wants = {n: centre if want is None else want for n, want in wants.items()}
    chunk.sort(key=wants.get)
    objs = [view.nodes[n] for n in chunk]
    x = -float("inf")
    for n, obj in zip(chunk, objs, strict=True):
        obj.x = max(wants[n], x + obj.w)
        x = obj.x + obj.w + X_GAP
    shift = sum(wants[n] - o.x for n, o in zip(chunk, objs, strict=True)) / len(objs)
    for obj in objs:
        obj.x += shift


def arc(start: Obj, end: Obj, point: tuple[int, int], samples: int = 12) -> np.ndarray:
    """Points of the curved arrow through `point` (a quadratic curve: close to Vensim's arc)."""
    a, b, p = np.array([start.x, start.y]), np.array([end.x, end.y]), np.array(point)
    control = 2 * p - (a + b) / 2
    t = np.linspace(0.1, 0.9, samples)[:, None]
    return (1 - t) ** 2 * a + 2 * t * (1 - t) * control + t ** 2 * b


def bow(start: Obj, end: Obj, boxes: np.ndarray, objects: list[Obj]) -> tuple[int, int]:
    """Middle point of an influence arrow: straight if that crosses no name, else the least-crossing bow."""
    others = np.array([o is not start and o is not end for o in objects])
    mid = np.array([(start.x + end.x) / 2, (start.y + end.y) / 2])
    normal = np.array([end.y - start.y, start.x - end.x]) / max(np.hypot(end.x - start.x, end.y - start.y), 1)
    best = None
    for offset in (0, 20, -20, 40, -40, 70, -70, 110, -110):
        point = tuple(np.round(mid + offset * normal).astype(int))
        xy = arc(start, end, point)[:, None, :]
        inside = (xy[..., 0] > boxes[:, 0]) & (xy[..., 0] < boxes[:, 2]) & (xy[..., 1] > boxes[:, 1]) \
            & (xy[..., 1] < boxes[:, 3])
        hits = int((inside & others).any(axis=0).sum())
        if best is None or hits < best[0]:
            best = (hits, point)
        if hits == 0:
            break
    return int(best[1][0]), int(best[1][1])
