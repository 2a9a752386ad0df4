namespace Shop.Broker.Storage;

/// <summary>
/// Lets many durable appends share one fdatasync: a waiter joins the flush in flight, or starts the
/// next one, until the flushed offset covers its records. Under load each flush covers every append
/// that arrived while the previous one ran.
/// </summary>
internal sealed class GroupCommit(Func<long> writtenUpTo, Action flush)
{
    private readonly Lock _gate = new();
    private long _flushedUpTo;
    private Task? _inFlight;

    public long FlushedUpTo { get { lock (_gate) return _flushedUpTo; } }

    /// <summary>Completes once every offset below <paramref name="offset"/> is on disk.</summary>
    public async ValueTask WaitFlushedAsync(long offset)
    {
        while (true)
        {
            Task flushing;
            lock (_gate)
            {
                if (_flushedUpTo >= offset) return;
                _inFlight ??= Task.Run(FlushOnce);
                flushing = _inFlight;
            }
            await flushing;
        }
    }

    /// <summary>Flushes now, from the caller's thread (interval policy, roll, shutdown).</summary>
    public void FlushNow() => WaitFlushedAsync(writtenUpTo()).AsTask().GetAwaiter().GetResult();

    private void FlushOnce()
    {
        var target = writtenUpTo();
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            flush();
            Telemetry.BrokerTelemetry.FsyncDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            lock (_gate) _flushedUpTo = Math.Max(_flushedUpTo, target);
        }
        finally
        {
            lock (_gate) _inFlight = null;
        }
    }
}
