using static Jepa.Dsl.Tests.TestHelpers;

namespace Jepa.Dsl.Tests.Diagnostics;

/// <summary>
/// One or more cases per diagnostic id: a source with the expected span marked, and a fragment of the expected
/// message. Each case must produce exactly that one diagnostic and nothing else (one mistake, one diagnostic).
/// </summary>
public static class DiagnosticCases
{
    private const string Image = "input image: float[1, 8, 8];";
    private const string Vit = "encoder context = vit(patch: 2, dim: 16, depth: 1, heads: 2);\n    encoder target = ema(context);";
    private const string Masked = "corruption masked = block_mask;";
    private const string MaskedObjective = "objective { predict target(image) from context(masked(image)); loss smooth_l1; }";
    private const string Transformer = "predictor = transformer(dim: 8, depth: 1, heads: 2);";
    private const string Image16 = "input image: float[1, 16, 16];";
    private const string Crops = "corruption g = random_resized_crop(scale: 0.3..1.0);\n    views crops = g * 2;";
    private const string LocalCrops = "corruption g = random_resized_crop(scale: 0.3..1.0);\n    corruption l = random_resized_crop(scale: 0.05..0.3, size: 8);\n    views crops = g * 2, l * 2;";
    private const string Net = "encoder net = conv(channels: [8], out: 16);";
    private const string LeJepa = "objective { predict mean(net(crops.g(image))) from net(crops(image)); loss mse; regularize sigreg; }";

    public static readonly (string Id, string Source, string Message)[] All =
    {
        // ---- syntax ----
        ("JEPA001", Experiment(extra: "evaluate { knn(k: 20[|;|] }"), "unexpected ';'; expected ',' or ')'"),
        ("JEPA001", Experiment(encoders: "encoder context = mlp(out: 16)\n    [|encoder|] target = ema(context);"), "unexpected 'encoder'; expected ';'"),
        ("JEPA001", Experiment() + "[|}|]", "unexpected '}'; expected 'experiment'"),
        ("JEPA002", Experiment(extra: "[|monitr|] { collapse; }"), "'monitr' is not a statement of an experiment; did you mean 'monitor'?"),
        ("JEPA002", Experiment(train: "train { optimizer adamw(lr: 1e-3); steps 100; [|bach|] 32; }"), "did you mean 'batch'?"),
        ("JEPA003", Experiment() + "[|/*|] never closed", "this /* comment is never closed"),
        ("JEPA004", "// nothing here\n[||]", "the file declares no experiment"),
        ("JEPA005", Experiment(train: "train { optimizer adamw(lr: 1e-3); steps [|1e999|]; }"), "the number 1e999 is too large"),

        // ---- names and parameters ----
        ("JEPA101", Experiment(encoders: "encoder context = [|mpl|](out: 16);\n    encoder target = ema(context);"), "unknown encoder 'mpl'; did you mean 'mlp'?"),
        ("JEPA101", Experiment(corruptions: "corruption noisy = [|gausian_noise|](std: 0.1);"), "unknown corruption 'gausian_noise'; did you mean 'gaussian_noise'?"),
        ("JEPA101", Experiment(objective: "objective { predict target(image) from context(noisy(image)); loss [|mes|]; }"), "unknown loss 'mes'; did you mean 'mse'?"),
        ("JEPA101", Experiment(objective: "objective { predict target(image) from context(noisy(image)); loss mse; regularize [|vicrag|]; }"), "unknown regularizer 'vicrag'; did you mean 'vicreg'?"),
        ("JEPA101", Experiment(predictor: "predictor = [|transformr|](dim: 8, depth: 1, heads: 2);"), "unknown predictor 'transformr'; did you mean 'transformer'?"),
        ("JEPA101", Experiment(train: "train { optimizer [|adam|](lr: 1e-3); steps 100; }"), "unknown optimizer 'adam'; did you mean 'adamw'?"),
        ("JEPA101", Experiment(predictor: "projector = [|mpl|](out: 8);"), "unknown projector 'mpl'; did you mean 'mlp'?"),
        ("JEPA101", Experiment(predictor: "predictor = [|none|](out: 8);"), "unknown predictor 'none'"),
        ("JEPA101", Experiment(train: "train { optimizer adamw(lr: 1e-3); schedule [|cosine|]; steps 100; }"), "unknown schedule 'cosine'"),
        ("JEPA101", Experiment(extra: "evaluate { [|kn|](k: 5); }"), "unknown evaluation 'kn'; did you mean 'knn'?"),
        ("JEPA101", Experiment(extra: "monitor { [|colapse|]; }"), "unknown monitor 'colapse'; did you mean 'collapse'?"),
        ("JEPA102", Experiment(corruptions: "corruption noisy = gaussian_noise([|sdt|]: 0.1);"), "gaussian_noise has no parameter 'sdt'; did you mean 'std'?"),
        ("JEPA103", Experiment(encoders: "encoder context = [|mlp|](hidden: [32]);\n    encoder target = ema(context);"), "mlp is missing the parameter 'out' (the output width, an integer >= 1)"),
        ("JEPA103", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = [|ema|](momentum: 0.99);"), "ema is missing the parameter 'encoder'"),
        ("JEPA104", Experiment(encoders: "encoder context = mlp(hidden: [|32|], out: 16);\n    encoder target = ema(context);"), "'hidden' of mlp must be a list of integers >= 1, not the number 32 (write [32] for a list)"),
        ("JEPA104", Experiment(train: "train { optimizer adamw(lr: 1e-3); batch [|1.5|]; steps 100; }"), "batch must be an integer >= 1, not the number 1.5"),
        ("JEPA104", Experiment(train: "train { optimizer sgd(lr: 1e-3, nesterov: [|1|]); steps 100; }"), "'nesterov' of sgd must be true or false"),
        ("JEPA105", Experiment(corruptions: "corruption noisy = feature_dropout(p: [|1.5|]);"), "'p' of feature_dropout must be in [0, 1); 1.5 is not"),
        ("JEPA105", Experiment(corruptions: "corruption noisy = random_mask(ratio: [|1|]);"), "'ratio' of random_mask must be in (0, 1); 1 is not"),
        ("JEPA105", Experiment(input: Image16, corruptions: "corruption noisy = random_rotation(degrees: [|200|]);"), "'degrees' of random_rotation must be in [0, 180]; 200 is not"),
        ("JEPA103", Experiment(input: Image16, corruptions: "corruption noisy = [|random_rotation|](fill: 1);"), "random_rotation is missing the parameter 'degrees' (the largest angle either way, a number in [0, 180]); add degrees: ..."),
        ("JEPA105", Experiment(input: Image16, corruptions: "corruption noisy = random_affine(degrees: 5, shear: [|90|]);"), "'shear' of random_affine must be in [0, 89]; 90 is not"),
        ("JEPA105", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema(context, momentum: 0.9 -> [|1.5|]);"), "'momentum' of ema must be in [0, 1]; 1.5 is not"),
        ("JEPA105", Experiment(objective: "objective { predict target(image) from context(noisy(image)); loss info_nce(temperature: [|0|]); }"), "'temperature' of info_nce must be > 0; 0 is not"),
        ("JEPA105", Experiment(train: "train { optimizer adamw(lr: 1e-3); steps [|3000000000|]; }"), "steps must be at most 2147483647"),
        ("JEPA105", Experiment(input: "input image: float[[|0|]];"), "each dimension of input 'image' must be >= 1; 0 is not"),
        ("JEPA105", Experiment(input: Image16, corruptions: "corruption g = random_resized_crop(scale: 0.3..1.0);\n    views crops = g * [|0|];", encoders: Net, predictor: "", objective: LeJepa), "the count of views 'g' must be >= 1; 0 is not"),
        ("JEPA106", Experiment(corruptions: "corruption noisy = gaussian_noise(std: 0.1, [|std|]: 0.2);"), "'std' is given more than once in gaussian_noise"),
        ("JEPA107", Experiment(input: Image, corruptions: "corruption noisy = random_crop(scale: [|0.9..0.5|]);"), "the range 0.9..0.5 is empty"),
        ("JEPA108", Experiment(corruptions: "corruption noisy = gaussian_noise([|0.1|]);"), "gaussian_noise takes no positional argument here"),
        ("JEPA109", Experiment(corruptions: "corruption noisy = gaussian_noise(std: 0.1);\n    corruption [|noisy|] = feature_dropout(p: 0.1);"), "'noisy' is already declared on line 3"),
        ("JEPA109", Experiment() + "experiment [|E|] { }", "'E' is already declared on line 1; experiment names must be unique"),
        ("JEPA110", Experiment(extra: "[|input|] other: float[3];"), "'input' appears more than once in experiment 'E'"),
        ("JEPA110", Experiment(train: "train { optimizer adamw(lr: 1e-3); steps 100; [|steps|] 200; }"), "'steps' appears more than once in train"),
        ("JEPA110", Experiment(extra: "evaluate { knn; [|knn|](k: 3); }"), "'knn' appears more than once in evaluate"),
        ("JEPA110", Experiment(input: Image16, corruptions: "corruption g = random_resized_crop(scale: 0.3..1.0);\n    views crops = g * 2, [|g|];", encoders: Net, predictor: "", objective: LeJepa), "'g' appears more than once in views 'crops'"),
        ("JEPA111", Experiment(train: "").Replace("experiment E {", "experiment [|E|] {"), "experiment 'E' has no train block; add train {"),
        ("JEPA111", Experiment(train: "[|train|] { steps 100; }"), "train has no optimizer; add optimizer adamw(lr: 1e-3);"),
        ("JEPA111", Experiment(objective: "[|objective|] { predict target(image) from context(noisy(image)); }"), "the objective has no loss; add loss smooth_l1;"),
        ("JEPA112", Experiment(objective: "objective { predict target(image) from [|contxt|](noisy(image)); loss mse; }"), "experiment 'E' has no encoder named 'contxt'; did you mean 'context'?"),
        ("JEPA112", Experiment(objective: "objective { predict target(image) from context([|nosy|](image)); loss mse; }"), "has no corruption named 'nosy'; did you mean 'noisy'?"),
        ("JEPA112", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema([|contxt|]);"), "has no encoder named 'contxt'; did you mean 'context'?"),
        ("JEPA112", Experiment(input: Image16, corruptions: Crops, encoders: Net, predictor: "",
            objective: "objective { predict mean(net(crops.[|global|](image))) from net(crops(image)); loss mse; regularize sigreg; }"), "has no group of views 'crops' named 'global'; its groups are g"),
        ("JEPA113", Experiment(objective: "objective { predict target(image) from context(noisy([|img|])); loss mse; }"), "'img' is not the input of experiment 'E'; its input is 'image'"),
        ("JEPA114", Experiment(objective: "objective { predict target(image) from [|context(noisy(image), image)|]; loss mse; }"), "is not an application of an encoder"),
        ("JEPA115", Experiment(train: "train { optimizer adamw(lr: 1e-3); schedule warmup_cosine(warmup_epochs: 1, warmup_steps: [|10|]); steps 100; }"), "warmup_epochs and warmup_steps cannot both be given"),
        ("JEPA116", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema(context);\n    encoder copy = stopgrad([|target|]);"), "stopgrad(...) refers to 'target', which is an EMA copy; wrap the trainable encoder 'context' instead"),
        ("JEPA117", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema(context);\n    encoder a = [|b|];\n    encoder b = a;"), "encoder 'a' refers back to itself (a -> b -> a)"),
        ("JEPA118", Experiment(encoders: "encoder context = mlp(out: 16, norm: [|lyer|]);\n    encoder target = ema(context);"), "'norm' of mlp must be one of none, layer or batch; 'lyer' is not; did you mean 'layer'?"),
        ("JEPA118", Experiment(train: "train { optimizer adamw(lr: 1e-3); steps 100; device [|gpu|]; }"), "device must be one of cpu, cuda or auto; 'gpu' is not"),
        ("JEPA119", Experiment().Replace("experiment E {", "experiment [|Settings|] {", StringComparison.Ordinal), "'Settings' cannot name an experiment: its generated class declares a member Settings (the options in use)"),

        // ---- shapes ----
        ("JEPA120", Experiment(objective: "objective { predict [|mean|](target(image)) from context(noisy(image)); loss mse; }"), "mean(...) averages the target representations of several views"),
        ("JEPA120", Experiment(input: Image16, corruptions: Crops, encoders: "encoder context = conv(channels: [8], out: 16);\n    encoder target = ema(context);",
            objective: "objective { predict target(crops(image)) from [|mean|](context(crops(image))); loss mse; }"), "here it wraps the context side"),
        ("JEPA201", Experiment(input: "input image: float[[|1, 8|]];"), "an input with 2 dimensions is not supported"),
        ("JEPA201", Experiment(input: "input image: [|int|][64];"), "the element type 'int' is not supported"),
        ("JEPA202", Experiment(input: Image, encoders: "encoder context = vit(patch: [|3|], dim: 16, depth: 1, heads: 2, pool: mean);\n    encoder target = ema(context);"), "patch 3 does not divide the image size 8x8"),
        ("JEPA203", Experiment(input: Image, encoders: "encoder context = vit(patch: 2, dim: 16, depth: 1, heads: [|3|], pool: mean);\n    encoder target = ema(context);"), "vit: dim 16 is not divisible by heads 3"),
        ("JEPA203", Experiment(input: Image, corruptions: Masked, encoders: Vit, predictor: "predictor = transformer(dim: 10, depth: 1, heads: [|4|]);", objective: MaskedObjective), "transformer: dim 10 is not divisible by heads 4"),
        ("JEPA204", Experiment(input: Image, encoders: "encoder context = conv(channels: [|[8, 8, 8, 8]|], out: 16);\n    encoder target = ema(context);"), "conv stage 4 of 4 leaves a 0x0 image"),
        ("JEPA204", Experiment(input: Image16, corruptions: "corruption g = random_resized_crop(scale: 0.3..1.0);\n    corruption l = random_resized_crop(scale: 0.05..0.3, size: 4);\n    views crops = g * 2, l * 2;",
            encoders: "encoder net = conv(channels: [8, 8, 8], out: 16);", predictor: "",
            objective: "objective { predict mean(net(crops.g(image))) from net([|crops|](image)); loss mse; regularize sigreg; }"), "conv stage 3 of 3 leaves a 0x0 image"),
        ("JEPA205", Experiment(predictor: "predictor = mlp(hidden: [32], out: [|8|]);"), "predictor mlp outputs [8]; the prediction must have the shape of the target representation [16]"),
        ("JEPA205", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder other = mlp(out: 8);", predictor: "",
            objective: "objective { [|predict other(image) from context(noisy(image));|] loss info_nce; }"), "with no predictor the prediction is the context representation [16]"),
        ("JEPA206", Experiment(corruptions: "corruption noisy = [|block_mask|];"), "block_mask selects tokens, so the context side needs a token encoder (vit without pool), but 'context' outputs [16]"),
        ("JEPA207", Experiment(input: Image, corruptions: "corruption masked = [|block_mask|] then gaussian_noise(std: 0.1);", encoders: Vit, predictor: Transformer, objective: MaskedObjective), "block_mask is a token mask here and must be the last link"),
        ("JEPA207", Experiment(input: Image, corruptions: "corruption masked = [|random_mask|] then gaussian_noise(std: 0.1);", encoders: Vit, predictor: Transformer, objective: MaskedObjective), "random_mask is a token mask here and must be the last link"),
        ("JEPA208", Experiment(corruptions: "corruption noisy = [|random_crop|](scale: 0.5..1.0);"), "random_crop needs an image input float[c, h, w], but input 'image' is float[64]"),
        ("JEPA208", Experiment(encoders: "encoder context = [|conv|](channels: [8], out: 16);\n    encoder target = ema(context);"), "conv needs an image input"),
        ("JEPA209", Experiment(input: Image, encoders: Vit, objective: "objective { predict target(image) from context(noisy(image)); loss [|info_nce|]; }"), "info_nce compares one vector per sample, but the prediction is tokens [16, 16]"),
        ("JEPA210", Experiment(predictor: "predictor = [|transformer|](dim: 16, depth: 1, heads: 2);"), "the context encoder 'context' outputs [16]"),
        ("JEPA210", Experiment(input: Image, encoders: Vit, predictor: "predictor = [|transformer|](dim: 16, depth: 1, heads: 2);"), "corruption 'noisy' has no token mask"),
        ("JEPA211", Experiment(input: Image, corruptions: Masked, encoders: Vit, predictor: "predictor = [|mlp|](hidden: [32]);", objective: MaskedObjective), "predictor mlp cannot predict the masked target tokens"),
        ("JEPA211", Experiment(input: Image, corruptions: Masked, encoders: Vit, predictor: "predictor = [|none|];", objective: MaskedObjective), "predictor none (the identity) cannot predict"),
        ("JEPA212", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder other = mlp(out: 8);",
            objective: "objective { predict other(image) from context(noisy(image)); loss mse; regularize [|barlow_twins|]; }"), "barlow_twins correlates the context features (width 16) with the target features (width 8)"),
        ("JEPA213", Experiment(input: Image, corruptions: Masked, encoders: Vit, predictor: Transformer,
            objective: "objective { predict target([|masked|](image)) from context(masked(image)); loss mse; }"), "corruption 'masked' holds a token mask (block_mask)"),
        ("JEPA214", Experiment(input: Image, corruptions: Masked, predictor: Transformer,
            encoders: "encoder context = vit(patch: 2, dim: 16, depth: 1, heads: 2);\n    encoder other = vit(patch: 4, dim: 16, depth: 1, heads: 2);",
            objective: "objective { predict [|other|](image) from context(masked(image)); loss mse; regularize vicreg; }"), "needs the target encoder's tokens on the context's grid of 16 tokens, but target 'other' outputs [4, 16]"),

        // ---- training and collapse ----
        ("JEPA215", Experiment(input: Image, corruptions: "corruption noisy = [|grayscale|];"), "grayscale needs 3 colour channels (R, G, B), but input 'image' has 1 channel"),
        ("JEPA215", Experiment(input: Image, corruptions: "corruption noisy = color_jitter(saturation: 0, hue: [|0.1|]);"), "color_jitter with hue 0.1 needs 3 colour channels"),
        ("JEPA215", Experiment(input: Image, corruptions: "corruption noisy = [|color_jitter|];"), "color_jitter with saturation 0.2 (its default) needs 3 colour channels"),
        ("JEPA216", Experiment(input: Image16, corruptions: LocalCrops, encoders: "encoder net = mlp(out: 16);", predictor: "",
            objective: "objective { predict mean(net(crops.g(image))) from net([|crops|](image)); loss mse; regularize sigreg; }"), "corruption 'l' of views 'crops' gives 8x8 images, but encoder 'net' (mlp) takes only the input's 16x16"),
        ("JEPA216", Experiment(input: Image16, corruptions: LocalCrops, encoders: "encoder context = vit(patch: 4, dim: 16, depth: 1, heads: 2, pool: mean);\n    encoder target = ema(context);",
            objective: "objective { predict target(crops.g(image)) from context([|crops|](image)); loss mse; }"), "but encoder 'context' (vit) takes only the input's 16x16"),
        ("JEPA217", Experiment(input: Image, encoders: "encoder context = conv(channels: [8, 12], out: 16, norm: group, groups: [|8|]);\n    encoder target = ema(context);"), "conv: 8 groups do not divide the 12 channels of stage 2"),
        ("JEPA218", Experiment(input: Image, corruptions: "corruption m = [|block_mask|];\n    views v = m * 2;", encoders: Vit, predictor: Transformer,
            objective: "objective { predict target(image) from context(v(image)); loss mse; }"), "views take no token mask: corruption 'm' of views 'v' holds block_mask"),
        ("JEPA219", Experiment(encoders: "encoder context = My.Encoders.Tiny(depth: 2);\n    encoder target = ema(context);", predictor: "projector = [|mlp|](out: 8);"),
            "the projector needs the output width of encoder 'context', a C# encoder without out:"),
        ("JEPA301", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = context;", objective: "objective { predict target(image) from context(noisy(image)); loss [|mse|]; }"),
            "this objective collapses: the invariance loss mse between the context and a target that shares the context's trainable weights (encoder 'target' is 'context')"),
        ("JEPA301", Experiment(encoders: "encoder net = mlp(out: 16);", predictor: "", objective: "objective { predict net(image) from net(noisy(image)); loss [|cosine * 2|]; }"),
            "a target that is the same trainable encoder 'net'"),
        ("JEPA301", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder other = mlp(out: 16);", objective: "objective { predict other(image) from context(noisy(image)); loss [|smooth_l1(beta: 0.5)|]; }"),
            "is trained as well (encoder 'other' is a second trainable network)"),
        ("JEPA301", Experiment(input: Image16, corruptions: Crops, encoders: Net, predictor: "",
            objective: "objective { predict mean(net(crops(image))) from net(crops(image)); loss [|mse|]; }"), "a target that is the same trainable encoder 'net'"),
        ("JEPA302", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder other = mlp(out: 16);\n    encoder target = ema(other);",
            objective: "objective { predict [|target|](image) from context(noisy(image)); loss mse; }"), "the target 'target' is an EMA copy of 'other', but the context side runs 'context'"),
        ("JEPA303", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema(context, momentum: [|1.0 -> 0.99|]);"), "the EMA momentum schedule 1 -> 0.99 ends below its start"),
        ("JEPA304", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = context;",
            objective: "objective { predict target(image) from context(noisy(image)); loss mse; regularize vicreg; }",
            train: "train { optimizer adamw(lr: 1e-3); batch [|32|]; steps 100; }"), "vicreg estimates variances and covariances over the batch, and statistics from fewer than 64 samples are noisy (batch 32)"),
        ("JEPA305", Experiment(train: "train { optimizer adamw(lr: 1e-3); schedule warmup_cosine(warmup_steps: [|500|]); steps 100; }"), "the warm-up (500 steps) is longer than training (100 steps)"),
        ("JEPA305", Experiment(train: "train { optimizer adamw(lr: 1e-3); schedule warmup_cosine(warmup_epochs: [|5|]); epochs 2; }"), "the warm-up (5 epochs) is longer than training (2 epochs)"),
        ("JEPA306", Experiment(corruptions: "corruption noisy = gaussian_noise(std: 0.1);\n    corruption [|spare|] = feature_dropout(p: 0.1);"), "corruption 'spare' is never used in the objective"),
        ("JEPA307", Experiment(encoders: "encoder context = mlp(out: 16);\n    encoder target = ema(context);\n    encoder [|spare|] = mlp(out: 4);"), "encoder 'spare' is never used in the objective"),
        ("JEPA308", Experiment(train: "train { optimizer adamw(lr: 1e-3); epochs 3; [|steps|] 100; }"), "train gives both epochs and steps"),
        ("JEPA308", Experiment(train: "[|train|] { optimizer adamw(lr: 1e-3); }"), "train gives neither epochs nor steps"),
        ("JEPA309", Experiment(train: "train { optimizer adamw(lr: [|1e-3 -> 1e-4|]); schedule warmup_cosine; steps 100; }"), "lr is the schedule 0.001 -> 0.0001, but schedule warmup_cosine already shapes the learning rate"),
        ("JEPA310", Experiment(objective: "objective { predict context(image) from [|target|](noisy(image)); loss mse; }"), "the context side runs 'target', which is an EMA copy of 'context'"),
        ("JEPA311", Experiment(input: Image16, corruptions: "corruption g = random_resized_crop(scale: 0.3..1.0);\n    views crops = g;", encoders: "encoder context = conv(channels: [8], out: 16);\n    encoder target = ema(context);",
            objective: "objective { predict target(crops(image)) from [|context(crops(image))|]; loss mse; }"), "both sides take the one view of views 'crops', and a view is never compared with itself, so no pair of views is left"),
        ("JEPA311", Experiment(corruptions: "", predictor: "", objective: "objective { predict target(image) from [|context(image)|]; loss mse; }"),
            "both sides encode the input as it is with the same weights and no predictor, so the prediction is the target and the loss is zero"),
        ("JEPA312", Experiment(input: Image16, corruptions: Crops + "\n    views [|spare|] = g * 2;", encoders: Net, predictor: "", objective: LeJepa), "views 'spare' are never used in the objective"),
        // 64 -> [99999999] -> 16 has 7.6e9 parameters: weights, EMA copy, gradients 30.17 GiB each, AdamW's moments 60.35 GiB;
        // the workspace adds the heap's slack, as much as the activations (190.74 GiB).
        ("JEPA313", Experiment(encoders: "[|encoder context = mlp(hidden: [99999999], out: 16);|]\n    encoder target = ema(context);"),
            "training needs about 592.92 GiB (estimated at batch 256: weights 30.17 GiB, EMA copies 30.17 GiB, gradients 30.17 GiB, optimizer state 60.35 GiB, activations at batch 256 190.74 GiB"),
        // By hand: the predictor 16 -> [50000, 50000] -> 16 has 2,501,700,016 parameters and the context 2,608, so the trained
        // weights are 4 x 2,501,702,624 B = 9.32 GiB; per sample 2 x 64 (views) + 144 (context) + 200,032 (predictor) + 16
        // (the EMA target's output) values, x 256 x 4 B = 195.6 MiB; the predictor's share 16 x 2,501,700,016 + 4 x 256 x 200,032 B;
        // the workspace is AdamW's state (18.64 GiB) and the heap's slack, as much as the activations (195.6 MiB).
        ("JEPA313", Experiment(predictor: "[|predictor = mlp(hidden: [50000, 50000]);|]"),
            "training needs about 56.53 GiB (estimated at batch 256: weights 9.32 GiB, EMA copies 10.2 KiB, gradients 9.32 GiB, optimizer state 18.64 GiB, activations at batch 256 195.6 MiB, workspace 18.83 GiB, process baseline 232.0 MiB), more than 16.00 GiB; the largest part is the predictor (mlp), 37.47 GiB; make the model smaller or the batch lower"),
    };

    /// <summary>Ids that the generator reports (it sees the C# compilation), that <c>jepa export</c> reports (JEPA154,
    /// located by the PyTorch emitter's tests) or that mark internal failures: their texts are tested in
    /// <see cref="DiagnosticTests.GeneratorAndInternalMessagesReadWell"/>.</summary>
    public static readonly string[] TextOnly = { "JEPA150", "JEPA151", "JEPA152", "JEPA153", "JEPA154", "JEPA901", "JEPA902", "JEPA903" };
}
