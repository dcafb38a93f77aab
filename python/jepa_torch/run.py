"""The trainer every exported program shares (C#'s ``JepaExperiment.Train`` and the runner): the command line, the
run folder (options, metrics, checkpoints), resume, the collapse monitor, and the loop around the program's step."""
import argparse
import collections
import dataclasses
import json
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass, field

import torch

from . import data as D
from .distributed import Distributed
from .normalization import InputNormalization
from .training import Precision, Ramp, Schedule, Step, optimizer as make_optimizer, step_generator

CHECKPOINT = "checkpoint.pt"
PREVIOUS_CHECKPOINT = "checkpoint.prev.pt"
FORMAT = "jepa-torch-checkpoint"
FORMAT_VERSION = 1
MONITOR_SEED = 0x6D6F6E69746F72  # "monitor", mixed into the seed for the monitor's fixed batch (as C#)


@dataclass(frozen=True)
class Collapse:
    """The collapse monitor: every ``every`` steps, an alarm when std < min_std or RankMe < min_rank and that metric fell
    from the step-0 baseline (``collapse_alarm``)."""
    min_std: float = 0.01
    min_rank: float = 3.0
    action: str = "warn"      # or "stop"
    every: int = 100


@dataclass(frozen=True)
class Options:
    """The train and monitor values of a ``.jepa`` file (the C# ``ExperimentOptions``), in the file's units.
    ``lr`` is the peak under warmup_cosine; ``batch`` is the global batch across processes."""
    batch: int
    seed: int
    steps: int = None
    epochs: int = None
    optimizer: str = "adamw"
    lr: Ramp = Ramp(1e-3, 1e-3)
    weight_decay: Ramp = Ramp(0.0, 0.0)
    momentum: float = 0.9
    nesterov: bool = False
    betas: tuple = (0.9, 0.999)
    schedule: str = "constant"
    warmup_steps: int = 0
    warmup_epochs: float = 0.0
    start_lr: float = 0.0
    final_lr: float = 0.0
    grad_clip: float = None
    ema_momentum: Ramp = None
    collapse: Collapse = field(default_factory=Collapse)
    test_fraction: float = 0.25
    #: The inputs' per-channel normalisation (``InputNormalization``): declared, ``InputNormalization.none()`` for none,
    #: or None (the default) to compute it on the training data when a fresh run starts; the run keeps the values it
    #: used in ``options.json`` and every checkpoint.
    normalization: InputNormalization = None

    def to_json(self):
        return dataclasses.asdict(self)


class Experiment:
    """The base of an exported program's experiment class (C#'s ``JepaExperiment``): it builds its modules, calls
    ``register`` and writes ``training_step``; this class knows the roles for checkpoints and the monitor."""

    name = None
    input_shape = None
    #: The normalisation of the run (set by ``train``); None: the inputs pass unchanged.
    normalization = None
    #: False: the trainer normalises each batch before ``training_step`` and the collapse monitor's batch before
    #: ``monitor_embeddings`` (its corruptions then see normalised values). A program that calls ``self.normalize`` on
    #: each view right before it enters an encoder (and in ``encode`` and ``monitor_embeddings``), so that augmentations
    #: see pixels in [0, 1], sets it True: every exported program does, as the C# step does since issue 13.
    normalizes_inputs = False

    def normalize(self, x):
        """The one place where inputs are normalised: ``(x - mean) / std`` per channel with the run's normalisation
        (C#'s ``JepaExperiment.Normalize``); ``x`` itself without one."""
        return x if self.normalization is None else self.normalization.apply(x)

    def at_boundary(self, x):
        """What the trainer hands to ``training_step`` and the monitor to ``monitor_embeddings``: ``normalize(x)``
        unless the program normalises its views itself (``normalizes_inputs``)."""
        return x if self.normalizes_inputs else self.normalize(x)

    def register(self, context, target, target_kind, predictor):
        """``target_kind``: ema (a separate copy, not trained), stopgrad or shared (the context encoder itself) or
        independent (a second trainable encoder)."""
        self.roles = {"context": context, "predictor": predictor}
        if target is not context:
            self.roles["target"] = target
        self.target_kind = target_kind

    def named_trainable(self):
        seen = set()
        for role in ("context", "target", "predictor"):
            if role not in self.roles or (role == "target" and self.target_kind == "ema"):
                continue
            for name, p in self.roles[role].named_parameters():
                if p.requires_grad and id(p) not in seen:
                    seen.add(id(p))
                    yield f"{role}.{name}", p

    def train(self, mode=True):
        for m in self.roles.values():
            m.train(mode)

    def state_dicts(self):
        return {role: m.state_dict() for role, m in self.roles.items()}

    def load_state_dicts(self, modules, source):
        missing = [r for r in self.roles if r not in modules]
        if missing:
            raise ValueError(f"{source} holds no weights for the {', '.join(missing)} of {self.name}.")
        for role, m in self.roles.items():
            m.load_state_dict(modules[role])

    def monitor_embeddings(self, batch):
        """What the collapse monitor measures; ``encode`` unless a program overrides it."""
        return self.encode(batch)


# ---- the command line ----------------------------------------------------------------------------------------------

def arguments(description, argv=None):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, metavar="PATH",
                   help="a folder (MNIST-style IDX files, whose t10k pair is the test split; or images in class folders), a CSV "
                        "(label last), one or two .npy (samples, labels), a .npz, or IDX files (docs/data.md)")
    p.add_argument("--steps", type=int, help="run length in optimizer steps (replaces the file's)")
    p.add_argument("--epochs", type=int, help="run length in epochs (replaces the file's)")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda (each process on cuda:LOCAL_RANK) or auto")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"], help="bf16: autocast on CUDA, loss terms in fp32")
    p.add_argument("--out", help="the run folder (default runs/NAME-TIMESTAMP)")
    p.add_argument("--resume", metavar="DIR_OR_FILE", help="a run folder or a checkpoint.pt to continue from")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N", help="a checkpoint every N steps (0: at the end only)")
    p.add_argument("--log-every", type=int, default=10, metavar="N", help="a metrics row every N steps")
    p.add_argument("--print-every", type=int, default=100, metavar="N", help="a progress line every N steps")
    p.add_argument("--monitor-samples", type=int, default=1024, metavar="N", help="samples in the collapse monitor's batch")
    p.add_argument("--all-samples", action="store_true", help="train on every sample (no held-out evaluation split)")
    p.add_argument("--timeout", type=float, default=1800, metavar="S", help="seconds a process waits for the others")
    args = p.parse_args(argv)
    if args.steps is not None and args.epochs is not None:
        p.error("give --steps or --epochs, not both")
    return args


# ---- metrics -------------------------------------------------------------------------------------------------------

_TRAILING = ["lr", "weight_decay", "ema_momentum", "grad_norm", "steps_per_s", "seconds", "embedding_std", "rankme"]


class Metrics:
    """``metrics.jsonl`` and ``metrics.csv`` with the C# MetricsWriter's keys and columns: step, epoch, loss, terms
    (``loss/<term>`` in the CSV), lr, weight_decay, ema_momentum, grad_norm, steps_per_s, seconds, embedding_std,
    rankme; absent values left out (JSON) or empty (CSV). A resumed run first drops rows after its step."""

    def __init__(self, folder, resume_step):
        self.json_path, self.csv_path = os.path.join(folder, "metrics.jsonl"), os.path.join(folder, "metrics.csv")
        self.terms = None
        self.pending = []
        if resume_step > 0:
            self._keep_rows(self.json_path, resume_step, lambda line: json.loads(line)["step"], header=False)
            header = self._keep_rows(self.csv_path, resume_step, lambda line: int(line.split(",", 1)[0]), header=True)
            if header:
                columns = header.split(",")
                self.terms = [c[len("loss/"):] for c in columns[3:len(columns) - len(_TRAILING)]]
        else:
            for path in (self.json_path, self.csv_path):
                if os.path.exists(path):
                    os.remove(path)
        self.json = open(self.json_path, "a", encoding="utf-8")
        self.csv = open(self.csv_path, "a", encoding="utf-8")

    @staticmethod
    def _keep_rows(path, step, step_of, header):
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        kept, first = [], None
        if header and lines:
            first, lines = lines[0], lines[1:]
            kept.append(first)
        for line in lines:
            try:
                if step_of(line) <= step:
                    kept.append(line)
            except (ValueError, KeyError):
                break  # a torn last line
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in kept)
        os.replace(path + ".tmp", path)
        return first

    def write(self, row):
        if self.terms is None and row.get("terms") is None:
            self.pending.append(row)     # the CSV header needs the first step's term names
            return
        if self.terms is None:
            self.terms = list(row["terms"])
            self.csv.write(",".join(["step", "epoch", "loss"] + [f"loss/{t}" for t in self.terms] + _TRAILING) + "\n")
            for p in self.pending:
                self._write(p)
            self.pending = []
        self._write(row)

    def _write(self, row):
        ordered = {"step": row["step"], "epoch": row["epoch"]}
        if row.get("loss") is not None:
            ordered["loss"] = row["loss"]
        if row.get("terms") is not None:
            ordered["terms"] = {t: row["terms"][t] for t in self.terms}
        for key in _TRAILING:
            if row.get(key) is not None:
                ordered[key] = row[key]
        self.json.write(json.dumps(ordered) + "\n")
        terms = row.get("terms") or {}
        cells = [row["step"], row["epoch"], row.get("loss")] + [terms.get(t) for t in self.terms] + [row.get(k) for k in _TRAILING]
        self.csv.write(",".join("" if c is None else repr(float(c)) if isinstance(c, float) else str(c) for c in cells) + "\n")

    def flush(self):
        self.json.flush()
        self.csv.flush()

    def close(self):
        if self.pending and self.terms is None:
            self.terms = []
            self.csv.write(",".join(["step", "epoch", "loss"] + _TRAILING) + "\n")
            for p in self.pending:
                self._write(p)
        self.json.close()
        self.csv.close()


# ---- checkpoints ---------------------------------------------------------------------------------------------------

def save_checkpoint(path, payload, previous=None):
    """``torch.save`` to a temporary file in the same folder, flushed to disk, then renamed over ``path`` (after the
    old file is renamed to ``previous``), so a crash leaves a complete checkpoint. Only tensors and plain values, so
    ``torch.load(weights_only=True)`` accepts it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(temp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
    if previous is not None and os.path.exists(path):
        os.replace(path, previous)
    os.replace(temp, path)


def _weights_only():
    """PyTorch 2's restricted unpickler; 1.13's early one refuses plain floats (opcode BINFLOAT), so 1.x loads fully."""
    return int(torch.__version__.split(".")[0]) >= 2


def load_checkpoint(path):
    """A checkpoint written by ``save_checkpoint`` or by .NET's ``PyTorchCheckpoint.Export``; with
    ``weights_only=True`` on PyTorch 2 (the files hold only tensors and plain values)."""
    payload = torch.load(path, map_location="cpu", weights_only=True) if _weights_only() else torch.load(path, map_location="cpu")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Jepa PyTorch checkpoint (format '{FORMAT}').")
    if payload.get("version", 0) > FORMAT_VERSION:
        raise ValueError(f"{path} has format version {payload['version']}; this runtime reads up to {FORMAT_VERSION}.")
    return payload


def resume_from(path, log):
    """The checkpoint at ``path`` (a file, or a run folder's ``checkpoint.pt``), or, when it cannot be loaded, the
    previous one beside it, said loudly."""
    if os.path.isdir(path):
        path = os.path.join(path, CHECKPOINT)
    try:
        return path, load_checkpoint(path)
    except Exception as damaged:  # noqa: BLE001 - any failure to read falls back to the previous file
        previous = os.path.join(os.path.dirname(path), PREVIOUS_CHECKPOINT)
        if os.path.basename(path) != CHECKPOINT or not os.path.exists(previous):
            raise
        payload = load_checkpoint(previous)
        log(f"warning: checkpoint '{path}' cannot be loaded ({damaged}); resumed from the previous checkpoint "
            f"'{previous}' (step {payload['step']}) instead.")
        return previous, payload


# ---- the collapse monitor ------------------------------------------------------------------------------------------

def _samples(z):
    """The embeddings as (N, d) in float64: (N, d) as they are, tokens (N, T, d) mean-pooled per sample first (a sample
    is one point, as the probes see it: read token by token, tokens that differ only by their position look healthy
    while every sample maps to the same point), as C#'s ``CollapseMetrics`` does."""
    z = z.detach()
    if z.dim() < 2 or z.shape[0] < 2:
        raise ValueError(f"Collapse metrics need at least two embeddings of shape (N, d) or (N, T, d); got {list(z.shape)}.")
    return (z if z.dim() == 2 else z.reshape(z.shape[0], -1, z.shape[-1]).mean(1)).to(torch.float64)


def embedding_std(z):
    """Std over the batch of the L2-normalised embeddings (not centred), mean over dimensions."""
    return float(torch.nn.functional.normalize(_samples(z), p=2, dim=1).std(0).mean())


def rankme(z):
    """RankMe: ``exp(-sum p_k log p_k)``, ``p_k = sigma_k / sum(sigma) + 1e-7`` over the singular values."""
    sigma = torch.linalg.svdvals(_samples(z))
    p = sigma / sigma.sum() + 1e-7
    return float(torch.exp(-(p * p.log()).sum()))


#: How far the std must fall below the baseline's for an alarm (a tenfold fall), and RankMe (to half): C#'s
#: ``CollapseMonitor.StdFall`` and ``RankFall``.
STD_FALL, RANK_FALL = 10.0, 2.0


def collapse_alarm(name, reading, baseline, collapse):
    """The alarm a reading ``[step, std, rankme]`` raises, or None (C#'s ``CollapseMonitor.Judge``). A metric alarms when
    it is below its threshold **and** has fallen from the run's ``baseline`` (its first reading, at step 0): the std to
    below a tenth of the baseline's, RankMe to below half of it. The fall makes one pair of thresholds valid for vector
    and token encoders and for activations whose embeddings first grow a component they all share (GELU)."""
    step, std, rank = reading
    low_std = std < collapse.min_std and std < baseline[1] / STD_FALL
    low_rank = rank < collapse.min_rank and rank < baseline[2] / RANK_FALL
    if not low_std and not low_rank:
        return None
    what = " and ".join(w for w in [
        f"the std of the L2-normalised embeddings is {std:.3g} (below {collapse.min_std:.3g}, and below a tenth of "
        f"{baseline[1]:.3g} at step {baseline[0]})" if low_std else None,
        f"their effective rank (RankMe) is {rank:.3g} (below {collapse.min_rank:.3g}, and below half of {baseline[2]:.3g} "
        f"at step {baseline[0]})" if low_rank else None] if w)
    then = "training stops" if collapse.action == "stop" else "training goes on"
    return (f"{name}: representation collapse at step {step}: {what}; {then}. The encoder maps inputs to nearly the same "
            "point: an EMA or stop-gradient target, or a regularizer (vicreg, sigreg), prevents it.")


# ---- the loop ------------------------------------------------------------------------------------------------------

class Interrupted(Exception):
    """A stop signal where nothing can be finished first (before training), or a second SIGINT (``abort``)."""

    def __init__(self, signum, abort=False):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.abort = signum, abort


def _interrupt(signum, frame):
    raise Interrupted(signum)


class _StopFlag:
    """While training, SIGINT or SIGTERM asks every process to stop after the current step (the request travels in
    the step's all-reduce, so all stop at the same step), with a final checkpoint; a second SIGINT aborts at once."""

    def __init__(self, say):
        self.requested = 0          # the first signal received, or 0
        self.say = say
        self.previous = {}
        for s in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[s] = signal.signal(s, self._handle)
            except ValueError:  # not the main thread
                pass

    def _handle(self, signum, frame):
        if self.requested:
            if signum == signal.SIGINT:
                raise Interrupted(signum, abort=True)
            return                  # a repeated SIGTERM: the stop is under way
        self.requested = signum
        self.say(f"{signal.Signals(signum).name}: stopping after the current step with a checkpoint"
                 f"{' (Ctrl+C again aborts at once)' if signum == signal.SIGINT else ''}.", sys.stderr)

    def restore(self):
        for s, h in self.previous.items():
            signal.signal(s, h)


def _say(ddp, text, stream=None):
    if ddp.is_main:
        print(text, file=stream or sys.stdout, flush=True)


def resume_command(folder, world, argv=None):
    """The command that resumes the run of ``folder``: this program with its arguments, ``--out``/``--resume`` replaced
    by ``--resume FOLDER``; under ``torchrun`` for a job of several processes (with the launcher's other options as
    they were)."""
    argv = list(sys.argv if argv is None else argv)
    kept, skip = [], False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a in ("--out", "--resume"):
            skip = True
            continue
        if a.startswith(("--out=", "--resume=")):
            continue
        kept.append(a)
    launcher = [sys.executable] if world == 1 else ["torchrun", "--nproc_per_node", str(world)]
    return shlex.join([*launcher, argv[0], *kept, "--resume", folder])


def main(experiment_type, options, description, argv=None):
    """``python3 train_NAME.py --data ...`` and ``torchrun --nproc_per_node N train_NAME.py --data ...``."""
    args = arguments(description, argv)
    # Until training starts a stop signal ends the program at once (nothing to save); train() takes them over.
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _main(experiment_type, options, args)
    except Interrupted as stop:
        name = signal.Signals(stop.signum).name
        if stop.abort:
            print("Aborted at once (a second SIGINT): the run folder keeps its last complete checkpoint.", file=sys.stderr, flush=True)
        else:
            print(f"Interrupted by {name} before training started: nothing was trained.", file=sys.stderr, flush=True)
        raise SystemExit(128 + stop.signum) from None
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _main(experiment_type, options, args):
    ddp = Distributed.from_environment(args.device, args.timeout)
    try:
        precision = Precision(args.precision, ddp.device)
        train_data = _training_data(experiment_type, options, args, ddp)
        if args.steps is not None:
            options = dataclasses.replace(options, steps=args.steps, epochs=None)
        if args.epochs is not None:
            options = dataclasses.replace(options, epochs=args.epochs, steps=None)
        torch.manual_seed(options.seed)          # the initial weights: the same on every process
        experiment = experiment_type(options, ddp, precision)
        result = train(experiment, train_data, options, ddp, args)
        _say(ddp, f"Trained {result['steps']} steps in {result['seconds']:.1f} s ({result['stop']}); final loss {result['loss']:.4g}.")
        if result["stop"] == "interrupted":
            record = result["stop_record"]
            if ddp.is_main:
                _say(ddp, f"Interrupted by {record['signal']} at step {record['step']} of {record['total_steps']}; checkpoint "
                          f"{record['checkpoint']} (written in {record['checkpoint_seconds']:.2f} s).", sys.stderr)
                _say(ddp, f"Resume with: {resume_command(result['folder'], ddp.world)}", sys.stderr)
            raise SystemExit(128 + signal.Signals[record["signal"]])
        return result
    finally:
        ddp.close()


def _training_data(experiment_type, options, args, ddp):
    """What the encoder trains on, as the .NET runner plans it: all of ``--data`` when the source has its own labelled
    test split (the t10k pair, an .npz's test arrays, a test/ folder), else the stratified ``split(test: f)``
    hold-out of labelled data (unless ``--all-samples``), else every sample."""
    loaded = D.open_data(args.data, experiment_type.input_shape, log=lambda text: _say(ddp, text))
    data = loaded.train
    _say(ddp, f"{experiment_type.name}: {data}\nData: {loaded.layout}, {len(loaded.files)} file{'' if len(loaded.files) == 1 else 's'}.")
    if loaded.test is not None and loaded.test.labels is not None:
        _say(ddp, f"Training on {len(data)} samples; evaluation on the {len(loaded.test)} samples of {loaded.test.source} "
                  "(its own test split; `jepa evaluate` reports on them).")
        return data
    if data.labels is not None and not args.all_samples:
        train_idx, test_idx = D.stratified_split(data.labels, options.test_fraction, options.seed)
        _say(ddp, f"Training on {len(train_idx)} samples; {len(test_idx)} held out for evaluation ({options.test_fraction:.0%}, "
                  "stratified; `jepa evaluate` reports on them).")
        return data.subset(train_idx, f"{data.source} (train split)")
    _say(ddp, f"Training on all {len(data)} samples" + (" (--all-samples)." if data.labels is not None else " (no labels: no evaluation)."))
    return data


def _run_folder(name, args, ddp):
    if args.resume and os.path.isdir(args.resume):
        return os.path.abspath(args.resume)
    if args.out:
        return os.path.abspath(args.out)
    stamp = [time.strftime("%Y%m%d-%H%M%S")]
    if ddp.world > 1:
        torch.distributed.broadcast_object_list(stamp, src=0)   # one folder for every process
    return os.path.abspath(os.path.join("runs", f"{name}-{stamp[0]}"))


def train(experiment, data, options, ddp, args):
    """Trains ``experiment`` until the run length, continuing from a checkpoint with ``--resume``."""
    log = lambda text: _say(ddp, text)  # noqa: E731
    folder = _run_folder(experiment.name, args, ddp)

    # 1. The run: length, schedules, optimizer.
    steps_per_epoch = len(data) // options.batch
    if steps_per_epoch < 1:
        raise D.DataError(f"The training data has {len(data)} samples, fewer than one batch of {options.batch}.")
    total = options.steps if options.steps is not None else options.epochs * steps_per_epoch
    warmup = options.warmup_steps if options.warmup_steps > 0 else round(options.warmup_epochs * steps_per_epoch)
    schedule = Schedule(options.schedule, options.lr, options.start_lr, options.final_lr, warmup, options.weight_decay,
                        options.ema_momentum if experiment.target_kind == "ema" else None, total)
    opt = make_optimizer(options, experiment.named_trainable())
    part = ddp.part(options.batch)

    # 2. Resume: weights, EMA target, step; the optimizer state where the checkpoint has one.
    state = {"step": 0, "epoch": 0, "position": 0, "seconds": 0.0, "readings": [], "alarms": []}
    saved_normalization = None
    if args.resume:
        path, payload = resume_from(args.resume, log)
        if payload.get("experiment") != experiment.name:
            raise ValueError(f"{path} was written for the experiment '{payload.get('experiment')}', not '{experiment.name}'.")
        differences = _differences(payload.get("options"), options.to_json())
        saved_normalization = InputNormalization.from_json((payload.get("options") or {}).get("normalization"))
        if options.normalization is not None and saved_normalization is not None and saved_normalization != options.normalization:
            differences.append(f"normalization: {saved_normalization} in the checkpoint, {options.normalization} here")
        if differences:
            raise ValueError(f"{path} holds the options of a different experiment: " + "; ".join(differences) + ".")
        experiment.load_state_dicts(payload["modules"], path)
        if payload.get("optimizer") is not None:
            opt.load_state_dict(payload["optimizer"])
        else:
            log(f"{path} holds no optimizer state (a TorchSharp checkpoint): the optimizer starts afresh at step {payload['step']}.")
        for key in state:
            if key in payload:
                state[key] = payload[key]
        log(f"Resumed from {path} at step {state['step']}.")

    # 3. The normalisation: declared, else the checkpoint's (a TorchSharp export's too), else the experiment's earlier
    #    run's, else computed on the training data (a resumed run never computes it again, unless its checkpoint has none).
    normalization = options.normalization or saved_normalization or experiment.normalization
    if normalization is None:
        normalization = InputNormalization.compute(data, options.seed)
        if args.resume:
            log(f"{args.resume} holds no normalisation (a TorchSharp export of an experiment that had none yet): computed on the training data.")
    options = dataclasses.replace(options, normalization=normalization)
    experiment.normalization = normalization
    log(f"Normalisation: {normalization}.")

    # 4. Run folder (process 0), the collapse monitor's fixed batch and its baseline at step 0.
    metrics = None
    if ddp.is_main:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "options.json"), "w", encoding="utf-8") as f:
            json.dump({"experiment": experiment.name, "world_size": ddp.world, **options.to_json()}, f, indent=2, default=str)
        metrics = Metrics(folder, state["step"])
        log(f"Run folder: {folder}")
    monitor_batch = None
    if options.collapse is not None and state["step"] < total:
        order = D.epoch_order(len(data), options.seed ^ MONITOR_SEED, 0)[:min(len(data), args.monitor_samples)]
        monitor_batch = data.batch(order).to(ddp.device)
        if state["step"] == 0 and not state["readings"]:
            reading = _measure(experiment, monitor_batch, 0)
            state["readings"].append(reading)
            if metrics:
                metrics.write({"step": 0, "epoch": 0, "seconds": 0.0, "embedding_std": reading[1], "rankme": reading[2]})

    def checkpoint():
        if not ddp.is_main:
            return
        started = time.perf_counter()
        metrics.flush()
        path = os.path.join(folder, CHECKPOINT)
        save_checkpoint(path, {"format": FORMAT, "version": FORMAT_VERSION, "experiment": experiment.name,
                               "step": state["step"], "epoch": state["epoch"], "position": state["position"],
                               "total_steps": total, "seconds": state["seconds"], "world_size": ddp.world,
                               "options": options.to_json(), "modules": experiment.state_dicts(), "optimizer": opt.state_dict(),
                               "readings": state["readings"], "alarms": state["alarms"]},
                        previous=os.path.join(folder, PREVIOUS_CHECKPOINT))
        state["checkpoint_seconds"] = time.perf_counter() - started

    # 5. Epochs of steps.
    # Whichever process receives the signal says so (a scheduler may signal any of them), named when it is not process 0.
    stop_flag = _StopFlag(lambda text, stream: print(text if ddp.is_main else f"process {ddp.rank}: {text}", file=stream, flush=True))
    experiment.train()
    if ddp.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(ddp.device)
    clock, seconds_before, window = time.perf_counter(), state["seconds"], collections.deque(maxlen=50)
    stop, last, first_loss, first_end, steps_before = "completed", None, None, None, state["step"]
    try:
        while state["step"] < total and stop == "completed":
            order = D.epoch_order(len(data), options.seed, state["epoch"])
            while state["step"] < total:
                # The global batch of this step, and this process's contiguous part of it.
                start = state["position"] * options.batch
                idx = order[start + part.start:start + part.stop]
                batch = experiment.at_boundary(data.batch(idx).to(ddp.device, non_blocking=True))  # (B/N, ...)
                index, epoch = state["step"], state["epoch"]
                step = Step(index + 1, epoch, step_generator(options.seed, index), part, opt, ddp, schedule.lr_at(index),
                            schedule.weight_decay_at(index), schedule.ema_momentum_at(index), options.grad_clip,
                            stop_requested=stop_flag.requested)
                experiment.training_step(batch, step)
                if step.values is None:
                    raise RuntimeError(f"{experiment.name}.training_step returned without calling backward_and_step.")
                if experiment.target_kind == "ema" and not step.ema_updated:
                    raise RuntimeError(f"{experiment.name}.training_step did not update its EMA target.")
                state["step"] += 1
                state["position"] += 1
                if state["position"] == steps_per_epoch:
                    state["epoch"], state["position"] = state["epoch"] + 1, 0
                state["seconds"] = seconds_before + time.perf_counter() - clock
                window.append((state["step"], time.perf_counter()))
                rate = (window[-1][0] - window[0][0]) / (window[-1][1] - window[0][1]) if len(window) > 1 else None
                last = step
                if first_end is None:
                    first_loss, first_end = step.loss, time.perf_counter()
                reading = None
                c = options.collapse
                if monitor_batch is not None and (state["step"] % c.every == 0 or state["step"] == total):
                    reading = _measure(experiment, monitor_batch, state["step"])
                    state["readings"].append(reading)
                    message = collapse_alarm(experiment.name, reading, state["readings"][0], c)
                    if message:
                        state["alarms"].append(message)
                        log(f"collapse alarm: {message}")
                        if c.action == "stop":
                            stop = "collapse"
                if step.stop and stop == "completed":
                    stop = "interrupted"
                if metrics and (state["step"] % args.log_every == 0 or reading or state["step"] == total or stop != "completed"):
                    metrics.write({"step": state["step"], "epoch": epoch, "loss": step.loss, "terms": step.values,
                                   "lr": step.lr, "weight_decay": step.weight_decay, "ema_momentum": step.ema_momentum,
                                   "grad_norm": step.grad_norm, "steps_per_s": rate, "seconds": state["seconds"],
                                   "embedding_std": reading[1] if reading else None, "rankme": reading[2] if reading else None})
                if state["step"] % args.print_every == 0 or state["step"] == total or stop != "completed":
                    terms = ", ".join(f"{n} {v:.4g}" for n, v in step.values.items())
                    collapse = f" | std {state['readings'][-1][1]:.3g} rank {state['readings'][-1][2]:.3g}" if state["readings"] else ""
                    log(f"step {state['step']}/{total} epoch {epoch} | loss {step.loss:.4g} ({terms}) | lr {step.lr:.4g}"
                        f"{collapse} | {rate or 0:.0f} steps/s")
                if args.checkpoint_every and state["step"] % args.checkpoint_every == 0 and state["step"] < total and stop == "completed":
                    checkpoint()
                if stop != "completed" or state["position"] == 0:
                    break
        # 6. The final checkpoint, and a summary of this run (steps per second after the first step, peak GPU memory).
        checkpoint()
    finally:
        stop_flag.restore()
        if metrics:
            metrics.close()
    taken = state["step"] - steps_before
    summary = {"experiment": experiment.name, "steps": state["step"], "steps_this_run": taken, "stop": stop,
               "device": str(ddp.device), "world_size": ddp.world, "precision": getattr(experiment, "precision", None) and experiment.precision.name,
               "first_loss": first_loss, "final_loss": last.loss if last else None,
               "steps_per_s": (taken - 1) / (time.perf_counter() - first_end) if first_end and taken > 1 else None,
               "peak_memory_mib": torch.cuda.max_memory_allocated(ddp.device) / 2 ** 20 if ddp.device.type == "cuda" else None}
    record = {"reason": stop, "step": state["step"], "total_steps": total,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "signal": signal.Signals(last.stop_signal).name if stop == "interrupted" and last and last.stop_signal else None,
              "phase": "training", "checkpoint": os.path.join(folder, CHECKPOINT),
              "checkpoint_seconds": state.get("checkpoint_seconds")}
    if ddp.is_main:
        with open(os.path.join(folder, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
        # run.json: how the run stopped, as the C# runner's run.json keeps it ("stop": reason, step, time, signal).
        _write_json(os.path.join(folder, "run.json"), {"format": 1, "experiment": experiment.name, "world_size": ddp.world,
                                                       "options": options.to_json(), "stop": record})
    return {"steps": state["step"], "total": total, "seconds": state["seconds"], "stop": stop, "folder": folder, "stop_record": record,
            "loss": last.loss if last else float("nan"), "terms": last.values if last else {}, "readings": state["readings"],
            "summary": summary}


def _write_json(path, value):
    """Writes ``value`` to a temporary file beside ``path``, then renames it over ``path``."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, default=str)
    os.replace(path + ".tmp", path)


#: Options that may differ between a checkpoint and the run resuming it (the run length and the monitor), as in C#;
#: the normalisation is compared on its own (a run that leaves it to be computed takes the checkpoint's).
MAY_DIFFER = {"steps", "epochs", "collapse", "normalization"}


def _differences(saved, current):
    """Each option the checkpoint holds that differs, as 'name: saved in the checkpoint, current here' (a .NET export
    holds only its normalisation, compared on its own; a program's checkpoint every option)."""
    if saved is None:
        return []
    return [f"{k}: {saved.get(k)!r} in the checkpoint, {current.get(k)!r} here"
            for k in sorted(set(saved) & set(current)) if k not in MAY_DIFFER and saved.get(k) != current.get(k)]


@torch.no_grad()
def _measure(experiment, batch, step):
    experiment.train(False)
    try:
        z = experiment.monitor_embeddings(experiment.at_boundary(batch))
        return [step, embedding_std(z), rankme(z)]
    finally:
        experiment.train(True)
