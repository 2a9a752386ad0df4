using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>
/// The writers' kept connection and its prepared statements (<see cref="StatementCache"/>), on a real
/// SQLite file: reused commands bind each call's values, evicted ones are prepared again, and a failed
/// writer leaves the next one a working connection.
/// </summary>
public sealed class WriterConnectionTests : IDisposable
{
    private readonly TempServiceDatabase _temp = new("writer-connection", "CREATE TABLE rows (n INTEGER PRIMARY KEY, label TEXT, data BLOB)");

    [Fact]
    public async Task A_statement_run_again_binds_each_calls_values_null_or_not_of_any_type()
    {
        const string insert = "INSERT INTO rows (n, label, data) VALUES ($n, $label, $data)";
        await WriteAsync(write =>
        {
            write.Execute(insert, ("$n", 1), ("$label", null), ("$data", new byte[] { 1, 2 }));
            write.Execute(insert, ("$n", 2), ("$label", "two"), ("$data", null));
            write.Execute(insert, ("$n", 3L), ("$label", 3.5), ("$data", "text"));
        });
        await WriteAsync(write => write.Execute(insert, ("$n", 4), ("$label", "four"), ("$data", new byte[] { 4 })));

        Assert.Equal(
            ["1|<null>|blob:2", "2|two|<null>", "3|3.5|text", "4|four|blob:1"],
            Rows("SELECT n || '|' || COALESCE(label, '<null>') || '|' || CASE typeof(data) WHEN 'blob' THEN 'blob:' || length(data) ELSE COALESCE(data, '<null>') END FROM rows ORDER BY n"));
    }

    [Fact]
    public async Task More_statements_than_the_cache_keeps_all_run_and_the_first_runs_again_after_its_eviction()
    {
        var count = StatementCache.Capacity + 10;
        await WriteAsync(write =>
        {
            for (var n = 1; n <= count; n++) write.Execute($"INSERT INTO rows (n, label) VALUES ($n, 'statement {n}')", ("$n", n));
        });
        await WriteAsync(write => write.Execute("INSERT INTO rows (n, label) VALUES ($n, 'statement 1')", ("$n", count + 1)));

        Assert.Equal(count + 1, Rows("SELECT n FROM rows").Count);
        Assert.Equal(["1", (count + 1).ToString()], Rows("SELECT n FROM rows WHERE label = 'statement 1' ORDER BY n"));
    }

    [Fact]
    public async Task A_writer_whose_statement_failed_is_rolled_back_and_the_next_writer_commits()
    {
        await WriteAsync(write => write.Execute("INSERT INTO rows (n, label) VALUES (1, 'kept')"));

        var failure = await Assert.ThrowsAsync<SqliteException>(() => WriteAsync(write =>
        {
            write.Execute("INSERT INTO rows (n, label) VALUES (2, 'undone')");
            write.Execute("INSERT INTO rows (n, label) VALUES (1, 'a duplicate')");
        }));
        Assert.Contains("UNIQUE", failure.Message);

        await WriteAsync(write => write.Execute("INSERT INTO rows (n, label) VALUES (3, 'after')"));
        Assert.Equal(["1|kept", "3|after"], Rows("SELECT n || '|' || label FROM rows ORDER BY n"));
    }

    [Fact]
    public async Task A_write_not_synced_on_its_own_commits_and_the_next_writer_syncs_again_whether_it_committed_or_not()
    {
        const string Synchronous = "PRAGMA synchronous"; // 2 = FULL: the commit fsyncs; 1 = NORMAL: the next synced commit does
        await using (var mark = await _temp.Database.BeginWriteAsync(CancellationToken.None, syncOnCommit: false))
        {
            Assert.Equal(1L, mark.Scalar(Synchronous));
            mark.Execute("INSERT INTO rows (n, label) VALUES (1, 'marked')");
            await mark.CommitAsync();
        }
        await WriteAsync(write => Assert.Equal(2L, write.Scalar(Synchronous)));

        await using (var undone = await _temp.Database.BeginWriteAsync(CancellationToken.None, syncOnCommit: false))
        {
            undone.Execute("INSERT INTO rows (n, label) VALUES (2, 'rolled back')");
        }
        await WriteAsync(write => Assert.Equal(2L, write.Scalar(Synchronous)));

        Assert.Equal(["1|marked"], Rows("SELECT n || '|' || label FROM rows ORDER BY n"));
    }

    private async Task WriteAsync(Action<WriteTransaction> write)
    {
        await using var transaction = await _temp.Database.BeginWriteAsync(CancellationToken.None);
        write(transaction);
        await transaction.CommitAsync();
    }

    private List<string> Rows(string sql) => _temp.Rows(sql);

    public void Dispose() => _temp.Dispose();
}
