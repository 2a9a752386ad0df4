using System.Diagnostics;

namespace Shop.Bench;

/// <summary>Latency samples in microseconds, and their percentiles.</summary>
public sealed class LatencySamples(int capacity = 1024)
{
    private readonly List<double> _micros = new(capacity);

    public int Count => _micros.Count;

    public void Add(long startTimestamp, long endTimestamp) =>
        _micros.Add((endTimestamp - startTimestamp) * 1_000_000.0 / Stopwatch.Frequency);

    public void AddMicros(double micros) => _micros.Add(micros);

    /// <summary>Nearest-rank percentile, <paramref name="p"/> in (0, 100].</summary>
    public double Percentile(double p)
    {
        if (_micros.Count == 0) throw new InvalidOperationException("No samples.");
        var sorted = _micros.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

public static class Rate
{
    public static double PerSecond(long count, TimeSpan elapsed) => count / elapsed.TotalSeconds;

    public static double MegabytesPerSecond(long bytes, TimeSpan elapsed) => bytes / 1e6 / elapsed.TotalSeconds;
}
