"""Every exported program runs its command line on one process: data, split, training, run folder, checkpoint."""
import json
import os

import pytest
import torch

import jepa_torch as jt
import programs
from test_runtime import ALLOWED_GLOBALS, pickle_globals


@pytest.mark.parametrize("name", list(programs.PROGRAMS))
def test_program_trains_and_writes_its_run_folder(name, tmp_path):
    program = programs.load(name)
    out = tmp_path / "run"
    result = jt.run.main(getattr(program, name), program.OPTIONS, program.__doc__,
                         ["--data", str(programs.data_path(name)), "--steps", "3", "--out", str(out), "--log-every", "1",
                          "--monitor-samples", "64"])
    assert result["steps"] == 3 and all(torch.isfinite(torch.tensor(v)) for v in result["terms"].values())
    rows = [json.loads(line) for line in open(out / "metrics.jsonl")]
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert {"embedding_std", "rankme"} <= set(rows[0]) and {"loss", "terms", "lr", "grad_norm"} <= set(rows[1])
    assert ("ema_momentum" in rows[1]) == (program.OPTIONS.ema_momentum is not None)
    payload = jt.run.load_checkpoint(str(out / "checkpoint.pt"))
    assert payload["step"] == 3 and payload["experiment"] == name
    assert pickle_globals(out / "checkpoint.pt") <= ALLOWED_GLOBALS
    assert os.path.exists(out / "options.json")


def test_resuming_with_other_options_is_refused(tmp_path):
    import dataclasses
    program = programs.load("DigitsJepa")
    args = ["--data", str(programs.REPO / "data/digits.csv.gz"), "--steps", "2", "--out", str(tmp_path), "--monitor-samples", "64"]
    jt.run.main(program.DigitsJepa, program.OPTIONS, "", args)
    other = dataclasses.replace(program.OPTIONS, lr=jt.Ramp(5e-4, 5e-4))
    with pytest.raises(ValueError, match=r"options of a different experiment: lr: .* in the checkpoint"):
        jt.run.main(program.DigitsJepa, other, "", ["--data", args[1], "--steps", "4", "--resume", str(tmp_path)])
    result = jt.run.main(program.DigitsJepa, program.OPTIONS, "", ["--data", args[1], "--steps", "4", "--resume", str(tmp_path)])
    assert result["steps"] == 4                        # a longer run length is fine
