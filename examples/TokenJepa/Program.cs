// I-JEPA on the digits: ViT tokens, multi-block masks, a transformer predictor (token.jepa).
return Jepa.Runner.ExperimentRunner.Run(args, TokenJepa.TokenJepa.Definition);
