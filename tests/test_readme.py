"""Every shell command in the README works as written: the test extracts the ```sh blocks and
runs their commands in order, in a scratch folder holding a copy of examples/, in fast mode.

Fast mode changes only sizes, never what a command does: `chainrule train` gets `--epochs 2`
(not with `--resume`, which takes the options of the run it continues),
`chainrule run` gets `--epochs 3`, `chainrule demo` gets `--fast`. Commands that cannot run
inside the test suite are listed in NOT_RUN with the reason; the test fails if the README gains
a command that is neither runnable nor listed.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NOT_RUN = {
    "make test": "runs this very test suite (it would recurse); CI runs it",
    "make demo": "creates .venv and installs the package first; the job it runs, `python -m "
                 "chainrule train` with its defaults, is the `chainrule train` command run here "
                 "in fast mode and by tests/test_cli.py",
    "make bench": "benchmarks take minutes and are never part of the tests",
    "pip install": "installs packages from the network",
}


# what the README says a command leaves behind (in the folder it runs in), checked after it ran
WRITES = {
    "chainrule train --out runs/digits": ["runs/digits/config.json", "runs/digits/history.csv",
                                          "runs/digits/checkpoint.npz", "runs/digits/grad_norms.json",
                                          "runs/digits/figures/grad_norms.png"],
    "python -c": ["digit.npy"],
    "chainrule train --model mlp --dataset iris": ["runs/iris/metrics.json"],
    "chainrule graph --model mlp -o graph.svg": ["graph.svg"],
    "chainrule demo residual --fast": ["demo-figures/residual.png"],
}
# ... and what it prints
PRINTS = {
    "chainrule train --out runs/digits": "test accuracy:",
    "chainrule evaluate runs/digits": "accuracy",
    "chainrule predict runs/digits digit.npy": "sample 0: class",
    "chainrule examples": "iris_mlp",
    "chainrule run iris_mlp": "5-fold CV",
    "chainrule run diabetes_rbf": "r2",
    "chainrule demo --list": "residual",
    "chainrule demo residual --fast": "residual:",
    "chainrule concepts": "52.",
}


def readme_commands():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    cmds = []
    for block in re.findall(r"```(?:sh|bash|console)\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip() if not line.strip().startswith("#") else ""
            if line:
                cmds.append(line)
    return cmds


def fast(argv):
    if argv[:2] == ["chainrule", "train"] and "--epochs" not in argv and "--resume" not in argv:
        argv = argv + ["--epochs", "2"]
    if argv[:2] == ["chainrule", "run"] and "--epochs" not in argv and "--check" not in argv:
        argv = argv + ["--epochs", "3"]
    if argv[:2] == ["chainrule", "demo"] and "--fast" not in argv and "--list" not in argv:
        argv = argv + ["--fast"]
    if argv[0] == "chainrule":
        return [sys.executable, "-m", "chainrule"] + argv[1:]
    if argv[0] == "python":
        return [sys.executable] + argv[1:]
    return argv


def test_readme_shell_commands_run(tmp_path):
    cmds = readme_commands()
    assert any(c.startswith("chainrule train") for c in cmds)
    shutil.copytree(os.path.join(ROOT, "examples"), tmp_path / "examples")
    ran = 0
    for cmd in cmds:
        reason = next((r for prefix, r in NOT_RUN.items() if cmd.startswith(prefix)), None)
        if reason:
            continue
        argv = shlex.split(cmd)
        assert argv[0] in ("chainrule", "python"), f"README command not runnable here: {cmd}"
        out = subprocess.run(fast(argv), cwd=tmp_path, capture_output=True, text=True,
                             timeout=240)
        assert out.returncode == 0, f"`{cmd}` failed:\n{out.stdout}\n{out.stderr}"
        for prefix, paths in WRITES.items():
            if cmd.startswith(prefix):
                missing = [p for p in paths if not (tmp_path / p).exists()]
                assert not missing, f"`{cmd}` did not write {missing}"
        for prefix, text in PRINTS.items():
            if cmd.startswith(prefix):
                assert text in out.stdout, f"`{cmd}` did not print {text!r}:\n{out.stdout}"
        ran += 1
    assert ran >= 10
    # every expectation above belongs to a command the README still has
    for prefix in list(WRITES) + list(PRINTS):
        assert any(c.startswith(prefix) for c in cmds), f"README lost `{prefix}`"
