using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// Group commit with two flushes under way at once, on real threads, with fsyncs the test holds and
/// releases in the order it chooses: a write made during an fsync gets its own at once, the durable
/// offset only moves forward whichever returns first, and nothing counts after a failed one.
/// </summary>
public sealed class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_write_made_during_an_fsync_gets_an_overlapping_one_and_the_durable_offset_only_moves_forward()
    {
        var disk = new HeldSyncs();
        var told = new List<long>();
        var commit = new GroupCommit(0, () => disk.Written, disk.Sync, offset => { lock (told) told.Add(offset); }, _ => { }, disk.Scheduler);

        disk.Written = 10;
        var first = commit.WaitFlushedAsync(10);
        await disk.EnteredAsync(1);
        disk.Written = 20;
        var second = commit.WaitFlushedAsync(20);
        await disk.EnteredAsync(2); // while the first is still in its fsync
        disk.Written = 30;
        var third = commit.WaitFlushedAsync(30); // two are under way: it waits for one to return

        disk.Return(2);
        await Task.WhenAll(first, second).WaitAsync(Patience); // the second covers the first's offset too
        Assert.Equal(20, commit.FlushedUpTo);
        Assert.False(third.IsCompleted);
        await disk.EnteredAsync(3); // the second's return started one for offset 30

        disk.Return(1);
        await disk.FlushesDoneAsync(2);
        Assert.Equal(20, commit.FlushedUpTo); // the older flush returning last does not move it back

        disk.Return(3);
        await third.WaitAsync(Patience);
        await disk.FlushesDoneAsync(3);
        Assert.Equal(30, commit.FlushedUpTo);
        lock (told) Assert.Equal([20, 30], told);
        Assert.Equal(3, disk.Entered);
    }

    [Fact]
    public async Task A_flush_that_returns_after_the_one_beside_it_failed_makes_nothing_durable()
    {
        var disk = new HeldSyncs { FailingSync = 1 };
        Exception? reported = null;
        var commit = new GroupCommit(0, () => disk.Written, disk.Sync, _ => { }, ex => reported = ex, disk.Scheduler);

        disk.Written = 10;
        var first = commit.WaitFlushedAsync(10);
        await disk.EnteredAsync(1);
        disk.Written = 20;
        var second = commit.WaitFlushedAsync(20);
        await disk.EnteredAsync(2);

        disk.Return(1); // fails: its pages may be gone, and the second's fsync cannot vouch for them
        await Assert.ThrowsAsync<KafkaStorageException>(() => first.WaitAsync(Patience));
        await Assert.ThrowsAsync<KafkaStorageException>(() => second.WaitAsync(Patience));
        disk.Return(2);
        await disk.FlushesDoneAsync(2);

        Assert.Equal(0, commit.FlushedUpTo);
        Assert.IsType<IOException>(reported);
        await Assert.ThrowsAsync<KafkaStorageException>(() => commit.WaitFlushedAsync(20));
        Assert.Equal(2, disk.Entered);
    }

    /// <summary>A log's sync whose calls block until the test returns them, each on a thread of its own.</summary>
    private sealed class HeldSyncs
    {
        private readonly SemaphoreSlim[] _entered = [.. Enumerable.Range(0, 8).Select(_ => new SemaphoreSlim(0))];
        private readonly SemaphoreSlim[] _return = [.. Enumerable.Range(0, 8).Select(_ => new SemaphoreSlim(0))];
        private readonly SemaphoreSlim _flushesDone = new(0);
        private int _entries;
        private long _written;

        public long Written { get => Volatile.Read(ref _written); set => Volatile.Write(ref _written, value); }

        /// <summary>The call (1-based) that throws when returned.</summary>
        public int FailingSync { get; init; }

        public int Entered => Volatile.Read(ref _entries);

        public StorageScheduler Scheduler => new Threads(this);

        public void Sync()
        {
            var call = Interlocked.Increment(ref _entries);
            _entered[call].Release();
            if (!_return[call].Wait(Patience)) throw new TimeoutException($"sync {call} was never returned");
            if (call == FailingSync) throw new IOException("fdatasync: EIO");
        }

        public async Task EnteredAsync(int call) =>
            Assert.True(await _entered[call].WaitAsync(Patience), $"sync {call} did not start while the ones before it were held (syncs started: {Entered})");

        public void Return(int call) => _return[call].Release();

        /// <summary>Waits until <paramref name="count"/> flushes in all have finished (their waiters released).</summary>
        public async Task FlushesDoneAsync(int count)
        {
            for (var i = 0; i < count; i++) Assert.True(await _flushesDone.WaitAsync(Patience), "a flush did not finish");
            for (var i = 0; i < count; i++) _flushesDone.Release();
        }

        private sealed class Threads(HeldSyncs syncs) : StorageScheduler
        {
            public override void Schedule(Action work) => new Thread(() =>
            {
                work();
                syncs._flushesDone.Release();
            }) { IsBackground = true }.Start();
        }
    }
}
