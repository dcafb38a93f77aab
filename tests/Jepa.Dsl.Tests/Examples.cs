namespace Jepa.Dsl.Tests;

/// <summary>The examples of the design's language.md and the samples of docs/internals/generated-code-contract.md,
/// verbatim except where a decision of docs/language.md requires more (noted per example).</summary>
public static class Examples
{
    /// <summary>language.md, token JEPA (I-JEPA style). Verbatim.</summary>
    public const string DigitsJepaTokens = """
        // digits.jepa: I-JEPA-style pretraining on 8x8 handwritten digits.
        experiment DigitsJepa {
            input image: float[1, 8, 8];                 // shape without the batch dimension

            corruption masked = block_mask(targets: 4, target_scale: 0.15..0.2,
                                           context_scale: 0.85..1.0, aspect: 0.75..1.5);

            encoder context = vit(patch: 2, dim: 64, depth: 4, heads: 4);
            encoder target  = ema(context, momentum: 0.996 -> 1.0);   // linear over training

            predictor = transformer(dim: 32, depth: 2, heads: 2);     // mask tokens at target positions

            objective {
                predict target(image) from context(masked(image));
                loss smooth_l1;
            }

            train {
                optimizer adamw(lr: 1e-3, weight_decay: 0.04 -> 0.4);
                schedule warmup_cosine(warmup_epochs: 5);
                batch 128; epochs 30; seed 7;
            }

            evaluate { linear_probe(epochs: 100); few_shot(labels_per_class: 10, draws: 10); knn(k: 20); }
            monitor  { collapse(min_std: 0.01, min_rank: 4, action: stop); }
        }
        """;

    /// <summary>language.md, vector JEPA with a regularizer and the contrastive one, in one file. Verbatim.</summary>
    public const string VicRegAndContrastive = """
        experiment DigitsVicReg {
            input image: float[64];
            corruption noisy = gaussian_noise(std: 0.1) then feature_dropout(p: 0.3);
            encoder context = mlp(hidden: [256, 256], out: 128, norm: layer, act: gelu);
            encoder target  = context;                                  // shared weights
            predictor = mlp(hidden: [256], out: 128);
            objective {
                predict target(image) from context(noisy(image));
                loss mse;
                regularize vicreg(variance: 25, covariance: 1);
            }
            train { optimizer adamw(lr: 1e-3); batch 256; epochs 50; seed 1; }
        }

        experiment DigitsContrastive {
            input image: float[1, 8, 8];
            corruption a = random_crop(scale: 0.6..1.0) then gaussian_noise(std: 0.05);
            corruption b = random_crop(scale: 0.6..1.0);
            encoder net = conv(channels: [32, 64], kernel: 3, pool: mean, out: 128);
            objective {
                predict net(a(image)) from net(b(image));   // no predictor: identity
                loss info_nce(temperature: 0.1);              // negatives: the other samples in the batch
            }
            train { optimizer adamw(lr: 3e-4); batch 256; epochs 40; seed 3; }
        }
        """;

    /// <summary>generated-code-contract.md, sample 1 (vector JEPA). Verbatim.</summary>
    public const string ContractVector = """
        namespace Digits;
        experiment DigitsJepa {
            input image: float[64];
            corruption noisy = feature_dropout(p: 0.3) then gaussian_noise(std: 0.1);
            encoder context = mlp(hidden: [256, 256], out: 128);
            encoder target  = ema(context, momentum: 0.996 -> 1.0);
            predictor = mlp(hidden: [256], out: 128);
            objective {
                predict target(image) from context(noisy(image));
                loss smooth_l1(target_norm: layer);
            }
            train { optimizer adamw(lr: 1e-3, weight_decay: 0.05); schedule warmup_cosine(warmup_steps: 100); batch 256; steps 3000; seed 1; }
            evaluate { linear_probe(epochs: 100); few_shot(labels_per_class: 10, draws: 10); knn(k: 20); }
            monitor { collapse(min_std: 0.01, min_rank: 3, action: warn, every: 100); }
        }
        """;

    /// <summary>generated-code-contract.md, sample 2 (token JEPA). Verbatim.</summary>
    public const string ContractTokens = """
        experiment TokenJepa {
            input image: float[1, 8, 8];
            corruption masked = block_mask(targets: 4, target_scale: 0.15..0.2, context_scale: 0.85..1.0, aspect: 0.75..1.5);
            encoder context = vit(patch: 2, dim: 64, depth: 4, heads: 4);
            encoder target  = ema(context, momentum: 0.996 -> 1.0);
            predictor = transformer(dim: 32, depth: 2, heads: 2);
            objective { predict target(image) from context(masked(image)); loss smooth_l1(target_norm: layer); }
            train { optimizer adamw(lr: 1e-3, weight_decay: 0.04 -> 0.4); schedule warmup_cosine(warmup_epochs: 5); batch 128; epochs 30; seed 7; }
        }
        """;

    public static IEnumerable<string> All => new[] { DigitsJepaTokens, VicRegAndContrastive, ContractVector, ContractTokens };
}
