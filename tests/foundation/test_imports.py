"""Every module of sonic_deploy and sonic_train imports on its own, and the runtime stays torch-free.

Each module is imported in a process of its own that holds no project module yet, so a module that only
works after another one was imported first, or an import cycle that only an import order hides, fails
here. Those processes are forked from a parent that has loaded only third-party packages (numpy, mujoco,
and for sonic_train torch): a fresh interpreter per module would cost a torch import each. The sonic_deploy
parent never loads torch, so a sonic_deploy module that pulls torch or sonic_train in is seen.

Also checked, statically: no import cycle among either package's modules through their module-level imports;
sonic_train's imports inside functions are optional heavy dependencies or a command's deferred torch; sonic_deploy's
are optional heavy dependencies, or carry a comment on the import saying which dependency they defer.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Optional dependencies a module may need that this environment may lack (its own env, or its own extra).
OPTIONAL = {"rclpy", "isaaclab", "isaacsim", "isaaclab_assets", "isaaclab_tasks", "omni", "carb", "pxr", "warp",
            "newton", "unitree_sdk2py"}


def modules(package: str) -> list[str]:
    out = []
    for p in sorted((ROOT / package).rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":  # importing it runs the program
            continue
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


_FORKER = r"""
import importlib, json, os, sys, traceback
preload, names = sys.argv[1].split(","), sys.argv[2:]
for m in preload:
    if m:
        importlib.import_module(m)
results = {}
for name in names:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(name)
            res = {"ok": True}
        except ModuleNotFoundError as e:
            res = {"ok": False, "missing": (e.name or "").split(".")[0], "error": traceback.format_exc(limit=3)}
        except BaseException:
            res = {"ok": False, "error": traceback.format_exc(limit=6)}
        res["torch"] = "torch" in sys.modules
        res["sonic_train"] = any(m.split(".")[0] == "sonic_train" for m in sys.modules)
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    results[name] = json.loads(data or b'{"ok": false, "error": "child died"}')
print(json.dumps(results))
"""


def import_each(package: str, preload: list[str]) -> dict:
    res = subprocess.run([sys.executable, "-c", _FORKER, ",".join(preload), *modules(package)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _failures(results: dict) -> dict:
    return {m: r["error"] for m, r in results.items()
            if not r["ok"] and not (r.get("missing") in OPTIONAL)}


def test_every_sonic_deploy_module_imports_alone_without_torch_or_sonic_train():
    results = import_each("sonic_deploy", ["numpy", "mujoco", "yaml"])
    assert len(results) > 50
    assert not _failures(results), "\n".join(f"{m}:\n{e}" for m, e in _failures(results).items())
    heavy = sorted(m for m, r in results.items() if r["torch"] or r["sonic_train"])
    assert not heavy, f"sonic_deploy modules that import torch or sonic_train: {heavy}"


def test_every_sonic_train_module_imports_alone():
    pytest.importorskip("torch")
    results = import_each("sonic_train", ["numpy", "mujoco", "yaml", "torch"])
    assert len(results) > 30
    assert not _failures(results), "\n".join(f"{m}:\n{e}" for m, e in _failures(results).items())


def _module_level_imports(package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at module level (imports inside functions are not followed)."""
    names = set(modules(package))
    graph = {}
    for name in names:
        path = ROOT / Path(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        deps = set()
        for node in ast.parse(path.read_text()).body:
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for t in targets:
                while t and t not in names:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    deps.add(t)
        graph[name] = deps
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


@pytest.mark.parametrize("package", ["sonic_deploy", "sonic_train"])
def test_no_import_cycle_among_the_package_modules(package):
    cycle = _cycle(_module_level_imports(package))
    assert cycle is None, " -> ".join(cycle)


# sonic_train: an import inside a function is an optional heavy dependency (installed for some roles only) or, in
# a command (cli/), torch and the simulator deferred until after argument parsing so that --help answers at once.
TRAIN_OPTIONAL = ("isaaclab", "warp", "newton", "wandb", "accelerate", "torch.utils.tensorboard", "imageio",
                  "sonic_deploy.render", "sonic_train.envs.isaaclab")


def test_sonic_train_imports_inside_functions_are_optional_deps_or_commands():
    offenders = []
    for p in sorted((ROOT / "sonic_train").rglob("*.py")):
        rel = p.relative_to(ROOT)
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    mod = (sub.module or "") if isinstance(sub, ast.ImportFrom) else sub.names[0].name
                    if rel.parts[1] == "cli" or rel.parts[1:3] == ("envs", "isaaclab") \
                            or any(mod == o or mod.startswith(o + ".") for o in TRAIN_OPTIONAL):
                        continue
                    offenders.append(f"{rel}:{sub.lineno} {mod}")
    assert not offenders, offenders


# sonic_deploy: third-party packages that the runtime defers (an extra's, or slow to import at --help); any other
# import inside a function must say on its line, on its import block's first line or on a comment line just above
# it, what it defers.
DEPLOY_HEAVY = ("onnx", "onnxruntime", "mujoco", "cyclonedds", "rclpy", "std_msgs", "websockets", "mcap",
                "matplotlib", "imageio", "rich")


def _deploy_in_function_imports_without_reason(root: Path) -> list[str]:
    offenders = []
    for p in sorted(root.rglob("*.py")):
        text = p.read_text()
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for sub in ast.walk(node):
                if not isinstance(sub, (ast.Import, ast.ImportFrom)):
                    continue
                mod = (sub.module or "") if isinstance(sub, ast.ImportFrom) else sub.names[0].name
                if mod.split(".")[0] in DEPLOY_HEAVY:
                    continue
                k = sub.lineno - 1
                while k > 0 and "#" not in lines[k] and lines[k - 1].lstrip().startswith(("import ", "from ")):
                    k -= 1  # the block's first import carries the comment
                if "#" not in lines[k] and not lines[k - 1].lstrip().startswith("#"):  # or a comment line above
                    offenders.append(f"{p.relative_to(root.parent)}:{sub.lineno} {mod}")
    return sorted(set(offenders))


def test_sonic_deploy_imports_inside_functions_say_what_they_defer(tmp_path):
    offenders = _deploy_in_function_imports_without_reason(ROOT / "sonic_deploy")
    assert not offenders, offenders
    bad = tmp_path / "pkg"
    bad.mkdir()
    (bad / "m.py").write_text("def f():\n    from dataclasses import replace\n    return replace\n")
    assert _deploy_in_function_imports_without_reason(bad) == ["pkg/m.py:2 dataclasses"]  # the check sees one


def test_the_cycle_check_sees_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
