namespace Jepa.Runner;

/// <summary>What the command line asked for. With <see cref="Resume"/>, what it leaves out comes from the run's <c>run.json</c>.</summary>
public sealed record RunSettings
{
    /// <summary>Overrides the run length in epochs.</summary>
    public int? Epochs { get; init; }

    /// <summary>Overrides the run length in optimizer steps.</summary>
    public long? Steps { get; init; }

    /// <summary><c>cpu</c>, <c>cuda</c> or <c>auto</c>; null keeps the experiment's device.</summary>
    public string? Device { get; init; }

    /// <summary>The run folder; null: <c>runs/&lt;experiment&gt;-&lt;time&gt;</c>, or the resumed folder.</summary>
    public string? Out { get; init; }

    /// <summary>A run folder (or checkpoint file) to resume from.</summary>
    public string? Resume { get; init; }

    /// <summary>Replace the run that the run folder holds (<c>--overwrite</c>) instead of refusing the folder.</summary>
    public bool Overwrite { get; init; }

    /// <summary>What the encoder trains on (--data): a folder or files (docs/data.md), labels optional; empty: the digits data.</summary>
    public IReadOnlyList<string> Data { get; init; } = [];

    /// <summary>The labelled samples the evaluation reports on; empty: the data's own test split, else a held-out split.</summary>
    public IReadOnlyList<string> TestData { get; init; } = [];

    /// <summary>The labelled samples the probes fit on; empty: the training data when it has labels.</summary>
    public IReadOnlyList<string> ProbeData { get; init; } = [];

    /// <summary>Leave out images that cannot be decoded (found when the folder is indexed) instead of stopping.</summary>
    public bool SkipBadFiles { get; init; }

    /// <summary>Memory for decoded samples as bytes; null: a quarter of the available memory; 0: no cache.</summary>
    public long? CacheMemory { get; init; }

    /// <summary>Threads that read and decode the data; null: one fewer than the cores (1 to 8).</summary>
    public int? DataWorkers { get; init; }

    /// <summary>Plain progress lines even on a terminal.</summary>
    public bool Plain { get; init; }

    /// <summary>Steps between checkpoints of the run folder; 0: only at the end; null: the resumed run's, else
    /// <see cref="DefaultCheckpointEvery"/>.</summary>
    public int? CheckpointEvery { get; init; }

    public const int DefaultCheckpointEvery = 500;
}
