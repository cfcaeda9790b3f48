"""Every module of sonic_train imports on its own, there is no import cycle among them, and an import inside a
function is only ever an optional heavy dependency (with a comment saying which) or, in a command (cli/), torch and
the simulator deferred until after argument parsing so that --help answers at once.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "sonic_train"
OPTIONAL = ("isaaclab", "warp", "newton", "wandb", "accelerate", "torch.utils.tensorboard", "imageio",
            "sonic_deploy.render", "sonic_train.envs.isaaclab")  # installed for some roles only
ISAACLAB_ONLY = ("sonic_train.envs.isaaclab.env_cfg", "sonic_train.envs.isaaclab.robot_cfg")


def _modules() -> list[str]:
    out = []
    for p in sorted(ROOT.rglob("*.py")):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _top_level_imports(path: Path) -> set[str]:
    """sonic_train modules imported at module level by ``path`` (what a cycle would go through)."""
    tree = ast.parse(path.read_text())
    found = set()
    pkg = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                base = pkg.rsplit(".", node.level - 1)[0] if node.level > 1 else pkg
                mod = f"{base}.{mod}" if mod else base
            if mod.startswith("sonic_train"):
                found.add(mod)
                found.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sonic_train"))
    return found


def test_every_module_imports_on_its_own():
    """One fresh interpreter; before each module, every sonic module already loaded is dropped."""
    mods = [m for m in _modules() if m not in ISAACLAB_ONLY]
    code = f"""
import importlib, json, sys, traceback
bad = {{}}
for m in {mods!r}:
    for k in [k for k in sys.modules if k.split('.')[0] in ('sonic_train', 'sonic_deploy')]:
        del sys.modules[k]
    try:
        importlib.import_module(m)
    except Exception:
        bad[m] = traceback.format_exc(limit=3)
print(json.dumps(bad))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    bad = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not bad, bad
    assert len(mods) > 50


def test_no_import_cycle():
    mods = set(_modules())
    graph = {m: {d for d in _top_level_imports(ROOT.parent / (m.replace(".", "/") + ".py")
                                            if (ROOT.parent / (m.replace(".", "/") + ".py")).is_file()
                                            else ROOT.parent / m.replace(".", "/") / "__init__.py")
                 if d in mods and d != m} for m in mods}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in graph[m]:
            if state.get(d) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(mods):
        if m not in state:
            visit(m)


def test_imports_inside_functions_are_optional_deps_or_commands():
    offenders = []
    for p in sorted(ROOT.rglob("*.py")):
        rel = p.relative_to(ROOT.parent)
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    mod = sub.module if isinstance(sub, ast.ImportFrom) else sub.names[0].name
                    if rel.parts[1] == "cli" or any(mod == o or mod.startswith(o + ".") for o in OPTIONAL) \
                            or rel.parts[1:3] == ("envs", "isaaclab"):
                        continue
                    offenders.append(f"{rel}:{sub.lineno} {mod}")
    assert not offenders, offenders
