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

        Assert.Equal(
            "note: the linear probe ran out of its 100 L-BFGS iterations before converging (largest gradient component "
            + "above 1e-06) for same encoder, random init at 1.8e-03; raw at 1.1e-04. A larger linear_probe(epochs: ...) "
            + "fits it further." + Environment.NewLine
            + "note: few-shot fits ran out of their 100 L-BFGS iterations before converging for trained in 1 of 1 draws "
            + "(at most 3.0e-04); same encoder, random init in 1 of 2 draws (at most 2.0e-04). A larger few_shot(epochs: ...) "
            + "fits them further.",
            note);
    }

    [Fact]
    public void Few_shot_draws_that_stopped_early_get_their_own_note_when_the_linear_probe_converged()
    {
        var note = EvaluationSuite.UnconvergedNote(
        [
            Result("trained", Converged, Converged, Stopped(4e-5), Stopped(6e-6)),
            Result("raw", null, Converged),
        ]);

        Assert.Equal(
            "note: few-shot fits ran out of their 100 L-BFGS iterations before converging for trained in 2 of 3 draws "
            + "(at most 4.0e-05). A larger few_shot(epochs: ...) fits them further.",
            note);
    }
}
