using TorchSharp;
using static TorchSharp.torch;

namespace Jepa.Runtime.Evaluation;

/// <summary>
/// Multinomial logistic regression (the linear probe), fitted in float64 by full-batch L-BFGS. It minimises
/// scikit-learn's <c>LogisticRegression(C)</c> objective divided by the number of samples N:
/// <c>mean_i CE(W x_i + b, y_i) + ||W||^2 / (2 C N)</c> (the intercept b is not penalised; no feature scaling).
/// L-BFGS keeps the last 10 curvature pairs (as SciPy's default), uses a backtracking Armijo line search, and stops at
/// <c>maxIterations</c> iterations, when the largest gradient component is below 1e-6, or when the objective stalls.
/// </summary>
public sealed class LogisticRegression : LinearClassifier
{
    private const int History = 10;

    /// <summary>The fit has converged when no gradient component is larger than this (or the objective stalls).</summary>
    public const double GradientTolerance = 1e-6;

    private LogisticRegression(double[] theta, int features, int classes, int iterations, double objective, bool converged, double largestGradient)
        : base(theta, features, classes)
    {
        Iterations = iterations;
        Objective = objective;
        Converged = converged;
        LargestGradient = largestGradient;
    }

    /// <summary>L-BFGS iterations done.</summary>
    public int Iterations { get; }

    /// <summary>The objective at the solution (mean cross-entropy + penalty / N).</summary>
    public double Objective { get; }

    /// <summary>True when the gradient tolerance (or a stalled objective) ended the fit before the iteration budget.</summary>
    public bool Converged { get; }

    /// <summary>The largest absolute component of the objective's gradient at the solution: how far from converged a
    /// fit that ran out of iterations stopped (<see cref="GradientTolerance"/> is the target).</summary>
    public double LargestGradient { get; }

    /// <summary>Fits the probe on <paramref name="x"/> (N, D) and <paramref name="y"/> (N) with labels in [0, classes).</summary>
    public static LogisticRegression Fit(Tensor x, Tensor y, int classes, int maxIterations, double c = 1.0)
    {
        if (x.dim() != 2 || y.dim() != 1 || x.shape[0] != y.shape[0] || x.shape[0] == 0)
            throw new ArgumentException($"The probe needs embeddings (N, D) and labels (N) with N > 0, got [{string.Join(", ", x.shape)}] and [{string.Join(", ", y.shape)}].");
        if (maxIterations < 0) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "The iteration budget cannot be negative.");
        if (!(c > 0)) throw new ArgumentOutOfRangeException(nameof(c), c, "C must be positive.");
        using var scope = NewDisposeScope();
        long n = x.shape[0], d = x.shape[1];
        var xa = cat([x.to(ScalarType.Float64).cpu(), ones(n, 1, dtype: ScalarType.Float64)], 1);      // (N, D + 1)
        var onehot = nn.functional.one_hot(y.to(ScalarType.Int64).cpu(), classes).to(ScalarType.Float64);   // (N, C)
        var penalty = ones(d + 1, 1, dtype: ScalarType.Float64);                                          // (D + 1, 1)
        penalty[d] = 0;
        var lambda = 1.0 / (c * n);

        (double F, Tensor G) Evaluate(Tensor w)                                                           // w: (D + 1, C)
        {
            var logits = xa.matmul(w);                                                                    // (N, C)
            var logProbs = logits.log_softmax(1);
            var f = Held(n, s => (-(logProbs * onehot).sum()).div(s)) + Held(0.5 * lambda, s => (w.square() * penalty).sum().mul(s));
            var g = Held(n, s => xa.t().matmul(logProbs.exp() - onehot).div(s)) + Held(lambda, s => penalty.mul(s)) * w;   // (D + 1, C)
            return (f.item<double>(), g);
        }

        var w = zeros(d + 1, classes, dtype: ScalarType.Float64);
        var (f, g) = Evaluate(w);
        var s = new Queue<(Tensor S, Tensor Y, double Rho)>();
        var iterations = 0;
        var largest = g.abs().max().item<double>();
        var converged = largest < GradientTolerance;
        while (!converged && iterations < maxIterations)
        {
            Native.CollectionGuard.SafePoint();
            using var iteration = NewDisposeScope();                                                      // frees the (N, C) temporaries
            // Two-loop recursion: direction = -H g, with H0 = (s.y / y.y) I from the newest pair.
            var q = g.clone();
            var alphas = new Stack<double>();
            foreach (var (si, yi, rho) in s.Reverse())
            {
                var a = rho * (si * q).sum().item<double>();
                alphas.Push(a);
                q.sub_(Held(a, yi.mul));
            }
            if (s.Count > 0)
            {
                var (sl, yl, _) = s.Last();
                Held((sl * yl).sum().item<double>() / (yl * yl).sum().item<double>(), q.mul_);
            }
            else
            {
                Held(Math.Max(1.0, q.abs().sum().item<double>()), s => q.div_(s));                      // a cautious first step
            }
            foreach (var (si, yi, rho) in s)
            {
                var b = rho * (yi * q).sum().item<double>();
                q.add_(Held(alphas.Pop() - b, si.mul));
            }
            var direction = -q;
            var slope = (g * direction).sum().item<double>();
            if (slope >= 0) { direction = -g; slope = -(g * g).sum().item<double>(); s.Clear(); }       // not a descent direction: restart

            // Backtracking line search (Armijo, c1 = 1e-4).
            double step = 1, fNew = double.NaN;
            Tensor? wNew = null, gNew = null;
            for (var halvings = 0; halvings < 40; halvings++, step *= 0.5)
            {
                wNew = w + Held(step, direction.mul);
                (fNew, gNew) = Evaluate(wNew);
                if (fNew <= f + 1e-4 * step * slope) break;
            }
            iterations++;
            if (!(fNew <= f)) break;                                                                      // no progress possible
            wNew!.MoveToOuterDisposeScope();
            gNew!.MoveToOuterDisposeScope();
            var sk = (wNew - w).MoveToOuterDisposeScope();
            var yk = (gNew - g).MoveToOuterDisposeScope();
            var sy = (sk * yk).sum().item<double>();
            if (sy > 1e-12)
            {
                s.Enqueue((sk, yk, 1 / sy));
                if (s.Count > History) s.Dequeue();
            }
            var stalled = f - fNew <= 1e-15 * Math.Max(1, Math.Abs(f));
            (w, f, g) = (wNew, fNew, gNew);
            largest = g.abs().max().item<double>();
            converged = largest < GradientTolerance || stalled;
        }
        return new LogisticRegression(w.data<double>().ToArray(), (int)d, classes, iterations, f, converged, largest);
    }

    /// <summary>
    /// <paramref name="op"/> on <paramref name="value"/> as a TorchSharp <c>Scalar</c> held until the operation is done.
    /// <c>t * v</c> with a double converts it to a <c>Scalar</c> that nothing references once its handle is passed to
    /// the native call, so its finalizer can free it during the call: libtorch then reads freed memory ("Unknown scalar
    /// type", at the end of the MNIST example's few-shot probe on 2026-12-01). The fit does about ten such operations
    /// per iteration, some 10^5 per evaluation, more than any other code here. The same operations as before, so the
    /// same numbers.
    /// </summary>
    private static Tensor Held(double value, Func<Scalar, Tensor> op)
    {
        using var scalar = value.ToScalar();
        return op(scalar);
    }

    /// <summary>The logits (N, C) for embeddings (N, D), float64.</summary>
    public Tensor Logits(Tensor x) => Scores(x);
}
