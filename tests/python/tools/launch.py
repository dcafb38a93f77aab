"""Starts N processes of a Python program as torchrun would (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT),
without torchrun: torch 1.13's torchrun fails on Python 3.11 unless given --redirects 1 --tee 1 (platform notes), and
the tests want each process's id (to kill one)."""
import os
import socket
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(rank=0, world=1, port=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=os.path.join(REPO, "python"))
    if world > 1:
        env.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    else:
        for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(key, None)
    return env


def start(argv, world, **popen):
    """The processes of one job: ``argv`` run by this Python, ``world`` times (one plain process when 1)."""
    port = free_port() if world > 1 else None
    return [subprocess.Popen([sys.executable, *argv], env=environment(r, world, port), cwd=REPO, **popen) for r in range(world)]


def run(argv, world, timeout=600):
    """Runs a job to its end; raises with every process's output when one fails."""
    processes = start(argv, world, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outputs, failed = [], False
    for p in processes:
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in processes:
                q.kill()
            out, _ = p.communicate()
            failed = True
        outputs.append(out)
        failed |= p.returncode != 0
    if failed:
        raise RuntimeError("\n".join(f"--- process {r} (exit {p.returncode}):\n{o}" for r, (p, o) in enumerate(zip(processes, outputs))))
    return outputs
