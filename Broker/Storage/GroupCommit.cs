namespace Shop.Broker.Storage;

/// <summary>
/// Lets many appends share one fsync. Every append requests a flush; each flush covers everything
/// written before it started, and up to two run at once: a second starts as soon as something was
/// written that the running one does not cover, instead of waiting for it to return. A client with a
/// few requests in flight then has each request wait for about one fsync, not up to two (two overlapping
/// fdatasyncs of one file on this machine's disk: ~1.6 x the syncs per second of one at a time). Durable
/// waiters complete when a flush covers their offset; the durable offset only moves forward, whichever
/// flush returns first. A failed flush is final: after a failed fsync the kernel may have dropped the
/// dirty pages, so a later sync could "succeed" without the data ("fsyncgate"); the partition turns
/// read-only instead, and a flush that was under way beside the failed one counts for nothing.
/// </summary>
internal sealed class GroupCommit
{
    private const int MaxFlushesAtOnce = 2;

    private readonly Func<long> _writtenUpTo;
    private readonly Action _sync;
    private readonly Action<long> _flushed;
    private readonly Action<Exception> _failed;
    private readonly StorageScheduler _scheduler;
    private readonly Lock _gate = new();
    private readonly List<(long Offset, TaskCompletionSource Done)> _waiters = [];
    private long _flushedUpTo;
    private long _startedUpTo; // what the flushes started so far cover
    private int _flushing; // scheduled or running
    private bool _queued; // one is scheduled and has not read its target yet: it will cover whatever is written before it does
    private Exception? _failure;

    /// <param name="writtenUpTo">The offset after the last record written.</param>
    /// <param name="sync">Makes everything written so far durable; may run on two threads at once.</param>
    /// <param name="flushed">Told each new durable offset (after the waiters it covers are released).</param>
    /// <param name="failed">Told once when a sync fails.</param>
    public GroupCommit(long flushedUpTo, Func<long> writtenUpTo, Action sync, Action<long> flushed, Action<Exception> failed, StorageScheduler scheduler)
    {
        _flushedUpTo = flushedUpTo;
        _startedUpTo = flushedUpTo;
        _writtenUpTo = writtenUpTo;
        _sync = sync;
        _flushed = flushed;
        _failed = failed;
        _scheduler = scheduler;
    }

    /// <summary>Every offset below this is durable.</summary>
    public long FlushedUpTo => Volatile.Read(ref _flushedUpTo);

    public Exception? Failure { get { lock (_gate) return _failure; } }

    /// <summary>Schedules a flush for what no flush under way covers, unless one is queued or two run (the first to return looks again).</summary>
    public void Request()
    {
        lock (_gate)
        {
            if (!NeedsAnotherFlush()) return;
            _flushing++;
            _queued = true;
        }
        _scheduler.Schedule(Run);
    }

    /// <summary>Under the gate.</summary>
    private bool NeedsAnotherFlush() =>
        _failure is null && !_queued && _flushing < MaxFlushesAtOnce && _writtenUpTo() > _startedUpTo;

    /// <summary>Completes once every offset below <paramref name="offset"/> is durable; fails if a flush fails first.</summary>
    public Task WaitFlushedAsync(long offset)
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            if (_failure is not null) return Task.FromException(new KafkaStorageException("the partition's last fsync failed", _failure));
            if (_flushedUpTo >= offset) return Task.CompletedTask;
            // Completed on the flush thread, after the next flush is on its way (see Run): the
            // answer goes out from there, without a hop through the thread pool.
            done = new TaskCompletionSource();
            _waiters.Add((offset, done));
        }
        Request();
        return done.Task;
    }

    /// <summary>Flushes from the caller's thread (interval policy, shutdown); throws if the sync fails.</summary>
    public void FlushNow()
    {
        long target;
        lock (_gate)
        {
            if (_failure is not null) throw new KafkaStorageException("the partition's last fsync failed", _failure);
            target = _writtenUpTo();
        }
        var (covered, advancedTo) = FlushOnce(target);
        Release(covered, advancedTo);
    }

    /// <summary>
    /// One flush; if more was written meanwhile that no other flush covers, the next goes to the back
    /// of the scheduler's queue, so busy partitions take turns. The waiters this flush covered are
    /// released last, on this thread: their answers are written while the next flush already runs.
    /// </summary>
    private void Run()
    {
        long target;
        lock (_gate)
        {
            _queued = false;
            target = _writtenUpTo();
            _startedUpTo = Math.Max(_startedUpTo, target);
        }
        List<TaskCompletionSource> covered;
        long advancedTo;
        try
        {
            (covered, advancedTo) = FlushOnce(target);
        }
        catch (Exception)
        {
            lock (_gate) _flushing--;
            return; // FlushOnce recorded the failure and failed the waiters
        }
        bool again;
        lock (_gate)
        {
            _flushing--;
            again = NeedsAnotherFlush();
            if (again)
            {
                _flushing++;
                _queued = true;
            }
        }
        if (again) _scheduler.Schedule(Run);
        Release(covered, advancedTo);
    }

    /// <summary>Acknowledges the producers first, then tells the log (waiting fetches) about the new durable offset.</summary>
    private void Release(List<TaskCompletionSource> covered, long advancedTo)
    {
        foreach (var waiter in covered) waiter.TrySetResult();
        if (advancedTo >= 0) _flushed(advancedTo);
    }

    /// <summary>Syncs what is below <paramref name="target"/> (and maybe more); returns the waiters it covered, not yet released, and the new durable offset (-1: none), not yet told.</summary>
    private (List<TaskCompletionSource> Covered, long AdvancedTo) FlushOnce(long target)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            _sync();
            Telemetry.BrokerTelemetry.FsyncDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex)
        {
            List<TaskCompletionSource> failed;
            lock (_gate)
            {
                _failure ??= ex;
                failed = [.. _waiters.Select(w => w.Done)];
                _waiters.Clear();
            }
            _failed(ex);
            var error = ex as PartitionClosedException as Exception ?? new KafkaStorageException("fsync failed: the partition is read-only until the broker restarts", ex);
            foreach (var waiter in failed) waiter.TrySetException(error);
            throw;
        }
        List<TaskCompletionSource> covered = [];
        bool advanced;
        lock (_gate)
        {
            // A flush beside one that failed proves nothing: the failed one may have lost pages this one counted on.
            if (_failure is not null) return ([], -1);
            advanced = target > _flushedUpTo;
            if (advanced) Volatile.Write(ref _flushedUpTo, target);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Offset > _flushedUpTo) continue;
                covered.Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
        return (covered, advanced ? target : -1);
    }
}

/// <summary>
/// Where the storage layer runs its background work (group commit flushes) and how it completes
/// waiters. The broker uses <see cref="FlushThreads"/>; the simulation tests run everything on their
/// one thread, in an order the seed decides.
/// </summary>
public class StorageScheduler
{
    /// <summary>The broker's: a few threads of its own that do nothing but flush.</summary>
    public static readonly StorageScheduler Default = new FlushThreads(4);

    public virtual void Schedule(Action work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>For signals many may wait on (new data for long-poll fetches): their continuations run off the signalling thread, so one write does not serve every waiting fetch.</summary>
    public virtual TaskCompletionSource NewCompletionSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Flushes block in fsync, so they run on threads of their own, not the pool's: a few slow fsyncs
/// would starve the pool on a 2-core machine and delay every request it serves (acks=1 answers
/// too). The threads live as long as the process: a thread started per flush costs more than many
/// a flush (measured with strace: a clone, runtime start-up reads and an exit around every fsync).
/// Partitions take turns in one queue; as many fsyncs run at once as there are threads.
/// </summary>
public sealed class FlushThreads : StorageScheduler
{
    private readonly System.Collections.Concurrent.BlockingCollection<Action> _work = [];

    public FlushThreads(int threads)
    {
        for (var i = 0; i < threads; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"flush-{i}" }.Start();
        }
    }

    public override void Schedule(Action work) => _work.Add(work);

    /// <summary>
    /// Waiting fetches resume on the flush thread that made their records durable, after its
    /// producers are answered: their answers (records deferred, read as they are sent) go out
    /// without waiting for a pool thread to wake on two busy cores.
    /// </summary>
    public override TaskCompletionSource NewCompletionSource() => new();

    private void Work()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            try
            {
                work();
            }
            catch (Exception)
            {
                // a flush records its own failure (GroupCommit); this thread goes on serving the others
            }
        }
    }
}

/// <summary>The partition cannot take writes: an fsync or write failed (Kafka's KAFKA_STORAGE_ERROR).</summary>
public sealed class KafkaStorageException(string message, Exception? inner = null) : IOException(message, inner);
