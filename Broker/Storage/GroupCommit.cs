namespace Shop.Broker.Storage;

/// <summary>
/// Lets many appends share one fsync. Every append requests a flush; one runs at a time, and each
/// covers everything written before it started, so under load one fsync covers every append that
/// arrived while the previous one ran. Durable waiters complete when a flush covers their offset.
/// A failed flush is final: after a failed fsync the kernel may have dropped the dirty pages, so
/// retrying could "succeed" without the data ("fsyncgate"); the partition turns read-only instead.
/// </summary>
internal sealed class GroupCommit
{
    private readonly Func<long> _writtenUpTo;
    private readonly Action _sync;
    private readonly Action<long> _flushed;
    private readonly Action<Exception> _failed;
    private readonly StorageScheduler _scheduler;
    private readonly Lock _gate = new();
    private readonly List<(long Offset, TaskCompletionSource Done)> _waiters = [];
    private long _flushedUpTo;
    private bool _running;
    private Exception? _failure;

    /// <param name="writtenUpTo">The offset after the last record written.</param>
    /// <param name="sync">Makes everything written so far durable.</param>
    /// <param name="flushed">Told each new durable offset (after the waiters it covers are released).</param>
    /// <param name="failed">Told once when a sync fails.</param>
    public GroupCommit(long flushedUpTo, Func<long> writtenUpTo, Action sync, Action<long> flushed, Action<Exception> failed, StorageScheduler scheduler)
    {
        _flushedUpTo = flushedUpTo;
        _writtenUpTo = writtenUpTo;
        _sync = sync;
        _flushed = flushed;
        _failed = failed;
        _scheduler = scheduler;
    }

    /// <summary>Every offset below this is durable.</summary>
    public long FlushedUpTo => Volatile.Read(ref _flushedUpTo);

    public Exception? Failure { get { lock (_gate) return _failure; } }

    /// <summary>Schedules a flush unless one is running (it will see the new data and go round again).</summary>
    public void Request()
    {
        lock (_gate)
        {
            if (_running || _failure is not null) return;
            _running = true;
        }
        _scheduler.Schedule(Run);
    }

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
        lock (_gate)
        {
            if (_failure is not null) throw new KafkaStorageException("the partition's last fsync failed", _failure);
        }
        var (covered, advancedTo) = FlushOnce();
        Release(covered, advancedTo);
    }

    /// <summary>
    /// One flush; if more was written meanwhile, the next goes to the back of the scheduler's queue,
    /// so busy partitions take turns. The waiters this flush covered are released last, on this
    /// thread: their answers are written while the next flush already runs on another.
    /// </summary>
    private void Run()
    {
        List<TaskCompletionSource> covered;
        long advancedTo;
        try
        {
            (covered, advancedTo) = FlushOnce();
        }
        catch (Exception)
        {
            return; // FlushOnce recorded the failure and failed the waiters
        }
        var again = true;
        lock (_gate)
        {
            if (_writtenUpTo() <= _flushedUpTo && _waiters.Count == 0)
            {
                _running = false;
                again = false;
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

    /// <summary>Syncs; returns the waiters it covered, not yet released, and the new durable offset (-1: none), not yet told.</summary>
    private (List<TaskCompletionSource> Covered, long AdvancedTo) FlushOnce()
    {
        var target = _writtenUpTo();
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
                _running = false;
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
    // A plain queue under a monitor, not a BlockingCollection: its SemaphoreSlim spins (sched_yield)
    // before it sleeps, ~4 % of the broker's CPU in the shop at 100 orders/s, where flushes come one
    // at a time. Monitor.Wait sleeps at once.
    private readonly Queue<Action> _work = new();

    public FlushThreads(int threads)
    {
        for (var i = 0; i < threads; i++)
        {
            new Thread(Work) { IsBackground = true, Name = $"flush-{i}" }.Start();
        }
    }

    public override void Schedule(Action work)
    {
        lock (_work)
        {
            _work.Enqueue(work);
            Monitor.Pulse(_work);
        }
    }

    /// <summary>
    /// Waiting fetches resume on the flush thread that made their records durable, after its
    /// producers are answered: their answers (records deferred, read as they are sent) go out
    /// without waiting for a pool thread to wake on two busy cores.
    /// </summary>
    public override TaskCompletionSource NewCompletionSource() => new();

    private void Work()
    {
        while (true)
        {
            Action work;
            lock (_work)
            {
                while (_work.Count == 0) Monitor.Wait(_work);
                work = _work.Dequeue();
            }
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
