// Trains the experiment of experiment.jepa on the bundled digits data (or --data FILE), shows live progress, writes a
// run folder under runs/ (options, metrics, TensorBoard events, checkpoint, chart, evaluation.json) and evaluates the
// encoder with a linear probe, few-shot probes and kNN. `dotnet run -- --help` lists the options.
return Jepa.Runner.ExperimentRunner.Run(args, global::JEPA_ROOT_NAMESPACE.StarterJepa.Definition);
