return Jepa.Cli.JepaCommand.Run(args, Console.Out, Console.Error);
