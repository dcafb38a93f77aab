// Test projects that call TorchSharp in-process run their tests one at a time. TorchSharp 0.107 does not keep the
// Scalars it makes from .NET numbers alive during libtorch calls, so a garbage collection started by another thread
// (here: another test) during a call can free one in use ("Unknown scalar type"; docs/runtime-training.md, "Other
// threads"). Measured on 2026-12-01: serial costs 3 s (Runtime), 9 s (Cli), 2 s (PyTorch), nothing (Runner).
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
