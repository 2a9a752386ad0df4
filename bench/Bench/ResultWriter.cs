using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Shop.Bench;

/// <summary>Where and with what a run was made: numbers from two machines are not comparable.</summary>
public sealed record RunInfo(
    DateTimeOffset StartedAt, bool Quick, string Machine, int ProcessorCount, string Os, string Runtime,
    string ScratchDir, IReadOnlyList<string> Workloads)
{
    public static RunInfo Capture(BenchSettings settings, IReadOnlyList<string> workloads) => new(
        DateTimeOffset.UtcNow, settings.Quick, CpuModel(), Environment.ProcessorCount,
        RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
        settings.ScratchDir, workloads);

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}

/// <summary>Writes <c>&lt;workload&gt;.json</c> per workload and one Markdown table of the whole run.</summary>
public static class ResultWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static void WriteWorkload(string directory, string workload, RunInfo run, IReadOnlyList<Figure> figures)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, $"{workload}.json"),
            JsonSerializer.Serialize(new { run, figures }, Json));
    }

    public static string WriteMarkdown(string directory, RunInfo run, IReadOnlyList<Figure> figures, IReadOnlyList<string> errors)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmark results").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"Run {run.StartedAt:yyyy-MM-dd HH:mm} UTC{(run.Quick ? " (quick mode: smoke run, figures not meaningful)" : "")} on {run.ProcessorCount} × {run.Machine}, {run.Os}, {run.Runtime}.");
        md.AppendLine().AppendLine("| workload | system | metric | value | unit | reference | ratio | target | met |");
        md.AppendLine("|---|---|---|---:|---|---|---:|---|---|");
        foreach (var f in figures)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {f.Workload} | {f.System} | {f.Metric} | {Format(f.Value)} | {f.Unit} | {f.Reference} | {(f.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "")} | {f.Target} | {Met(f.TargetMet)} |");
        }
        var notes = figures.Where(f => f.Note is not null).ToList();
        if (notes.Count > 0)
        {
            md.AppendLine().AppendLine("Notes:");
            foreach (var f in notes) md.AppendLine(CultureInfo.InvariantCulture, $"- {f.Workload} / {f.Metric}: {f.Note}");
        }
        if (errors.Count > 0)
        {
            md.AppendLine().AppendLine("Errors:");
            foreach (var e in errors) md.AppendLine(CultureInfo.InvariantCulture, $"- {e}");
        }
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, run.Quick ? "quick.md" : "latest.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    private static string Met(bool? met) => met switch { true => "yes", false => "**no**", null => "" };

    private static string Format(double value) =>
        value >= 100 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);
}
