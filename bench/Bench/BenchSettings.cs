namespace Shop.Bench;

/// <summary>
/// What a run is allowed to spend (quick mode is a CI smoke run that only checks nothing errors),
/// and the figures measured so far in this run, which later workloads compare themselves with.
/// </summary>
public sealed record BenchSettings(bool Quick, string ScratchDir, IReadOnlyList<Figure> Measured)
{
    public int Scale(int full, int quick) => Quick ? quick : full;

    public long Scale(long full, long quick) => Quick ? quick : full;

    public TimeSpan Scale(TimeSpan full, TimeSpan quick) => Quick ? quick : full;

    /// <summary>A figure measured earlier in this run, e.g. the machine's fdatasync p99.</summary>
    public Figure? Find(string workload, string metric) =>
        Measured.LastOrDefault(f => f.Workload == workload && f.Metric == metric);
}
