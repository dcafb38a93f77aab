// VICReg on a shared MLP encoder (vicreg.jepa).
return Jepa.Runner.ExperimentRunner.Run(args, VicReg.DigitsVicReg.Definition);
