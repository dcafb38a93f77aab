using static TorchSharp.torch;

namespace Jepa.Runtime.Masks;

/// <summary>
/// A token mask applied to pixels, for encoders that do not take tokens (<c>mlp</c>, <c>conv</c>): the image is cut into
/// <c>patch</c> x <c>patch</c> cells on the mask's grid (<c>ceil(H / patch) x ceil(W / patch)</c>, the last cells
/// smaller when <c>patch</c> does not divide the size); the mask is sampled as for a token encoder
/// (<see cref="ITokenMask.Sample"/>: <see cref="MultiBlockMask"/> for <c>block_mask</c>, <see cref="RandomTokenMask"/>
/// for <c>random_mask</c>) and every pixel outside the sample's context cells becomes <c>value</c> in every channel
/// (<see cref="ImageOps.MaskCells"/>). The context is exactly the one a token encoder would see, including
/// <see cref="MultiBlockMask"/>'s trimming of every context to the smallest of the batch. Any number of channels;
/// output shape = input shape.
/// </summary>
public sealed class PixelMask : ImageCorruption
{
    private const string Link = "pixel mask";

    private readonly Func<(int H, int W), ITokenMask>? create;
    private ITokenMask? mask;

    /// <summary>Creates the link from a token mask on the cell grid, the cell size in pixels and the fill value (default 0).</summary>
    public PixelMask(ITokenMask mask, int patch, double value = 0)
        : this(patch, value)
    {
        this.mask = mask ?? throw new ArgumentNullException(nameof(mask));
    }

    /// <summary>
    /// Creates the link from a token mask made for the cell grid of the images it meets
    /// (<c>ceil(H / patch) x ceil(W / patch)</c>; made again when the size changes), as the generated code of
    /// <c>pixel_block_mask</c> and <c>pixel_random_mask</c> builds it: <c>new PixelMask(grid =&gt; new MultiBlockMask(grid, ...), patch)</c>.
    /// </summary>
    public PixelMask(Func<(int H, int W), ITokenMask> mask, int patch, double value = 0)
        : this(patch, value)
    {
        create = mask ?? throw new ArgumentNullException(nameof(mask));
    }

    private PixelMask(int patch, double value)
    {
        Patch = patch >= 1 ? patch : throw new ArgumentOutOfRangeException(nameof(patch), patch, "A pixel mask needs cells of at least 1 pixel.");
        Value = double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A pixel mask needs a finite fill value.");
    }

    /// <inheritdoc/>
    protected override string Name => Link;

    /// <summary>The token mask on the grid of cells: the one given, or the one made for the last images seen (null before).</summary>
    public ITokenMask? Mask => mask;

    /// <summary>The side of a cell, in pixels.</summary>
    public int Patch { get; }

    /// <summary>The value of the masked pixels.</summary>
    public double Value { get; }

    /// <summary>The cell grid of an <paramref name="h"/> x <paramref name="w"/> image.</summary>
    public (int H, int W) Grid(long h, long w) => ((int)((h + Patch - 1) / Patch), (int)((w + Patch - 1) / Patch));

    /// <inheritdoc/>
    protected override Tensor Transform(Tensor images, Generator g)
    {
        var grid = Grid(images.shape[2], images.shape[3]);
        if (create is not null && mask?.Grid != grid) mask = create(grid);
        if (grid != mask!.Grid)
            throw new ArgumentException($"A pixel mask with {Patch}x{Patch} cells cuts {images.shape[2]}x{images.shape[3]} images into a {grid.H}x{grid.W} grid, but its {mask} is on {mask.Grid.H}x{mask.Grid.W}.", nameof(images));
        return ImageOps.MaskCells(images, mask.Sample(images.shape[0], g).Context, Patch, Value);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{(mask?.ToString() ?? "a token mask")} on {Patch}x{Patch} pixel cells (value {Value})";
}
