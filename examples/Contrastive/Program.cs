// Contrastive learning with InfoNCE and in-batch negatives on a conv encoder (contrastive.jepa).
return Jepa.Runner.ExperimentRunner.Run(args, Contrastive.DigitsContrastive.Definition);
