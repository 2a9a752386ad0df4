using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Shop.Bench.Systems;

/// <summary>The broker's own GC counters (its console's <c>/api/runtime</c>), read before and after a workload.</summary>
public sealed record RuntimeCounters(
    [property: JsonPropertyName("allocated_bytes")] long AllocatedBytes,
    [property: JsonPropertyName("gen2_collections")] int Gen2Collections,
    [property: JsonPropertyName("gc_pause_ms")] double GcPauseMs,
    [property: JsonPropertyName("cpu_ms")] double CpuMs)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static async Task<RuntimeCounters> ReadAsync(BrokerProcess broker, CancellationToken cancellationToken) =>
        await Http.GetFromJsonAsync<RuntimeCounters>($"{broker.ConsoleUrl}/api/runtime", cancellationToken)
            ?? throw new InvalidDataException("the broker's /api/runtime answered null");

    /// <summary>What happened between two readings, over <paramref name="elapsed"/>.</summary>
    public RuntimeUse Since(RuntimeCounters before, TimeSpan elapsed) => new(
        AllocatedBytes - before.AllocatedBytes,
        (Gen2Collections - before.Gen2Collections) / elapsed.TotalSeconds,
        (GcPauseMs - before.GcPauseMs) / elapsed.TotalMilliseconds,
        (CpuMs - before.CpuMs) / elapsed.TotalMilliseconds);
}

/// <param name="GcPauseShare">Share of wall time the broker's threads were paused for GC.</param>
/// <param name="CpuCores">Cores' worth of CPU the broker used.</param>
public sealed record RuntimeUse(long AllocatedBytes, double Gen2PerSecond, double GcPauseShare, double CpuCores);
