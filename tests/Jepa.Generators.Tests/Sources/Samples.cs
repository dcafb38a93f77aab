namespace Jepa.Generators.Tests;

/// <summary>.jepa texts shared by the generator tests.</summary>
internal static class Samples
{
    public const string Vector = """
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
            monitor { collapse(min_std: 0.01, min_rank: 3, action: warn, every: 100); }
        }
        """;

    public const string Token = """
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

    public const string Collapse = """
        experiment Collapses {
            input image: float[64];
            corruption noisy = gaussian_noise(std: 0.1);
            encoder context = mlp(hidden: [64], out: 32);
            encoder target = context;
            objective { predict target(image) from context(noisy(image)); loss mse; }
            train { optimizer adamw(lr: 1e-3); batch 64; steps 10; }
        }
        """;
}
