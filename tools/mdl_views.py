"""Write one Vensim view per sector group into the sketch section of model/nxmfg.mdl.

Usage: python tools/mdl_views.py [MDL] [--png DIR]

The equations (everything above the sketch separator) are read, never changed. Each `.Group` of
equations gets a view `*Group`: stocks as boxes, named flows as valves with pipes, other variables as
plain names, influence arrows for dependencies, and grey shadow variables for what the group reads
from other groups. Layout: the stocks in a row (the band), flows on pipes beside them, auxiliaries
in rows above the band (those that feed it, by distance) and below it (those it feeds, by depth).
The sketch format follows Vensim's .mdl files (V300) and PySD's sketch grammar (split_views).
"""

import argparse
import os
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from mdl_layout import BUILTINS, Obj, View, arc, bow, build_view

SEPARATOR = "\\\\\\---/// Sketch information - do not modify anything except names"
HEADER = "V300  Do not put anything below this section - it will be ignored"
FONT = "$192-192-192,0,Times New Roman|12||0-0-0|0-0-0|0-0-255|-1--1--1|-1--1--1|96,96,100,0"
SHADOW_TAIL = "128-128-128,0-0-0,|||128-128-128"
GROUP = re.compile(r"^\*+\s*\n\s*\.([^\n]+?)\s*\n\s*\*+", re.DOTALL)
IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_][A-Za-z0-9_ ]*")


def key(name: str) -> str:
    """Vensim names are case-, space- and underscore-insensitive."""
    return " ".join(name.replace("_", " ").split()).lower()


@dataclass
class Variable:
    name: str
    group: str
    rhs: str
    deps: list[str] = field(default_factory=list)  # keys, in order of first use
    is_stock: bool = False
    inflows: list[str] = field(default_factory=list)  # keys of named flows
    outflows: list[str] = field(default_factory=list)
    stock_deps: list[str] = field(default_factory=list)  # used by inline rate terms and the initial value


def split_top(text: str, separators: str) -> list[str]:
    """Split at separators outside parentheses and brackets; keep each separator with its piece."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([" and 1 or (char in ")]" and -1 or 0)
        before = text[:i].rstrip()
        exponent = re.search(r"\d[eE]$", text[:i])  # 1e-3 is a number, not a difference
        unary = char in "+-" and (not before or before[-1] in "(^*/,+-" or bool(exponent))
        if depth == 0 and char in separators and i > start and not unary:
            pieces.append(text[start:i])
            start = i
    return [*pieces, text[start:]]


def identifiers(expression: str, names: dict[str, "Variable"]) -> list[str]:
    found = []
    for match in IDENTIFIER.finditer(expression):
        name = key(match.group())
        if (name in names or name in BUILTINS) and name not in found:
            found.append(name)
    return found


def parse(text: str) -> tuple[dict[str, Variable], list[str]]:
    """Equations of the .mdl text above the sketch: variables by key, and the group names in order."""
    body = text.split(SEPARATOR, 1)[0].replace("{UTF-8}", "", 1)
    variables, groups, group = {}, [], "Model"
    for chunk in body.split("|"):
        equation = re.sub(r"\\\s*\n", " ", chunk.split("~", 1)[0]).strip()
        header = GROUP.match(equation)
        if header:
            group = header.group(1).strip()
            groups.append(group)
        elif equation:
            lhs, rhs = equation.split("=", 1) if "=" in equation else (equation.split("(", 1)[0], "")
            name = " ".join(lhs.split())
            variables[key(name)] = Variable(name, group, " ".join(rhs.split()))
    for variable in variables.values():
        variable.deps = [d for d in identifiers(variable.rhs, variables) if d != key(variable.name)]
        variable.is_stock = bool(re.match(r"INTEG\s*\(", variable.rhs, re.IGNORECASE))
    for variable in variables.values():
        if variable.is_stock:
            _parse_stock(variable, variables)
    return variables, groups


def _parse_stock(stock: Variable, variables: dict[str, Variable]) -> None:
    rate, initial = split_top(stock.rhs[stock.rhs.index("(") + 1:stock.rhs.rindex(")")], ",")
    for term in split_top(rate, "+-"):
        body = term.strip().lstrip("+-").strip()
        if key(body) in variables and not variables[key(body)].is_stock:
            (stock.outflows if term.strip().startswith("-") else stock.inflows).append(key(body))
        else:
            stock.stock_deps += identifiers(body, variables)
    stock.stock_deps += identifiers(initial.lstrip(","), variables)
    stock.stock_deps = [d for d in dict.fromkeys(stock.stock_deps) if d != key(stock.name)]


def sketch_lines(view: View) -> list[str]:
    """The view in Vensim's sketch syntax, objects numbered from 1 in drawing order."""
    left = min(o.x - o.w for o in view.objects)
    top = min(o.y - o.h for o in view.objects)
    for number, obj in enumerate(view.objects, 1):
        obj.id, obj.x, obj.y = number, round(obj.x - left + 40), round(obj.y - top + 40)
        obj.w, obj.h = round(obj.w), round(obj.h)
    boxes = np.array([(o.x - o.w - 2, o.y - o.h - 2, o.x + o.w + 2, o.y + o.h + 2) for o in view.objects])
    lines = ["*" + view.name, FONT, *map(_object_line, view.objects)]
    for number, (start, end, kind) in enumerate(view.arrows, len(view.objects) + 1):
        if kind == "info":
            view.points.append(bow(start, end, boxes, view.objects))
            lines.append(f"1,{number},{start.id},{end.id},0,0,0,0,0,64,0,-1--1--1,,1|{view.points[-1]}|")
        else:
            view.points.append(_pipe_point(start, end))
            shape = 4 if kind == "pipe_in" else 100  # 4: arrowhead at this end; 100: none
            lines.append(f"1,{number},{start.id},{end.id},{shape},0,0,22,0,0,0,-1--1--1,,1|{view.points[-1]}|")
    return lines


def _object_line(o: Obj) -> str:
    place = f"{o.id},{{}},{o.x},{o.y},{o.w},{o.h}"
    return {
        "stock": f"10,{place.format(o.name)},3,3,0,0,0,0,0,0",
        "aux": f"10,{place.format(o.name)},8,3,0,0,0,0,0,0",
        "shadow": f"10,{place.format(o.name)},8,2,0,3,-1,0,0,0,{SHADOW_TAIL}",
        "flow": f"10,{place.format(o.name)},40,3,0,0,-1,0,0,0",
        "valve": f"11,{place.format(0)}," + ("33,3,0,0,4,0,0,0" if o.vertical else "34,3,0,0,1,0,0,0"),
        "cloud": f"12,{place.format(48)},0,3,0,0,-1,0,0,0",
    }[o.kind]


def _pipe_point(valve: Obj, end: Obj) -> tuple[int, int]:
    """Vensim stores a pipe by a point halfway from the valve to the edge of the stock or cloud."""
    if valve.vertical:
        x, y = valve.x, end.y - end.h if end.y > valve.y else end.y + end.h
    else:
        x, y = end.x - end.w if end.x > valve.x else end.x + end.w, valve.y
    return round((x + valve.x) / 2), round((y + valve.y) / 2)


def settings(variables: dict[str, Variable]) -> list[str]:
    def value(name, default):
        text = variables.get(key(name), Variable("", "", str(default))).rhs
        return text if re.fullmatch(r"-?[\d.]+", text) else default

    first_stock = next((v.name for v in variables.values() if v.is_stock), "Time")
    start, end = value("INITIAL TIME", 0), value("FINAL TIME", 100)
    return ["///---\\\\\\", ":L<%^E!@", "1:Current.vdf", "9:Current", "15:0,0,0,0,0,0", "19:100,0",
            "27:2,", "34:0,", "4:Time", f"5:{first_stock}", "35:Date", "36:YYYY-MM-DD", "37:2000",
            "38:1", "39:1", "40:2", "41:0", "42:1", f"24:{start}", f"25:{end}", f"26:{end}"]


def with_views(text: str) -> tuple[str, list[View]]:
    """The .mdl text with its sketch section replaced by one generated view per group."""
    variables, groups = parse(text)
    body = text.split(SEPARATOR, 1)[0]
    body += "" if body.endswith("\n") else "\n"
    if not groups:
        raise ValueError("no sector groups (lines like '\t.Output' between '****' rulers) to draw")
    views = [view for view in (build_view(group, variables) for group in groups) if view.objects]
    lines = []
    for view in views:
        lines += [SEPARATOR, HEADER, *sketch_lines(view)]
    return body + "\n".join([*lines, *settings(variables)]) + "\n", views


def render_png(view: View, path: Path) -> None:
    """A quick matplotlib drawing of a laid-out view, to judge readability without Vensim."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    width = max(o.x + o.w for o in view.objects) + 40
    height = max(o.y + o.h for o in view.objects) + 40
    fig, ax = plt.subplots(figsize=(width / 80, height / 80))
    for (start, end, kind), point in zip(view.arrows, view.points, strict=True):
        if kind == "info":
            xy = np.vstack([[start.x, start.y], arc(start, end, point, 30), [end.x, end.y]])
            ax.plot(xy[:-2, 0], xy[:-2, 1], lw=0.6, color="tab:blue")
            ax.annotate("", xy[-1], xy[-3], arrowprops={"arrowstyle": "-|>", "lw": 0.6, "color": "tab:blue",
                                                          "shrinkB": max(end.h, 4)})
        else:  # pipes: valve to twice the stored halfway point, i.e. the stock's or cloud's edge
            tip = (2 * point[0] - start.x, 2 * point[1] - start.y)
            ax.annotate("", tip, (start.x, start.y), arrowprops={
                "arrowstyle": "-|>" if kind == "pipe_in" else "-", "lw": 3, "color": "0.6"})
    for o in view.objects:
        colour = {"shadow": "0.5", "cloud": "0.7"}.get(o.kind, "black")
        if o.kind in ("stock", "valve", "cloud"):
            ax.add_patch(plt.Rectangle((o.x - o.w, o.y - o.h), 2 * o.w, 2 * o.h, fill=False, ec=colour))
        box = {"fc": "white", "ec": "none", "pad": 0.5} if o.kind != "stock" else None
        label = f"<{o.name}>" if o.kind == "shadow" else o.name
        width_chars = 16 if o.kind == "stock" else 18
        ax.text(o.x, o.y, "\n".join(textwrap.wrap(label, width_chars)), ha="center", va="center",
                fontsize=6, color=colour, bbox=box)
    ax.set(xlim=(0, width), ylim=(height, 0), title=view.name)
    ax.axis("off")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mdl", nargs="?", type=Path, default=Path(__file__).parents[1] / "model" / "nxmfg.mdl")
    parser.add_argument("--png", type=Path, help="also draw each view to DIR/<view>.png")
    args = parser.parse_args(argv)
    try:
        text, views = with_views(args.mdl.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"mdl_views: {args.mdl}: {error}", file=sys.stderr)
        return 1
    if text != args.mdl.read_text(encoding="utf-8"):
        handle, temporary = tempfile.mkstemp(dir=args.mdl.parent, suffix=".mdl.tmp")
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, args.mdl.stat().st_mode)  # mkstemp makes it private
        os.replace(temporary, args.mdl)
    if args.png:
        args.png.mkdir(parents=True, exist_ok=True)
        for view in views:
            render_png(view, args.png / f"{view.name}.png")
    print(f"{args.mdl}: {len(views)} views ({', '.join(v.name for v in views)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
