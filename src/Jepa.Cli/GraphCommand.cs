using System.Text;
using Jepa.Dsl.Binding;
using Jepa.Dsl.Diagnostics;

namespace Jepa.Cli;

/// <summary><c>jepa graph FILE</c>: the experiment's architecture as a Mermaid flowchart or a Graphviz DOT graph.</summary>
internal static class GraphCommand
{
    public static int Execute(string file, string format, string? name, TextWriter output, TextWriter error)
    {
        if (!File.Exists(file))
        {
            error.WriteLine($"error: {file} does not exist");
            return 1;
        }

        var compilation = JepaFiles.Compile(file, error);
        if (compilation is null) return 1;
        foreach (var diagnostic in compilation.Diagnostics.Where(d => d.Severity == Severity.Error)) error.WriteLine(diagnostic.Format(file));
        var experiment = JepaFiles.Select(compilation, name, error);
        if (experiment is null) return 1;
        if (experiment.HasErrors || experiment.Objective is null)
        {
            error.WriteLine($"error: {experiment.Name} has errors; fix them to draw it (jepa check {file})");
            return 1;
        }

        var graph = ArchitectureGraph.Of(experiment);
        output.Write(format == "dot" ? graph.ToDot() : graph.ToMermaid());
        return 0;
    }
}

/// <summary>The data flow of one training step: input, corruptions, encoders, predictor, loss and regularizers, with the
/// shapes on the edges, and the weight relation between the target and the context encoder (EMA, stop-gradient, shared).</summary>
internal sealed class ArchitectureGraph
{
    public enum NodeKind { Input, Corruption, Encoder, Predictor, Loss, Regularizer }

    public sealed record Node(string Id, string Label, NodeKind Kind);

    /// <summary>An edge; a dashed one is a relation between weights, not data flow.</summary>
    public sealed record Edge(string From, string To, string Label, bool Dashed = false);

    public string Name { get; }

    public List<Node> Nodes { get; } = [];

    public List<Edge> Edges { get; } = [];

    private ArchitectureGraph(string name) => Name = name;

    public static ArchitectureGraph Of(BoundExperiment experiment)
    {
        var objective = experiment.Objective ?? throw new ArgumentException("an experiment without an objective", nameof(experiment));
        var pipeline = experiment.Pipeline;
        var graph = new ArchitectureGraph(experiment.Name);
        var input = experiment.Input!;
        graph.Add("input", $"{input.Name}: float{input.Shape}", NodeKind.Input);
        var inputShape = input.Shape.ToString();

        // The target side, then the context side: INPUT -> [corruption] -> encoder.
        var targetEncoder = graph.Side(experiment, objective.Target, inputShape);
        var contextEncoder = graph.Side(experiment, objective.Context, inputShape);

        var loss = objective.Loss;
        graph.Add("loss", loss is null ? "loss" : "loss " + loss.Source, NodeKind.Loss);
        var contextShape = pipeline?.Context.ToString() ?? "?";
        if (!experiment.Predictor.IsIdentity)
        {
            graph.Add("predictor", experiment.Predictor.Source ?? "predictor", NodeKind.Predictor);
            graph.Edges.Add(new Edge(contextEncoder, "predictor", contextShape));
            graph.Edges.Add(new Edge("predictor", "loss", pipeline?.Prediction.ToString() ?? "?"));
        }
        else
        {
            graph.Edges.Add(new Edge(contextEncoder, "loss", contextShape));
        }

        var noGradient = objective.TargetKind is TargetKind.Ema or TargetKind.StopGradient ? ", no gradient" : "";
        graph.Edges.Add(new Edge(targetEncoder, "loss", (pipeline?.Target.ToString() ?? "?") + noGradient));

        for (var i = 0; i < objective.Regularizers.Count; i++)
        {
            var id = $"regularizer{i + 1}";
            graph.Add(id, "regularize " + objective.Regularizers[i].Source, NodeKind.Regularizer);
            graph.Edges.Add(new Edge(contextEncoder, id, contextShape));
            if (targetEncoder != contextEncoder) graph.Edges.Add(new Edge(targetEncoder, id, pipeline?.Target.ToString() ?? "?"));
        }

        if (targetEncoder != contextEncoder)
        {
            var relation = objective.TargetKind switch
            {
                TargetKind.Ema => "EMA of the weights",
                TargetKind.StopGradient => "same weights, no gradient",
                TargetKind.Shared => "same weights",
                _ => null,
            };
            if (relation is not null) graph.Edges.Add(new Edge(contextEncoder, targetEncoder, relation, Dashed: true));
        }

        return graph;
    }

    /// <summary>Adds the nodes and edges of <c>ENCODER(CORRUPTION(INPUT))</c>; returns the encoder's node id.</summary>
    private string Side(BoundExperiment experiment, BoundApplication application, string inputShape)
    {
        var source = "input";
        if (application.Corruption is { } corruptionName)
        {
            var corruption = experiment.FindCorruption(corruptionName);
            var id = "corruption_" + corruptionName;
            Add(id, corruption?.Source ?? corruptionName, NodeKind.Corruption);
            AddEdgeOnce(new Edge(source, id, inputShape));
            source = id;
        }

        var encoder = experiment.FindEncoder(application.Encoder);
        var encoderId = "encoder_" + application.Encoder;
        Add(encoderId, encoder?.Source ?? application.Encoder, NodeKind.Encoder);
        AddEdgeOnce(new Edge(source, encoderId, inputShape));
        return encoderId;
    }

    private void Add(string id, string label, NodeKind kind)
    {
        if (Nodes.All(n => n.Id != id)) Nodes.Add(new Node(id, label, kind));
    }

    private void AddEdgeOnce(Edge edge)
    {
        if (!Edges.Contains(edge)) Edges.Add(edge);
    }

    public string ToMermaid()
    {
        var text = new StringBuilder();
        text.Append("flowchart LR\n");
        text.Append($"    %% {Name}\n");
        foreach (var node in Nodes)
        {
            var label = Mermaid(node.Label);
            text.Append("    ").Append(node.Id).Append(node.Kind switch
            {
                NodeKind.Input => $"[/\"{label}\"/]",
                NodeKind.Corruption => $"{{{{\"{label}\"}}}}",
                NodeKind.Loss or NodeKind.Regularizer => $"([\"{label}\"])",
                _ => $"[\"{label}\"]",
            }).Append('\n');
        }

        foreach (var edge in Edges)
        {
            text.Append($"    {edge.From} {(edge.Dashed ? "-.->" : "-->")}|\"{Mermaid(edge.Label)}\"| {edge.To}\n");
        }

        return text.ToString();
    }

    public string ToDot()
    {
        var text = new StringBuilder();
        text.Append($"digraph {Dot(Name)} {{\n");
        text.Append("    rankdir=LR;\n");
        text.Append("    node [fontname=\"Helvetica\", fontsize=11];\n");
        text.Append("    edge [fontname=\"Helvetica\", fontsize=10];\n");
        foreach (var node in Nodes)
        {
            var shape = node.Kind switch
            {
                NodeKind.Input => "parallelogram",
                NodeKind.Corruption => "hexagon",
                NodeKind.Loss or NodeKind.Regularizer => "ellipse",
                _ => "box",
            };
            text.Append($"    {node.Id} [label={Dot(node.Label)}, shape={shape}];\n");
        }

        foreach (var edge in Edges)
        {
            text.Append($"    {edge.From} -> {edge.To} [label={Dot(edge.Label)}{(edge.Dashed ? ", style=dashed" : "")}];\n");
        }

        text.Append("}\n");
        return text.ToString();
    }

    private static string Mermaid(string label) => label.Replace("\"", "#quot;");

    private static string Dot(string label) => "\"" + label.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
