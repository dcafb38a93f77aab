using Jepa.Runtime.Evaluation;

namespace Jepa.Runner.Tests;

/// <summary>The note under the evaluation table when a probe's fit ran out of iterations (EvaluationSuite.UnconvergedNote).</summary>
public class ProbeFitNoteTests
{
    private static RepresentationResult Result(string label, ProbeFit? linear, params ProbeFit[] draws) =>
        new(label, label, new EvaluationReport(0.9, draws.Length == 0 ? null : new FewShotResult(10, draws.Select(_ => 0.8).ToList(), draws), null, 100, 50, 8, linear));

    private static ProbeFit Converged => new(40, 100, true, 5e-7);

    private static ProbeFit Stopped(double gradient) => new(100, 100, false, gradient);

    [Fact]
    public void Converged_fits_leave_no_note()
    {
        Assert.Null(EvaluationSuite.UnconvergedNote([Result("trained", Converged, Converged), Result("raw", Converged)]));
        Assert.Null(EvaluationSuite.UnconvergedNote([Result("no linear probe", null)]));
    }

    [Fact]
    public void The_note_names_each_representation_whose_linear_probe_stopped_early_and_how_far_from_converged()
    {
        var note = EvaluationSuite.UnconvergedNote(
        [
            Result("trained", Converged, Stopped(3e-4)),
            Result("same encoder, random init", Stopped(1.8e-3), Stopped(2e-4), Converged),
            Result("raw", Stopped(1.1e-4)),
        ]);

        // Few-shot draws that stopped early (their budget is fixed) are left to evaluation.json.
        Assert.Equal(
            "note: the linear probe ran out of its 100 L-BFGS iterations before converging (largest gradient component "
            + "above 1e-06) for same encoder, random init at 1.8e-03; raw at 1.1e-04. A larger linear_probe(epochs: ...) "
            + "fits it further.",
            note);
    }
}
