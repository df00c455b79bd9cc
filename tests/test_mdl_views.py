"""The generated Vensim views of nxmfg.mdl: one per sector, complete, readable, and invisible to PySD's equations.

The sketch is read back with plain text parsing and the dependencies come from PySD's translation,
so the tests do not take the generator's word for anything.
"""

import re
import shutil
import sys
import warnings
from pathlib import Path

import pandas as pd
import pysd
import pytest

ROOT = Path(__file__).parents[1]
MDL = ROOT / "model" / "nxmfg.mdl"
SEPARATOR = "\\\\\\---/// Sketch information - do not modify anything except names"
SECTORS = ["Drivers", "Output", "Capital", "Firms", "Innovation", "Digitalisation", "Energy", "Labour",
           "Emissions", "Fiscal"]
CONTROL = {"FINAL TIME", "INITIAL TIME", "SAVEPER", "TIME STEP"}

sys.path.insert(0, str(ROOT / "tools"))  # tools/ holds scripts, not an installed package
import mdl_views  # noqa: E402  (after the sys.path line above)


def equations(text: str) -> str:
    return text.split(SEPARATOR, 1)[0]


def groups_of_variables(text: str) -> dict[str, str]:
    """Variable name -> its group, from the equation text: names start a line, groups are `\t.Name` lines."""
    groups, group = {}, None
    for line in equations(text).splitlines():
        header = re.fullmatch(r"\t\.(\w+)\s*", line)
        if header:
            group = header.group(1)
        elif line and not line[0].isspace() and line[0] not in "*{":
            groups[re.split(r"=|\(", line)[0].strip()] = group
    return groups


def read_views(text: str) -> dict[str, list[list[str]]]:
    """View name -> its object and arrow lines, split into fields."""
    views, current = {}, None
    sketch = text.split(SEPARATOR, 1)[1].split("///---\\\\\\")[0]
    for line in sketch.splitlines():
        if line.startswith("*"):
            current = views.setdefault(line[1:], [])
        elif current is not None and re.match(r"(1|10|11|12),", line):
            current.append(line.split(","))
    return views


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("views") / "nxmfg.mdl"
    shutil.copy(MDL, path)
    assert mdl_views.main([str(path)]) == 0
    return path


def test_running_the_tool_twice_gives_the_same_bytes(generated, tmp_path):
    again = tmp_path / "nxmfg.mdl"
    shutil.copy(generated, again)
    assert mdl_views.main([str(again)]) == 0
    assert again.read_bytes() == generated.read_bytes()


def test_equations_above_the_sketch_are_untouched(generated):
    assert equations(generated.read_text(encoding="utf-8")) == equations(MDL.read_text(encoding="utf-8"))


def test_one_view_per_sector_named_after_it(generated):
    assert list(read_views(generated.read_text(encoding="utf-8"))) == [*SECTORS, "Control"]


def test_every_variable_is_drawn_in_the_view_of_its_group_and_only_there(generated):
    text = generated.read_text(encoding="utf-8")
    groups = groups_of_variables(text)
    drawn = {}
    for view, lines in read_views(text).items():
        for fields in lines:
            if fields[0] == "10" and int(fields[8]) % 2 == 1:  # odd flags: not a shadow
                assert fields[2] not in drawn, f"{fields[2]} drawn in {drawn.get(fields[2])} and {view}"
                drawn[fields[2]] = view
    assert drawn == groups


def test_shadows_are_other_sectors_variables(generated):
    text = generated.read_text(encoding="utf-8")
    groups = groups_of_variables(text)
    shadows = 0
    for view, lines in read_views(text).items():
        for fields in (f for f in lines if f[0] == "10" and int(f[8]) % 2 == 0):
            shadows += 1
            assert fields[2] == "Time" or groups[fields[2]] != view
            assert fields[15] == "128-128-128"  # grey
    assert shadows > 30


def test_no_two_objects_of_a_view_overlap(generated):
    for view, lines in read_views(generated.read_text(encoding="utf-8")).items():
        boxes = [(f[2] if f[0] == "10" else f[0] + "#" + f[1], *map(int, f[3:7])) for f in lines if f[0] != "1"]
        for i, (name, x, y, w, h) in enumerate(boxes):
            for other, x2, y2, w2, h2 in boxes[i + 1:]:
                assert abs(x - x2) >= w + w2 or abs(y - y2) >= h + h2, f"{view}: {name} overlaps {other}"


def _real_dependencies(model, name: str) -> set[str]:
    """PySD's dependencies of a variable, with its stateful objects (INTEG, DELAY, INITIAL) opened."""
    found, todo = set(), list(model.dependencies[name])
    while todo:
        dep = todo.pop()
        if dep.startswith("__"):  # a lookup's table, not a variable
            continue
        if dep.startswith("_"):
            parts = model.dependencies[dep]
            todo += [d for part in parts.values() for d in part] if "step" in parts else list(parts)
        else:
            found.add(dep)
    return found


@pytest.fixture(scope="module")
def translations(generated, tmp_path_factory):
    """The equations alone translated as one file, and the generated file translated per view."""
    plain = tmp_path_factory.mktemp("plain") / "nxmfg.mdl"
    plain.write_text(equations(MDL.read_text(encoding="utf-8")), encoding="utf-8")
    split = shutil.copy(generated, tmp_path_factory.mktemp("split"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        split_model = pysd.read_vensim(split, split_views=True)
    return pysd.read_vensim(plain), split_model, [str(w.message) for w in caught]


def test_pysd_makes_one_module_per_sector_view(translations):
    _, split_model, messages = translations
    assert sorted(split_model.modules) == sorted(s.lower() for s in SECTORS)
    # The control variables stay in PySD's main module, and say so; nothing else is left over.
    assert len(messages) == len(CONTROL)
    assert all(re.match(r"Control variable '[A-Z ]+' is declared as a workbench variable", m) for m in messages)


def test_views_do_not_change_the_results(translations):
    plain, split_model, _ = translations
    columns = ["manufacturing_va_real", "above_scale_firms_total", "energy_consumption", "digital_maturity",
               "knowledge_stock", "high_tech_enterprises", "physical_capital"]
    pd.testing.assert_frame_equal(plain.run(return_columns=columns), split_model.run(return_columns=columns),
                                  check_exact=True)


def test_every_dependency_is_drawn_as_an_arrow_or_pipe(translations, generated):
    plain = translations[0]
    py_names = plain.namespace | {"Time": "time"}
    real_names = {py: real for real, py in py_names.items()}
    for view, lines in read_views(generated.read_text(encoding="utf-8")).items():
        names = {f[1]: f[2] for f in lines if f[0] == "10"}
        arrows = [f for f in lines if f[0] == "1"]
        links = {(names.get(f[2]), names.get(f[3])) for f in arrows if f[7] != "22"}
        # A pipe runs from a valve to a stock; the valve's flow name is the object right after it.
        links |= {(names.get(str(int(f[2]) + 1)), names.get(f[3])) for f in arrows if f[7] == "22"}
        for fields in (f for f in lines if f[0] == "10" and int(f[8]) % 2 == 1):
            for dep in _real_dependencies(plain, py_names[fields[2]]) - {py_names[fields[2]]}:
                assert (real_names[dep], fields[2]) in links, f"{view}: no arrow {real_names[dep]} -> {fields[2]}"
