"""The YAML dialect of preset files: a safe loader only (no tag builds a Python object or
runs code), plain values as in YAML 1.2 (``1e3`` is a number; ``yes`` and ``010`` are not
surprises), aliases that may not expand into a bomb, and no key twice."""

from __future__ import annotations

import gc
import math
import re
import reprlib
from typing import Any

import yaml

from gifcli.core.errors import PresetError

MAX_YAML_VALUES = 1_000_000  # values after expanding aliases (an alias bomb stops here)
_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 40, 40, 4, 4, 2
_repr.maxset = _repr.maxfrozenset = _repr.maxtuple = 4


def short_repr(value: Any) -> str:
    """A short repr: never print a huge value (an alias bomb, a 5000-digit number) in an error."""
    try:
        return _repr.repr(value)
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"


_TAG = "tag:yaml.org,2002:"
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """A safe loader (never ``yaml.Loader``) that resolves plain values as YAML 1.2 does.

    YAML 1.1 reads ``1e3`` as text, ``010`` as 8, ``1:30`` as 90 and ``no`` as false; here
    they are 1000.0, 10, text and text. Timestamps stay text.
    """

    yaml_implicit_resolvers: dict = {}  # filled below (PyYAML keeps one table per class)


_RESOLVERS = (
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+", "-+0123456789"),  # decimal only: the rule of gifcli.core.numbers
    ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
              r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)", "-+0123456789."),
    ("merge", r"<<", "<"),
)
for _name, _pattern, _first in _RESOLVERS:
    YamlLoader.add_implicit_resolver(_TAG + _name, re.compile(rf"(?:{_pattern})\Z"), list(_first))


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int | float:
    text = loader.construct_scalar(node)
    sign, digits = (-1, text[1:]) if text[:1] == "-" else (1, text[1:] if text[:1] == "+" else text)
    try:
        if len(digits) > 300 and digits.isdigit():  # beyond any float; int() stops at 4300
            return sign * math.inf
        return sign * int(digits)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{short_repr(text)} is not an integer", node.start_mark) from None


def _construct_strict(kind: str, construct: Any) -> Any:
    def strict(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, TypeError):
            raise yaml.constructor.ConstructorError(
                None, None, f"{short_repr(node.value)} is not {kind}", node.start_mark) from None
    return strict


YamlLoader.add_constructor(_TAG + "int", _construct_int)
YamlLoader.add_constructor(_TAG + "float", _construct_strict(
    "a number", yaml.constructor.SafeConstructor.construct_yaml_float))
YamlLoader.add_constructor(_TAG + "bool", _construct_strict(
    "true or false", yaml.constructor.SafeConstructor.construct_yaml_bool))

#: The only tags a preset may hold: plain values, lists and mappings.
_PLAIN_TAGS = frozenset(_TAG + k for k in ("null", "bool", "int", "float", "str", "seq", "map",
                                           "merge"))
#: Characters YAML allows in a file (its "printable" set).
_NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def read_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The data of ``text``, and the line of each key path (``params.tau``, ``input[2]``)."""
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _line_column(text, bad.start())
        raise PresetError(source, None, f"contains the control character U+{ord(bad.group()):04X} "
                                        f"at line {line}, column {column}; YAML allows only text")
    loader = YamlLoader(text)
    collecting = gc.isenabled()
    gc.disable()  # the loader makes only acyclic objects: a big schedule loads 2-3 times faster
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _inspect(node, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "cannot be read"
        if "could not determine a constructor" in problem:
            problem = f"the tag {_tag_name(error)} is not allowed here"
        elif error.context and error.context.startswith("expected"):
            problem = f"{error.context} but {problem.removeprefix('but ')}"
        if mark and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (a tab: YAML indents with spaces only)"
        raise PresetError(source, None, f"invalid YAML {where}: {_one_line(problem)}") from None
    except yaml.YAMLError as error:
        raise PresetError(source, None, f"invalid YAML: {_one_line(str(error))}") from None
    except PresetError:
        raise
    except Exception as error:  # noqa: BLE001 - a last resort: nothing but PresetError escapes
        raise PresetError(source, None, f"cannot be read as YAML ({type(error).__name__})") \
            from None
    finally:
        loader.dispose()
        if collecting:
            gc.enable()


def _tag_name(error: yaml.MarkedYAMLError) -> str:
    found = re.search(r"tag '([^']*)'", error.problem or "")
    tag = found.group(1) if found else "?"
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _inspect(root: yaml.Node, source: str) -> dict[str, int]:
    """Refuse what a preset never needs before anything is built: tags other than plain values,
    lists and mappings (``!!python/object``...), a key given twice, a recursive alias, and
    aliases that expand to more than MAX_YAML_VALUES values. Return the line of each key path.
    """
    lines: dict[str, int] = {}
    expanded: dict[int, int] = {}  # id(node) -> number of values once aliases are expanded
    active: set[int] = set()
    stack: list[tuple[yaml.Node, str | None, bool]] = [(root, "", False)]
    while stack:
        node, path, done = stack.pop()
        if done:
            active.discard(id(node))
            children = _children(node)
            expanded[id(node)] = 1 + sum(expanded[id(child)] for child in children)
            if expanded[id(node)] > MAX_YAML_VALUES:
                raise PresetError(source, None, f"invalid YAML: its aliases expand to more than "
                                                f"{MAX_YAML_VALUES:,} values")
            continue
        if id(node) in expanded:
            continue  # an alias of a node already counted
        if id(node) in active:
            raise PresetError(source, None, f"invalid YAML at {_where(node)}: an alias refers "
                                            f"to the value that contains it")
        _check_node(node, path, lines, source)  # the tag check holds for every node
        if isinstance(node, yaml.ScalarNode):
            expanded[id(node)] = 1
            continue
        active.add(id(node))
        stack.append((node, path, True))
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                line = key.start_mark.line + 1
                if name is not None:  # two `<<:` merge keys too: YAML keeps only one
                    if name in seen:
                        raise PresetError(
                            source, _join(path, name),
                            f"appears twice (lines {seen[name]} and {line}); keep one",
                        )
                    seen[name] = line
                child_path = _join(path, name) if path is not None and name is not None else None
                for child, child_at in ((key, None), (value, child_path)):
                    if type(child) is yaml.ScalarNode and id(child) not in expanded:
                        _check_node(child, child_at, lines, source)  # the common case, inline
                        expanded[id(child)] = 1
                    else:
                        stack.append((child, child_at, False))
        elif isinstance(node, yaml.SequenceNode):
            for number, item in enumerate(node.value, start=1):
                stack.append((item, f"{path}[{number}]" if path is not None else None, False))
    return lines


def _check_node(node: yaml.Node, path: str | None, lines: dict[str, int],
                  source: str) -> None:
    if node.tag not in _PLAIN_TAGS:
        tag = "!!" + node.tag.removeprefix(_TAG) if node.tag.startswith(_TAG) else node.tag
        raise PresetError(source, None, f"invalid YAML at {_where(node)}: the tag {tag[:80]} "
                                        f"is not allowed; a preset holds only plain values")
    if path is not None:
        lines.setdefault(path, node.start_mark.line + 1)


def _where(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _join(path: str | None, key: str) -> str:
    return f"{path}.{key}" if path else key
