// SimSiam-style stop-gradient JEPA without an EMA target (simsiam.jepa).
return Jepa.Runner.ExperimentRunner.Run(args, SimSiam.DigitsSimSiam.Definition);
