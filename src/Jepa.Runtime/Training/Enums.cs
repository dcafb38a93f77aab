namespace Jepa.Runtime.Training;

/// <summary>How the target side of a JEPA gets its weights.</summary>
public enum TargetKind
{
    /// <summary>A separate copy of the context encoder, never trained, updated as an exponential moving average after each step (I-JEPA, BYOL).</summary>
    Ema,

    /// <summary>The context encoder itself, run under no-grad on the target side (SimSiam).</summary>
    StopGradient,

    /// <summary>The context encoder itself, trained through both branches (collapses without a regularizer).</summary>
    Shared,

    /// <summary>A second trainable encoder with its own weights (collapses without a regularizer or negatives too).</summary>
    Independent,
}

/// <summary>The optimizer of a run.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW (decoupled weight decay), with <see cref="ExperimentOptions.Betas"/>.</summary>
    AdamW,

    /// <summary>SGD with <see cref="ExperimentOptions.Momentum"/> (PyTorch's coupled L2 weight decay).</summary>
    Sgd,
}

/// <summary>What the collapse monitor does when a reading falls below a threshold.</summary>
public enum CollapseAction
{
    /// <summary>Record an alarm, report it and go on training.</summary>
    Warn,

    /// <summary>Record an alarm, write a checkpoint and stop training (<see cref="StopReason.Collapse"/>).</summary>
    Stop,
}

/// <summary>Why <see cref="JepaExperiment.Train"/> returned.</summary>
public enum StopReason
{
    /// <summary>Every step of the run was taken.</summary>
    Completed,

    /// <summary>The collapse monitor, with <see cref="CollapseAction.Stop"/>, found the embeddings collapsed.</summary>
    Collapse,

    /// <summary>The cancellation token was cancelled; the state after the last full step was kept (and checkpointed).</summary>
    Cancelled,
}

/// <summary>
/// The collapse monitor: every <paramref name="Every"/> steps it embeds a fixed monitoring batch (the experiment's
/// <c>Encode</c>, in eval mode, without gradient) and raises an alarm when the std of the L2-normalised embeddings is
/// below <paramref name="MinStd"/> or their RankMe effective rank is below <paramref name="MinRank"/>.
/// </summary>
public sealed record CollapseMonitorOptions(double MinStd, double MinRank, CollapseAction Action, int Every);
