namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// Small writes of many concurrent callers (HTTP requests, say) committed together: the first
/// caller to find no commit under way takes the service's writer turn and runs every write queued
/// by then in one SQLite transaction, each inside its own savepoint, and commits once. One commit
/// (one WAL fsync, one writer turn) for a burst of requests instead of one each.
/// </summary>
/// <remarks>
/// A write that throws is rolled back to its savepoint (with the actions it registered) and fails
/// alone; the others commit. A failed commit fails every write of the group. Each caller's task
/// completes after the commit and after the actions its write registered with
/// <see cref="WriteTransaction.OnCommitted"/> ran. A caller that stops waiting (its token) may still
/// see its write committed, as with a request aborted during its own commit.
/// </remarks>
public sealed class SharedCommit(ServiceDatabase database)
{
    /// <summary>A write with its caller's context: its trace (<c>Activity.Current</c>) is what its outbox rows carry.</summary>
    private sealed record Pending(Action<WriteTransaction> Write, TaskCompletionSource Done, ExecutionContext? Context);

    // Through the transaction's prepared statements: SqliteTransaction.Save/Release/Rollback build and parse a command each time.
    private const string Save = "SAVEPOINT shared_write";
    private const string Release = "RELEASE shared_write";
    private const string RollbackTo = "ROLLBACK TO shared_write";

    private readonly Lock _lock = new();
    private List<Pending> _queued = [];
    private bool _committing;

    /// <summary>Runs <paramref name="write"/> in a transaction shared with other callers; completes once that transaction has committed.</summary>
    public Task WriteAsync(Action<WriteTransaction> write, CancellationToken cancellationToken)
    {
        var pending = new Pending(write, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), ExecutionContext.Capture());
        bool lead;
        lock (_lock)
        {
            _queued.Add(pending);
            lead = !_committing;
            _committing = true;
        }
        if (lead)
        {
            using (ExecutionContext.SuppressFlow()) _ = Task.Run(LeadAsync); // the group is nobody's request
        }
        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Commits groups until nothing is queued.</summary>
    private async Task LeadAsync()
    {
        while (true)
        {
            lock (_lock)
            {
                // Checked before taking the turn: a burst's end must not cost an empty transaction.
                if (_queued.Count == 0)
                {
                    _committing = false;
                    return;
                }
            }
            WriteTransaction transaction;
            try
            {
                transaction = await database.BeginWriteAsync(CancellationToken.None);
            }
            catch (Exception ex)
            {
                FailQueued(ex);
                return;
            }
            await using (transaction)
            {
                List<Pending> group;
                lock (_lock)
                {
                    // Taken once the turn is ours: whatever queued while we waited for it joins
                    // (only the leader empties the queue, so it is not empty).
                    group = _queued;
                    _queued = [];
                }
                await CommitGroupAsync(transaction, group);
            }
        }
    }

    private void FailQueued(Exception ex)
    {
        List<Pending> queued;
        lock (_lock)
        {
            queued = _queued;
            _queued = [];
            _committing = false;
        }
        foreach (var pending in queued) pending.Done.TrySetException(ex);
    }

    private static async Task CommitGroupAsync(WriteTransaction transaction, List<Pending> group)
    {
        var written = new List<Pending>(group.Count);
        try
        {
            foreach (var pending in group)
            {
                var mark = transaction.OnCommittedCount;
                transaction.Execute(Save);
                try
                {
                    if (pending.Context is null) pending.Write(transaction);
                    else ExecutionContext.Run(pending.Context, _ => pending.Write(transaction), null);
                    transaction.Execute(Release);
                    written.Add(pending);
                }
                catch (Exception ex)
                {
                    transaction.Execute(RollbackTo);
                    transaction.Execute(Release);
                    transaction.ForgetOnCommittedAfter(mark); // its hand-offs and notices describe rows that are gone
                    pending.Done.TrySetException(ex);
                }
            }
            await transaction.CommitAsync();
        }
        catch (Exception ex)
        {
            foreach (var pending in group) pending.Done.TrySetException(ex); // a write that failed alone keeps its own error
            return;
        }
        foreach (var pending in written) pending.Done.TrySetResult();
    }
}
