namespace Shop.Bench.Systems;

/// <summary>
/// A messaging system a user might pick instead of ours, driven by its usual .NET client, with the
/// same workloads as our broker: produce for a while (leaving a backlog), read that backlog,
/// publish one at a time (unloaded latency), and produce → receive latency at a fixed rate.
/// </summary>
public interface IPeer : IAsyncDisposable
{
    /// <summary>Name with its durability setting, as shown in the table.</summary>
    string Name { get; }

    /// <summary>Whether an acknowledged message is on disk (fsynced) before the acknowledgement.</summary>
    bool Durable { get; }

    /// <summary>How it is durable or not, for the table's notes.</summary>
    string Setting { get; }

    /// <summary><paramref name="producers"/> concurrent publishers of <paramref name="size"/>-byte messages for <paramref name="duration"/>; acknowledged messages per second.</summary>
    Task<(long Messages, double Seconds)> ProduceAsync(int size, int producers, TimeSpan duration, CancellationToken cancellationToken);

    /// <summary>Reads the <paramref name="expected"/> messages the last produce left; messages per second.</summary>
    Task<(long Messages, double Seconds)> ConsumeBacklogAsync(long expected, CancellationToken cancellationToken);

    /// <summary>One 1 KiB message at a time, each awaited.</summary>
    Task<LatencySamples> PublishLatencyAsync(int count, CancellationToken cancellationToken);

    /// <summary>Publish at <paramref name="rate"/> per second; a subscriber stamps the arrival.</summary>
    Task<LatencySamples> EndToEndAsync(double rate, TimeSpan duration, CancellationToken cancellationToken);
}

/// <summary>Publishing helper shared by the peers: a bounded window of in-flight sends per producer.</summary>
public static class PeerLoad
{
    /// <summary>Each producer keeps up to <paramref name="window"/> sends in flight until <paramref name="duration"/> ends.</summary>
    public static async Task<(long Messages, double Seconds)> ProduceAsync(int producers, int window, TimeSpan duration,
        Func<int, Func<Task>> createSender, CancellationToken cancellationToken)
    {
        long acknowledged = 0;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(async () =>
        {
            var send = createSender(p);
            var inFlight = new List<Task>(window);
            while (watch.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                while (inFlight.Count < window) inFlight.Add(send());
                var done = await Task.WhenAny(inFlight);
                await done;
                inFlight.Remove(done);
                Interlocked.Increment(ref acknowledged);
            }
            await Task.WhenAll(inFlight);
            Interlocked.Add(ref acknowledged, inFlight.Count);
        }, cancellationToken)));
        return (acknowledged, watch.Elapsed.TotalSeconds);
    }
}
