"""The helper set test code may use (the test-code contract, see docs/grading.md).

Test code runs after the learner's code, in the learner's namespace, where these names are
defined besides ``source_code`` (also ``student_code``, for legacy packs), ``stdout`` (what the
learner's run printed) and ``LOCALE``. Helpers are plain functions of their arguments (the
few that need the learner's source or locale get it bound by :func:`namespace_helpers`), so a
learner who rebinds a name in their own namespace cannot change what the grader concludes:
the grader installs fresh copies after the learner's code has run.
"""

from __future__ import annotations

import ast
import io
import math
import sys
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "call_captured",
    "calls",
    "close_enough",
    "lines",
    "namespace_helpers",
    "norm",
    "same_items",
    "tr",
    "uses",
]


def call_captured(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str]:
    """Call ``func`` and return ``(return value, everything it printed)``."""
    # Swaps ``sys.stdout`` by hand rather than with ``contextlib.redirect_stdout``: that class is
    # pure Python, so learner code running earlier in the same sandbox process could have
    # patched its methods to fake the captured text. ``io.StringIO`` and ``sys`` are C-level.
    buffer = io.StringIO()
    previous = sys.stdout
    sys.stdout = buffer
    try:
        result = func(*args, **kwargs)
    finally:
        sys.stdout = previous
    return result, buffer.getvalue()


def norm(text: object) -> str:
    """Text with line endings unified, trailing spaces per line and blank ends removed, and
    runs of spaces inside a line collapsed: compare output without whitespace pedantry."""
    out = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        out.append(" ".join(line.split()))
    return "\n".join(out).strip()


def lines(text: object) -> list[str]:
    """The non-blank lines of ``text``, each normalised by :func:`norm`."""
    return [line for line in norm(text).split("\n") if line]


def close_enough(actual: Any, expected: float, rel: float = 1e-9, abs_tol: float = 1e-6) -> bool:
    """Whether ``actual`` is a number within tolerance of ``expected`` (floats differ slightly
    between correct formulas)."""
    if isinstance(actual, bool) or not isinstance(actual, int | float):
        return False
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol)


def same_items(actual: Iterable[Any], expected: Iterable[Any]) -> bool:
    """Whether two collections hold the same items regardless of order (multiset equality)."""
    try:
        a, e = list(actual), list(expected)
    except TypeError:
        return False
    try:
        return sorted(a, key=repr) == sorted(e, key=repr)
    except Exception:
        return False


_NODE_KINDS: dict[str, tuple[type[ast.AST], ...]] = {
    "for": (ast.For, ast.AsyncFor),
    "while": (ast.While,),
    "if": (ast.If, ast.IfExp),
    "def": (ast.FunctionDef, ast.AsyncFunctionDef),
    "class": (ast.ClassDef,),
    "lambda": (ast.Lambda,),
    "return": (ast.Return,),
    "fstring": (ast.JoinedStr,),
    "try": (ast.Try,),
    "with": (ast.With, ast.AsyncWith),
    "import": (ast.Import, ast.ImportFrom),
    "comprehension": (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
    "break": (ast.Break,),
    "continue": (ast.Continue,),
    "raise": (ast.Raise,),
    "global": (ast.Global,),
}


def _tree(source: str) -> ast.AST | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def uses(source: str, kind: str) -> bool:
    """Whether ``source`` contains the construct ``kind``: one of
    for, while, if, def, class, lambda, return, fstring, try, with, import, comprehension,
    break, continue, raise, global. In test code call it as ``uses("for")``."""
    if kind not in _NODE_KINDS:
        raise ValueError(f"unknown construct {kind!r}; known: {', '.join(sorted(_NODE_KINDS))}")
    tree = _tree(source)
    if tree is None:
        return False
    return any(isinstance(node, _NODE_KINDS[kind]) for node in ast.walk(tree))


def calls(source: str, name: str) -> bool:
    """Whether ``source`` calls ``name`` (``print``, ``len``, or a method like ``append``).
    In test code call it as ``calls("print")``."""
    tree = _tree(source)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == name:
                return True
            if isinstance(func, ast.Attribute) and func.attr == name:
                return True
    return False


def tr(locale: str, ko: str, en: str) -> str:
    """Pick the Korean or English message. In test code call it as ``tr(ko, en)``."""
    return ko if locale == "ko" else en


def namespace_helpers(source_code: str, stdout: str, locale: str) -> dict[str, Any]:
    """The names test code sees, bound to this submission."""
    return {
        "source_code": source_code,
        "student_code": source_code,  # legacy packs
        "stdout": stdout,
        "LOCALE": locale,
        "call_captured": call_captured,
        "norm": norm,
        "lines": lines,
        "close_enough": close_enough,
        "same_items": same_items,
        "uses": lambda kind: uses(source_code, kind),
        "calls": lambda name: calls(source_code, name),
        "tr": lambda ko, en: tr(locale, ko, en),
    }
