using System.Collections.Concurrent;
using System.Diagnostics;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>Concurrent writes sharing commits, on a real SQLite file: each lands once, a failing one alone is undone.</summary>
public sealed class SharedCommitTests : IDisposable
{
    private readonly TempServiceDatabase _temp = new("shared-commit", "CREATE TABLE placed (n INTEGER PRIMARY KEY, trace TEXT)");

    [Fact]
    public async Task Writes_queued_behind_a_busy_writer_all_commit_each_with_its_callers_trace_and_a_failing_one_is_undone_alone()
    {
        var commits = new SharedCommit(_temp.Database);
        var announced = new ConcurrentBag<int>();
        var callers = new Dictionary<int, string>();
        Task[] writes;
        // The writer turn is taken, so every write below queues and they commit together once it is free.
        await using (var busy = await _temp.Database.BeginWriteAsync(CancellationToken.None))
        {
            writes = Enumerable.Range(1, 20).Select(n =>
            {
                using var request = new Activity($"request {n}").Start();
                callers[n] = request.Id!;
                return commits.WriteAsync(write =>
                {
                    write.Execute("INSERT INTO placed (n, trace) VALUES ($n, $trace)", ("$n", n), ("$trace", Activity.Current?.Id));
                    write.OnCommitted(() => announced.Add(n));
                    if (n == 7) throw new InvalidOperationException("order 7 is refused");
                }, CancellationToken.None);
            }).ToArray();
            Assert.All(writes, w => Assert.False(w.IsCompleted));
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => writes[6]);
        Assert.Equal("order 7 is refused", refused.Message);
        await Task.WhenAll(writes.Where((_, i) => i != 6));

        var rows = _temp.Rows("SELECT n || ' ' || COALESCE(trace, '<null>') FROM placed ORDER BY n");
        var expected = Enumerable.Range(1, 20).Where(n => n != 7).ToList();
        Assert.Equal(expected.Select(n => $"{n} {callers[n]}"), rows); // each row carries its own caller's trace
        Assert.Equal(expected, announced.Order()); // the refused write's commit action was dropped with its row
    }

    [Fact]
    public async Task A_write_after_a_quiet_spell_commits_on_its_own()
    {
        var commits = new SharedCommit(_temp.Database);
        await commits.WriteAsync(write => write.Execute("INSERT INTO placed (n) VALUES (1)"), CancellationToken.None);
        await commits.WriteAsync(write => write.Execute("INSERT INTO placed (n) VALUES (2)"), CancellationToken.None);

        Assert.Equal(["1", "2"], _temp.Rows("SELECT n FROM placed ORDER BY n"));
    }

    public void Dispose() => _temp.Dispose();
}
