"""The apps import one way: core <- abdm <- facilities <- abha <- scanshare <- records <- microsites
(docs/ARCHITECTURE.md). abdm is the one place that talks to ABDM: domain apps register their handlers with it.

Every .py file of each app outside its tests/ is parsed (never imported) and each reference to another app is an
arrow: an import (also one inside a function), `importlib.import_module("app...")`, `apps.get_model("app", ...)`,
`apps.is_installed("app")`, a model named by label (`ForeignKey("app.Model")`, a migration's `to="app.model"`) and a
migration's `dependencies`. An arrow to an app that is not allowed (not to the app's left) fails, naming file and
line, and so does a cycle.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Who may import whom. scanshare and records are siblings on top of abha, with one arrow between them:
# records imports scanshare (the record form is prefilled from today's token: `?token=<uuid>` from the counter
# queue), so scanshare never imports records.
ALLOWED = {
    "core": set(),
    "abdm": {"core"},
    "facilities": {"core", "abdm"},
    "abha": {"core", "abdm", "facilities"},
    "scanshare": {"core", "abdm", "facilities", "abha"},
    "records": {"core", "abdm", "facilities", "abha", "scanshare"},
    "microsites": {"core", "abdm", "facilities", "abha", "scanshare", "records"},
}
APPS = tuple(ALLOWED)
MODEL_FIELDS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


@dataclass(frozen=True)
class Arrow:
    source: str  # the importing app
    target: str  # the app it names
    path: str
    line: int
    how: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.source} -> {self.target} ({self.how})"


def _app_of(dotted: str) -> str | None:
    head = dotted.split(".", 1)[0]
    return head if head in APPS else None


def _string(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_dependencies(node) -> bool:
    """A migration's `dependencies = [("app", "0001_initial"), ...]`."""
    return (
        isinstance(node, ast.Assign)
        and any(getattr(target, "id", "") == "dependencies" for target in node.targets)
        and isinstance(node.value, ast.List | ast.Tuple)
    )


def _targets(node) -> list[tuple[str, str, int]]:
    """(app, how, line) for each reference to an app that this one AST node makes."""
    found = []
    if isinstance(node, ast.Import):
        found += [(alias.name, "import", node.lineno) for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        found.append((node.module, "import", node.lineno))
    elif isinstance(node, ast.Call):
        name = _call_name(node)
        first = _string(node.args[0]) if node.args else None
        if name in ("import_module", "get_model", "is_installed", "get_app_config") and first:
            found.append((first, f"{name}()", node.lineno))
        elif name in MODEL_FIELDS:
            to = first or next((_string(kw.value) for kw in node.keywords if kw.arg == "to"), None)
            if to and "." in to:
                found.append((to, f"{name} to {to!r}", node.lineno))
    elif _is_dependencies(node):
        for item in node.value.elts:
            if isinstance(item, ast.Tuple) and item.elts and (dependency := _string(item.elts[0])):
                found.append((dependency, "migration dependency", item.lineno))
    return [(app, how, line) for dotted, how, line in found if (app := _app_of(dotted))]


def arrows(app: str, path: str, source: str) -> list[Arrow]:
    """The references from one file of `app` to other apps (the app's own name is not an arrow)."""
    result = []
    for node in ast.walk(ast.parse(source, filename=path)):
        for target, how, line in _targets(node):
            if target != app:
                result.append(Arrow(app, target, path, line, how))
    return sorted(result, key=lambda arrow: (arrow.path, arrow.line))


def wrong_way(found: list[Arrow], allowed: dict[str, set[str]]) -> list[Arrow]:
    return [arrow for arrow in found if arrow.target not in allowed[arrow.source]]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the app graph as [a, b, ..., a], or None."""
    state = dict.fromkeys(graph, "new")

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*trail[trail.index(nxt) :], nxt]
            if state.get(nxt, "new") == "new" and (cycle := visit(nxt, [*trail, nxt])):
                return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if state[node] == "new" and (cycle := visit(node, [node])):
            return cycle
    return None


def repository_arrows() -> list[Arrow]:
    found = []
    for app in APPS:
        for file in sorted((ROOT / app).rglob("*.py")):
            relative = file.relative_to(ROOT)
            if "tests" in relative.parts:
                continue
            found += arrows(app, str(relative), file.read_text(encoding="utf-8"))
    return found


# --- The repository --------------------------------------------------------------------------


def test_every_app_imports_only_apps_to_its_left():
    found = repository_arrows()
    assert len(found) > 100, "the parser found almost no arrows: it no longer sees the imports"
    problems = wrong_way(found, ALLOWED)
    assert not problems, "Imports against the app order (docs/ARCHITECTURE.md):\n" + "\n".join(map(str, problems))


def test_the_app_graph_and_the_allowed_order_have_no_cycle():
    assert find_cycle(ALLOWED) is None
    graph = {app: set() for app in APPS}
    for arrow in repository_arrows():
        graph[arrow.source].add(arrow.target)
    assert find_cycle(graph) is None


# --- The checker, on made-up modules -----------------------------------------------------------


def test_the_checker_names_file_and_line_of_an_upward_import_also_inside_a_function():
    source = "from core.models import BaseModel\n\n\ndef later():\n    from abha.models import AbhaAccount\n"
    problems = wrong_way(arrows("facilities", "facilities/x.py", source), ALLOWED)
    assert [str(arrow) for arrow in problems] == ["facilities/x.py:5: facilities -> abha (import)"]


def test_the_checker_sees_registry_look_ups_model_labels_and_migration_dependencies():
    source = (
        "import importlib\nfrom django.apps import apps\nfrom django.db import migrations, models\n"
        "apps.get_model('records', 'CareContext')\n"
        "apps.is_installed('records')\n"
        "importlib.import_module('microsites.demo')\n"
        "patient = models.ForeignKey('abha.AbhaAccount', on_delete=models.PROTECT)\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('abha', '0002_otp_purposes_and_label'), ('facilities', '0001_initial')]\n"
        "    operations = [migrations.AddField('t', 'p', models.ForeignKey(to='abha.abhaaccount', on_delete=None))]\n"
    )
    problems = wrong_way(arrows("facilities", "facilities/m.py", source), ALLOWED)
    assert [(arrow.line, arrow.target, arrow.how.split()[0]) for arrow in problems] == [
        (4, "records", "get_model()"),
        (5, "records", "is_installed()"),
        (6, "microsites", "import_module()"),
        (7, "abha", "ForeignKey"),
        (9, "abha", "migration"),
        (10, "abha", "ForeignKey"),
    ]


def test_the_checker_lets_arrows_to_the_left_through_and_keeps_siblings_apart():
    allowed = "from facilities.models import Facility\nfrom core import access\nfrom . import services\n"
    assert wrong_way(arrows("abha", "abha/x.py", allowed), ALLOWED) == []
    assert wrong_way(arrows("records", "records/x.py", "from scanshare.models import ScanToken\n"), ALLOWED) == []
    sibling = wrong_way(arrows("scanshare", "scanshare/x.py", "from records.models import CareContext\n"), ALLOWED)
    assert [str(arrow) for arrow in sibling] == ["scanshare/x.py:1: scanshare -> records (import)"]


def test_find_cycle_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    both_ways = {**ALLOWED, "scanshare": {*ALLOWED["scanshare"], "records"}}
    assert find_cycle(both_ways) == ["records", "scanshare", "records"]
