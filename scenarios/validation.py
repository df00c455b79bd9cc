"""Reading YAML input and turning every validation failure into one line naming file and field."""

from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from nxmfg.model.input_files import InputFileError, read_text
from nxmfg.model.yaml_reader import YamlError, parse


class ScenarioError(ValueError):
    """Bad scenario or targets input; str() is one line: `file: dotted.field: problem; allowed: ...`."""

    def __init__(self, path: Path | str, field: str, problem: str):
        self.path, self.field, self.problem = str(path), field, problem
        location = f"{self.path}: {field}: " if field else f"{self.path}: "
        super().__init__(_one_line(location + problem))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_yaml(path: Path | str, kind: str = "scenario") -> Any:
    """Parse a YAML file of `kind` (a key of model.input_files.LIMITS) by YAML 1.2 (model/yaml_reader.py);
    any read or syntax problem becomes a one-line ScenarioError."""
    try:
        text = read_text(path, kind)
    except InputFileError as error:
        raise ScenarioError(path, "", error.problem) from None
    try:
        return parse(text)
    except YamlError as error:
        raise ScenarioError(path, "", f"not valid YAML: {error}") from None


def dotted(loc: tuple) -> str:
    """('levers', 'x', 'from') -> 'levers.x.from'; list indices as [i]."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _unwrap(annotation: Any) -> Any:
    """Optional[X] -> X."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) in (Union, UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Allowed keys of the pydantic model reached by following `loc` through fields, dicts and lists."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return None


def from_validation_error(path: Path | str, error: ValidationError, model: type[BaseModel],
                          prefix: tuple = ()) -> ScenarioError:
    """The first pydantic error as a ScenarioError (further errors are counted, not listed).

    prefix is prepended to the field path (a target row's id, say).
    """
    first = error.errors()[0]
    loc = tuple(first["loc"])
    shown = prefix + (loc[:-1] if loc and loc[-1] == "[key]" else loc)
    problem = describe(first, model)
    more = len(error.errors()) - 1
    if more:
        problem += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(path, dotted(shown), problem)


def describe(error: dict, model: type[BaseModel]) -> str:
    """One pydantic error (an item of ValidationError.errors()) in words, with the allowed keys or values."""
    kind, loc = error["type"], tuple(error["loc"])
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        return "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind == "missing":
        return "required key missing"
    if loc and loc[-1] == "[key]":
        return f"key {_short(error.get('input'))}: {error['msg'].lower()}"
    if kind == "literal_error":
        return f"{_short(error.get('input'))} is not allowed; allowed: {error['ctx']['expected']}"
    message = error["msg"]
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    return f"{message} (got {_short(error.get('input'))})"
