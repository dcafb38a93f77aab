"""Stopping and resuming a job of several processes, and launching one with torchrun.

* SIGKILL one of two processes mid-run (the job dies, as torchrun would end the other), resume from the run folder:
  the job ends with exactly the parameters of a job that was never interrupted.
* SIGTERM to one process only, SIGINT to the other: the stop flag travels in every step's all-reduce, so both stop
  after the same step, write a checkpoint, record the stop in run.json and exit 143 (130); resuming ends as the
  uninterrupted job.
* ``torch.distributed.run`` (torchrun) with two processes trains the Digits program to the parameters of one process.
"""
import json
import os
import signal
import subprocess

import pytest
import torch

import launch

PROGRAM = "examples/Digits/pytorch/train_digits_jepa.py"
COMMON = ["--data", "data/digits.csv.gz", "--steps", "80", "--checkpoint-every", "10", "--print-every", "1",
          "--log-every", "1", "--monitor-samples", "256"]


def modules(folder):
    payload = torch.load(os.path.join(folder, "checkpoint.pt"))
    return payload["step"], {f"{role}.{k}": v for role, sd in payload["modules"].items() for k, v in sd.items()}


def interrupt_at(folder, step, signum, target_rank):
    """Starts the two-process job, sends ``signum`` to process ``target_rank`` once process 0 has printed ``step``."""
    processes = launch.start([PROGRAM, *COMMON, "--out", str(folder)], 2, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in processes[0].stdout:
            lines.append(line)
            if line.startswith(f"step {step}/"):
                processes[target_rank].send_signal(signum)
                break
        else:
            raise AssertionError("the job ended before the step:\n" + "".join(lines))
        if signum == signal.SIGKILL:
            processes[target_rank].wait(60)
            for p in processes:        # the job is dead: end the other process as torchrun's agent would
                p.kill()
        lines += processes[0].stdout.read()
        for p in processes:
            p.wait(120)
        lines += [p.stdout.read() for p in processes[1:]]     # what the other processes said (little: process 0 logs)
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    return processes, "".join(lines)


def assert_same_modules(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def metrics_steps(folder):
    with open(os.path.join(folder, "metrics.jsonl")) as f:
        return [json.loads(line)["step"] for line in f]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The modules after the job of two processes that nobody interrupts."""
    folder = tmp_path_factory.mktemp("straight")
    launch.run([PROGRAM, *COMMON, "--out", str(folder)], world=2)
    return modules(folder)[1]


def test_sigkill_one_process_then_resume_ends_as_the_uninterrupted_job(tmp_path, straight):
    killed = tmp_path / "killed"
    _, output = interrupt_at(killed, 35, signal.SIGKILL, target_rank=1)
    step, _ = modules(killed)
    print(f"killed after step 35; the latest checkpoint holds step {step}")
    assert 0 < step < 80, output
    launch.run([PROGRAM, *COMMON, "--resume", str(killed)], world=2)
    final, resumed = modules(killed)
    assert final == 80
    assert_same_modules(straight, resumed)
    assert metrics_steps(killed) == list(range(81))      # each step once: the rows after the checkpoint were dropped


def stop_record(folder):
    with open(os.path.join(folder, "run.json")) as f:
        return json.load(f)["stop"]


@pytest.mark.parametrize("signum, target_rank, code", [(signal.SIGTERM, 1, 143), (signal.SIGINT, 0, 130)])
def test_a_stop_signal_to_one_process_stops_both_after_the_same_step(tmp_path, straight, signum, target_rank, code):
    """SIGTERM to process 1 (a scheduler's stop), SIGINT to process 0 (Ctrl+C): the request travels in the step's
    all-reduce, so both processes stop after the same step, write its checkpoint, record the stop in run.json, print
    the resume command and exit 128 + the signal; resuming ends as the uninterrupted job."""
    stopped = tmp_path / "stopped"
    processes, output = interrupt_at(stopped, 25, signum, target_rank=target_rank)
    assert [p.returncode for p in processes] == [code, code], output
    step, _ = modules(stopped)
    name = signal.Signals(signum).name
    print(f"{name} to process {target_rank} at step 25: both stopped after step {step}")
    assert 25 <= step < 80 and f"Trained {step} steps" in output and "(interrupted)" in output
    receiver = "" if target_rank == 0 else f"process {target_rank}: "
    assert f"{receiver}{name}: stopping after the current step with a checkpoint" in output
    assert f"Interrupted by {name} at step {step} of 80; checkpoint {stopped / 'checkpoint.pt'}" in output
    assert f"--resume {stopped}" in output.split("Resume with: ")[1].splitlines()[0]
    record = stop_record(stopped)
    assert (record["reason"], record["step"], record["signal"], record["total_steps"]) == ("interrupted", step, name, 80)
    assert record["time"].endswith("Z") and record["checkpoint_seconds"] > 0
    launch.run([PROGRAM, *COMMON, "--resume", str(stopped)], world=2)
    assert_same_modules(straight, modules(stopped)[1])
    assert stop_record(stopped)["reason"] == "completed"
    assert metrics_steps(stopped) == list(range(81))


def test_torchrun_with_two_processes_trains_as_one_process(tmp_path):
    args = ["--data", "data/digits.csv.gz", "--steps", "20", "--print-every", "10"]
    launch.run([PROGRAM, *args, "--out", str(tmp_path / "one")], world=1)
    # torch 1.13's torchrun fails on Python 3.11 without --redirects 1 --tee 1 (docs/scale-out.md).
    torchrun = ["-m", "torch.distributed.run", "--redirects", "1", "--tee", "1", "--nproc_per_node", "2",
                "--master_port", str(launch.free_port()), "--log_dir", str(tmp_path / "logs")]
    launch.run([*torchrun, PROGRAM, *args, "--out", str(tmp_path / "two")], world=1)
    one, two = modules(tmp_path / "one")[1], modules(tmp_path / "two")[1]
    scale = max(float(v.abs().max()) for v in one.values() if v.is_floating_point())
    difference = max(float((one[k].double() - two[k].double()).abs().max()) for k in one) / scale
    print(f"torchrun, 2 processes against 1, Digits after 20 AdamW steps: {difference:.2e}")
    assert difference <= 1e-3
    with open(tmp_path / "two" / "options.json") as f:
        assert json.load(f)["world_size"] == 2
