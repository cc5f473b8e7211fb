"""YAML loading that remembers where every key came from, and `extends:` inheritance.

`load_document(path)` returns the merged data plus a SourceMap from key paths to
(file, line), so a schema error deep inside an inherited preset still names the file
and line that set the bad value. Duplicate keys are errors (plain YAML keeps the last).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError, Problem, did_you_mean


@dataclass
class SourceMap:
    """Key path (tuple of str/int) -> (file, line) of the key that set it."""

    default_file: str
    lines: dict[tuple, tuple[str, int]] = field(default_factory=dict)

    def locate(self, path: tuple) -> tuple[str, int | None]:
        """The file and line of `path`, or of its nearest located ancestor."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), (self.default_file, None))

    def problem(self, path: tuple, message: str) -> Problem:
        file, line = self.locate(path)
        return Problem(file, line, tuple(path), message)

    def shifted(self, prefix: tuple) -> "SourceMap":
        """The same map with every path placed under `prefix`."""
        return SourceMap(self.default_file, {prefix + k: v for k, v in self.lines.items()})


@dataclass
class Document:
    """A loaded config file: plain data plus where each key came from."""

    data: dict
    source: SourceMap
    path: Path


def display_path(path: Path) -> str:
    """A short, stable name for messages: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _construct(node, loader, name: str, path: tuple, lines: dict):
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                raise ConfigError([Problem(name, key_node.start_mark.line + 1, path + (key,),
                                           "duplicate key")])
            lines[path + (key,)] = (name, key_node.start_mark.line + 1)
            result[key] = _construct(value_node, loader, name, path + (key,), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item_node in enumerate(node.value):
            lines[path + (index,)] = (name, item_node.start_mark.line + 1)
            items.append(_construct(item_node, loader, name, path + (index,), lines))
        return items
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, name: str) -> tuple[object, SourceMap]:
    """Parse YAML text; `name` is used in messages. Returns (data, SourceMap)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise ConfigError([Problem(name, line, (), f"not valid YAML: {exc.problem or exc}")]) from None
    finally:
        loader.dispose()
    lines: dict = {(): (name, 1)}
    data = _construct(node, loader, name, (), lines) if node is not None else {}
    return data, SourceMap(name, lines)


def deep_merge(base: dict, override: dict) -> dict:
    """Mappings merge key by key; anything else in `override` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def find_file(path_or_name, folder: Path, what: str) -> Path:
    """A config file given as a path, or as the name of a shipped preset in `folder`
    ('llama2-7b', 'opt-6.7b': names may hold dots)."""
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return path
    preset = folder / f"{path_or_name}.yaml"
    if not preset.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise FileNotFoundError(f"no {what} '{path_or_name}'{did_you_mean(path_or_name, known)}")
    return preset


def resolve_extends(name: str, relative_to: Path, search_dirs: list[Path]) -> Path:
    """Find the file an `extends:` names: a path next to the child, or a preset name."""
    candidates = [relative_to.parent / name, relative_to.parent / f"{name}.yaml"]
    for folder in search_dirs:
        candidates += [folder / name, folder / f"{name}.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for d in [relative_to.parent, *search_dirs] if d.is_dir()
                    for p in d.glob("*.yaml")})
    raise FileNotFoundError(f"extends: no file or preset named '{name}'{did_you_mean(name, known)}")


def _get(data, path: tuple):
    for part in path:
        data = data[part] if isinstance(data, (dict, list)) else None
    return data


def load_document(path, search_dirs: list[Path] | None = None, _chain: tuple = ()) -> Document:
    """Load a YAML mapping, applying `extends:` (recursively) with deep merge."""
    path = Path(path)
    name = display_path(path)
    if not path.is_file():
        raise ConfigError([Problem(name, None, (), "no such file")])
    if path.resolve() in _chain:
        raise ConfigError([Problem(name, None, ("extends",), "extends itself (cycle)")])
    data, source = parse_yaml(path.read_text(), name)
    if not isinstance(data, dict):
        raise ConfigError([source.problem((), "must be a mapping of keys to values")])
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return Document(data, source, path)
    if not isinstance(parent_name, str):
        raise ConfigError([source.problem(("extends",), "must be a file or preset name")])
    try:
        parent_path = resolve_extends(parent_name, path, list(search_dirs or []))
    except FileNotFoundError as exc:
        raise ConfigError([source.problem(("extends",), str(exc).removeprefix("extends: "))]) from None
    parent = load_document(parent_path, search_dirs, _chain + (path.resolve(),))
    own = {k: v for k, v in source.lines.items() if k[:1] != ("extends",)}
    replaced = [k for k in own if k and not isinstance(_get(data, k), dict)]
    lines = {k: v for k, v in parent.source.lines.items()
             if not any(k[:len(r)] == r for r in replaced)}
    lines.update(own)
    return Document(deep_merge(parent.data, data), SourceMap(name, lines), path)
