"""Every program `jepa export` wrote into a folder runs: its command line trains it 2 steps as one process (run folder,
checkpoint), and 2 gloo processes at B/2 compute the first gradients and the parameters after 2 SGD steps of one
process at B (tools/ddp_driver.py), within the DDP tests' tolerances. Prints one line per program; exits with 1 when
one fails.

    python3 exported_check.py FOLDER
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import launch  # noqa: E402
import programs  # noqa: E402
import jepa_torch as jt  # noqa: E402

GRADIENTS, SGD = 1e-5, 1e-4     # as tests/python/test_ddp.py


def relative(a, b):
    scale = max(float(v.abs().max()) for v in a.values() if v.is_floating_point())
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a) / scale


def main(folder):
    torch.set_num_threads(1)
    os.environ["JEPA_EXPORTED"] = os.path.abspath(folder)
    found = programs.exported(folder)
    if not found:
        print(f"no exported programs in {folder}")
        return 1
    failures = 0
    with tempfile.TemporaryDirectory() as out:
        for name, path in found.items():
            programs.PROGRAMS[name] = path
            module = programs.load(name)
            result = jt.run.main(programs.experiment_class(module, name), module.OPTIONS, module.__doc__,
                                 ["--data", str(programs.data_path(name, programs.experiment_class(module, name).input_shape, out)), "--steps", "2", "--out", os.path.join(out, name),
                                  "--monitor-samples", "32", "--print-every", "1000"])
            finite = all(torch.isfinite(torch.tensor(v)) for v in result["terms"].values())
            print(f"{name}: 2 steps as one process, terms {result['terms']}")
            failures += not (result["steps"] == 2 and finite)
        scenarios = [f"{name}:sgd:2" for name in found]
        launch.run(["tests/python/tools/ddp_driver.py", out, *scenarios], world=2)
        launch.run(["tests/python/tools/ddp_driver.py", out, *scenarios], world=1)
        for scenario in scenarios:
            one, two = (torch.load(os.path.join(out, f"{scenario.replace(':', '-')}-{w}.pt")) for w in (1, 2))
            gradients, parameters = relative(one["grads"], two["grads"]), relative(one["params"], two["params"])
            ok = gradients <= GRADIENTS and parameters <= SGD
            print(f"{scenario.split(':')[0]}: 2 processes x B/2 against 1 x B: first gradients {gradients:.2e}, parameters after 2 SGD steps "
                  f"{parameters:.2e}{'' if ok else '  FAILED'}")
            failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
