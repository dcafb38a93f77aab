// The main job: trains the JEPA of digits.jepa on the digits data and evaluates its encoder against the same encoder at
// random initialisation and the raw pixels. `dotnet run --project examples/Digits -c Release -- --help` lists the options.
return Jepa.Runner.ExperimentRunner.Run(args, Digits.DigitsJepa.Definition);
