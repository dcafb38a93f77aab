// Never runs: the build stops at collapse.jepa (JEPA301).
return Jepa.Runner.ExperimentRunner.Run(args, Collapse.DigitsCollapse.Definition);
