using System.Text;

namespace Jepa.Bench.Compiler;

/// <summary>A generated file of exactly <c>lines</c> lines holding <c>experiments</c> experiments of four kinds
/// (vector JEPA, token JEPA, VICReg, contrastive), each 20 lines.</summary>
public static class LargeFile
{
    private static readonly string[] Templates =
    {
        """
        experiment Vector{0} {{
            input image: float[64];
            corruption noisy = feature_dropout(p: 0.3) then gaussian_noise(std: 0.1);
            encoder context = mlp(hidden: [256, {1}], out: 128);
            encoder target  = ema(context, momentum: 0.996 -> 1.0);
            predictor = mlp(hidden: [256], out: 128);
            objective {{
                predict target(image) from context(noisy(image));
                loss smooth_l1(target_norm: layer);
            }}
            train {{
                optimizer adamw(lr: 1e-3, weight_decay: 0.05);
                schedule warmup_cosine(warmup_steps: 100);
                batch 256; steps 3000; seed {0};
            }}
            evaluate {{ linear_probe(epochs: 100); few_shot(labels_per_class: 10, draws: 10); }}
            monitor {{ collapse(min_std: 0.01, min_rank: 3, action: warn, every: 100); }}
            // vector JEPA with an EMA target
            // {1} hidden units in the second layer
        }}
        """,
        """
        experiment Tokens{0} {{
            input image: float[1, 8, 8];
            corruption masked = block_mask(targets: 4, target_scale: 0.15..0.2,
                                           context_scale: 0.85..1.0, aspect: 0.75..1.5);
            encoder context = vit(patch: 2, dim: 64, depth: 4, heads: 4);
            encoder target  = ema(context, momentum: 0.996 -> 1.0);
            predictor = transformer(dim: 32, depth: 2, heads: 2);
            objective {{
                predict target(image) from context(masked(image));
                loss smooth_l1(target_norm: layer);
            }}
            train {{
                optimizer adamw(lr: 1e-3, weight_decay: 0.04 -> 0.4);
                schedule warmup_cosine(warmup_epochs: 5);
                batch 128; epochs 30; seed {0};
            }}
            evaluate {{ linear_probe(epochs: 100); knn(k: 20); }}
            monitor {{ collapse(min_std: 0.01, min_rank: 4, action: stop); }}
            /* token JEPA, {1} */
        }}
        """,
        """
        experiment VicReg{0} {{
            input image: float[64];
            corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.3);
            encoder context = mlp(hidden: [256, {1}], out: 128, norm: layer, act: gelu);
            encoder target  = context;                                  // shared weights
            predictor = mlp(hidden: [256], out: 128);
            objective {{
                predict target(image) from context(noisy(image));
                loss mse;
                regularize vicreg(variance: 25, covariance: 1);
            }}
            train {{
                optimizer adamw(lr: 1e-3);
                batch 256; epochs 50; seed {0};
            }}
            evaluate {{ knn(k: 20); split(test: 0.25); }}
            // VICReg on a shared encoder
            // {1}
            // three comment lines
        }}
        """,
        """
        experiment Contrastive{0} {{
            input image: float[1, 8, 8];
            corruption a = random_crop(scale: 0.6..1.0) then gaussian_noise(std: 0.05);
            corruption b = random_crop(scale: 0.6..1.0);
            encoder net = conv(channels: [32, {1}], kernel: 3, pool: mean, out: 128);
            objective {{
                predict net(a(image)) from net(b(image));   // no predictor: identity
                loss info_nce(temperature: 0.1);
            }}
            train {{
                optimizer adamw(lr: 3e-4);
                batch 256;
                epochs 40;
                seed {0};
            }}
            evaluate {{ linear_probe(epochs: 50); }}
            monitor {{ collapse(action: warn); }}
            // contrastive
            // {1} channels
        }}
        """,
    };

    /// <summary>The experiment with number <paramref name="index"/> of a generated file, alone (about 20 lines).</summary>
    public static string Experiment(int index) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, Templates[index % Templates.Length].Replace("\r\n", "\n"), index, 32 + index);

    public static string Generate(int lines = 1000, int experiments = 50)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < experiments; i++)
        {
            var template = Templates[i % Templates.Length].Replace("\r\n", "\n");
            builder.Append(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, i, 32 + i)).Append('\n');
        }

        var count = builder.ToString().Count(c => c == '\n');
        for (; count < lines; count++)
        {
            builder.Append("// padding\n");
        }

        return builder.ToString();
    }
}
