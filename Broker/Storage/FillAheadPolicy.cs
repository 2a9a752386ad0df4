namespace Shop.Broker.Storage;

/// <summary>
/// Decides when a partition's active segment gets zeros written and fsynced ahead of its end
/// (<see cref="LogSegment.FillAhead"/>) and how many: only under <c>FlushPolicy=Always</c>, only
/// while the partition's fsyncs are small (there the journal commit of a growing file is a large
/// share of each fsync; with large ones, 1 MB batches, the disk's bandwidth is the limit and writing
/// every byte twice would halve it), and about 32 fsyncs' worth, between one chunk and
/// <c>PreallocateBytes</c>: a quiet partition gets 256 KiB, not megabytes it would take hours to use.
/// One chunk per turn on the flush threads, so that flushes are not queued behind a long fill; at
/// most one fill per partition queued or running.
/// </summary>
internal sealed class FillAheadPolicy(LogContext context, Action<IOException> fillFailed)
{
    /// <summary>Fsyncs this large on average (a moving average over about eight) stop the filling.</summary>
    public const long LargeFlushBytes = 256 * 1024;

    /// <summary>
    /// Zeros written and synced at a time. A flush's fsync of the same file waits for the writeback
    /// of whatever is dirty in it: one chunk at most. Three alternating runs each (16 KB batches × 5
    /// in flight): 1 MiB chunks gave the produce p99 2.5 ms, 256 KiB 1.4 ms (no fill: 1.1–1.5 ms);
    /// 64 KiB took as many fsyncs as there were flushes and lost the gain.
    /// </summary>
    public const int FillChunk = 256 * 1024;

    private readonly long _max = context.Options.FlushPolicy == FlushPolicy.Always ? context.Options.PreallocateBytes : 0;
    private long _appended;
    private long _appendedAtLastFlush;
    private long _flushAverage;
    private int _scheduled;

    private int Chunk => (int)Math.Clamp(_max / 4, 1, FillChunk);

    /// <summary>Called under the append lock with the bytes just appended to <paramref name="active"/>.</summary>
    public void Appended(LogSegment active, int bytes, long segmentBytes)
    {
        Volatile.Write(ref _appended, _appended + bytes);
        var flush = Volatile.Read(ref _flushAverage);
        if (_max == 0 || flush >= LargeFlushBytes) return;
        var ahead = Math.Min(_max, Math.Max(FillChunk, flush * 32));
        if (active.ZerosAhead >= Math.Min(ahead / 2, segmentBytes - active.Size)) return; // enough left, or filled up to the roll
        if (Interlocked.Exchange(ref _scheduled, 1) == 1) return;
        context.Scheduler.Schedule(() => Fill(active, ahead, segmentBytes));
    }

    private void Fill(LogSegment active, long ahead, long segmentBytes)
    {
        var more = false;
        try
        {
            more = active.FillAhead(ahead, segmentBytes, Chunk);
        }
        catch (IOException ex)
        {
            fillFailed(ex);
        }
        finally
        {
            if (more) context.Scheduler.Schedule(() => Fill(active, ahead, segmentBytes));
            else Volatile.Write(ref _scheduled, 0);
        }
    }

    /// <summary>Called by each group commit before it syncs: measures how much one covers.</summary>
    public void Flushing()
    {
        var appended = Volatile.Read(ref _appended);
        var flushed = appended - _appendedAtLastFlush;
        _appendedAtLastFlush = appended;
        Volatile.Write(ref _flushAverage, (_flushAverage * 7 + flushed) / 8);
    }
}
