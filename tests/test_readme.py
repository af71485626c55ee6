"""Every shell command in the README works as written: the test extracts the ```sh blocks and
runs their commands in order, in a scratch folder holding a copy of examples/, in fast mode.

Fast mode changes only sizes, never what a command does: `chainrule train` gets `--epochs 2`,
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
    if argv[:2] == ["chainrule", "train"] and "--epochs" not in argv:
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
        ran += 1
    assert ran >= 5
