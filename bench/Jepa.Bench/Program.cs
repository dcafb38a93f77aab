using System.Diagnostics;
using Jepa.Bench.HandWritten;
TorchSharp.torch.set_num_threads(2);
using var b = new HandWrittenMlpJepa(256, 1);
for (int i = 0; i < 30; i++) b.Step();
for (int r = 0; r < 3; r++)
{
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < 100; i++) b.Step();
    Console.WriteLine($"{sw.Elapsed.TotalMilliseconds / 100:F2} ms/step");
}
