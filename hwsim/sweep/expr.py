"""Constraint expressions: a tiny, safe evaluator over sweep parameter names.

`bw_TBps * 4 <= power_W and channels % 2 == 0` is parsed with `ast` and walked node by node;
only numbers, parameter names, arithmetic, comparisons, `and`/`or`/`not`, conditional
expressions and the functions in FUNCTIONS are allowed. Nothing is ever passed to eval(). When the
known names include dotted ones (area counts name nested machine parameters, `pim.devices`), `a.b`
is read as the name "a.b"; otherwise an attribute is refused like any other construct.
"""
from __future__ import annotations

import ast
import math
import operator

from hwsim.config.errors import did_you_mean

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
          ast.Pow: math.pow}  # float power: overflows instead of building huge integers
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
           ast.Eq: operator.eq, ast.NotEq: operator.ne}
FUNCTIONS = {"min": min, "max": max, "abs": abs, "sqrt": math.sqrt, "log2": math.log2,
             "log10": math.log10, "ceil": math.ceil, "floor": math.floor}


class Expression:
    """A checked expression; `names` are the parameters it reads, `evaluate(values)` its value."""

    def __init__(self, text: str, known: set[str]):
        self.text = text
        try:
            self._tree = ast.parse(text, mode="eval").body
        except SyntaxError as exc:
            raise ValueError(f"not a valid expression: {exc.msg} in {text!r}") from None
        self.names: set[str] = set()
        self._check(self._tree, known)

    def _check(self, node, known: set[str]) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
                raise ValueError(f"constant {node.value!r} not allowed in {self.text!r}")
        elif isinstance(node, ast.Name) or (_dotted(node) and any("." in name for name in known)):
            name = _dotted(node)
            if name not in known:
                raise ValueError(f"unknown parameter '{name}'{did_you_mean(name, known)} in {self.text!r}; "
                                 f"parameters: {', '.join(sorted(known)) or '(none)'}")
            self.names.add(name)
        elif isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            self._check(node.left, known)
            self._check(node.right, known)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            self._check(node.operand, known)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value, known)
        elif isinstance(node, ast.Compare) and all(type(op) in COMPARE for op in node.ops):
            for value in [node.left, *node.comparators]:
                self._check(value, known)
        elif isinstance(node, ast.IfExp):
            for value in (node.test, node.body, node.orelse):
                self._check(value, known)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
              and not node.keywords):
            for arg in node.args:
                self._check(arg, known)
        else:
            raise ValueError(f"'{ast.unparse(node)}' is not allowed in {self.text!r}: use numbers, parameter "
                             f"names, + - * / // % **, comparisons, and/or/not, x if c else y, "
                             f"{', '.join(FUNCTIONS)}")

    def evaluate(self, values: dict):
        return _evaluate(self._tree, values)


def _dotted(node) -> str:
    """"a.b.c" for a name or a chain of attributes on a name, else ''."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else ""
    return ""


def _evaluate(node, values: dict):
    if isinstance(node, ast.Constant):
        return node.value
    if _dotted(node):
        return values[_dotted(node)]
    if isinstance(node, ast.BinOp):
        return BINARY[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_evaluate(node.operand, values))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_evaluate(v, values) for v in node.values)
        return any(_evaluate(v, values) for v in node.values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, values)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, values)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _evaluate(node.body if _evaluate(node.test, values) else node.orelse, values)
    return FUNCTIONS[node.func.id](*(_evaluate(a, values) for a in node.args))
