// The image recipe: trains the LeJEPA of mnist.jepa on data/mnist10k (7,996 training images; the evaluation reports on
// its own 2,004 t10k images) unless --data names other images, and evaluates the encoder against the same encoder at
// random initialisation and the raw pixels. `dotnet run --project examples/Mnist -c Release -- --help` lists the options.
string[] defaults = args.Contains("--data") || args.Contains("--resume") || args.Contains("--help") || args.Contains("-h")
    ? []
    : ["--data", Path.Combine(AppContext.BaseDirectory, "mnist10k")];
return Jepa.Runner.ExperimentRunner.Run([.. defaults, .. args], Mnist.MnistLeJepa.Definition);
