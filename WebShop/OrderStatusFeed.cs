namespace Shop.WebShop;

/// <summary>
/// Tells whoever follows an order that its view changed. A chain of changes: each one names the
/// orders it touched and holds the task of the next, so a follower that takes <see cref="Next"/>
/// before reading the view misses nothing, and no follower needs a registration to clean up.
/// Published only after the transaction that recorded the change committed; followers re-read the
/// view, so a change that says nothing new to them costs one set lookup.
/// </summary>
public sealed class OrderStatusFeed
{
    public sealed record Change(IReadOnlySet<string> OrderIds, Task<Change> Next);

    private readonly Lock _lock = new();
    private TaskCompletionSource<Change> _next = NewLink();

    /// <summary>The next change after this moment.</summary>
    public Task<Change> Next
    {
        get { lock (_lock) return _next.Task; }
    }

    public void Publish(IReadOnlySet<string> orderIds)
    {
        if (orderIds.Count == 0) return;
        lock (_lock)
        {
            var current = _next;
            _next = NewLink();
            current.SetResult(new Change(orderIds, _next.Task));
        }
    }

    // Continuations run on the thread pool, never inline on the consumer that publishes.
    private static TaskCompletionSource<Change> NewLink() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
