"""chainrule._memory: at import, glibc's malloc is told to keep freed memory for reuse, so a
loop that allocates and frees the same large arrays stops page-faulting them back in; opt-outs."""
import os
import subprocess
import sys

import chainrule as cr

# a "training step": 13 MiB in arrays of 1 to 4 MiB allocated, touched and freed together, 20 times
STEP_LOOP = """
import resource, numpy as np, chainrule
def step():
    arrays = [np.ones(1 << s, np.float32) for s in (18, 19, 20, 20, 19)]
    return sum(float(a[-1]) for a in arrays)
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(chainrule._memory.TUNED, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(**env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", STEP_LOOP], env={**base, **env}, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[0] == "True", int(out[1])


def test_malloc_is_tuned_at_import_on_glibc():
    assert cr._memory.TUNED or any(k.startswith("MALLOC_") for k in os.environ)


def test_tuned_malloc_page_faults_far_less_in_a_step_loop():
    tuned, faults_tuned = _run()
    untuned, faults_untuned = _run(CHAINRULE_MALLOC_TUNING="0")
    assert (tuned, untuned) == (True, False)
    assert faults_tuned < 0.5 * faults_untuned, (faults_tuned, faults_untuned)


def test_a_users_own_malloc_settings_are_left_alone():
    assert _run(MALLOC_ARENA_MAX="2")[0] is False
