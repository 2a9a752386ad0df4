namespace Shop.Broker.Network;

/// <summary>
/// The bytes of requests the broker holds at once, across all connections
/// (<c>Broker:MaxInFlightRequestBytes</c>, Kafka's queued.max.request.bytes). A connection reserves
/// a frame's size as soon as its length prefix arrives and before buffering the rest, and gives it
/// back once the request is answered. When the budget is spent, connections wait: they stop reading
/// their sockets, so clients are slowed down by TCP instead of growing the broker's memory.
/// </summary>
public sealed class RequestMemory(BrokerOptions options)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Granted)> _waiting = [];
    private long _available = options.MaxInFlightRequestBytes;

    public async ValueTask<Reservation> ReserveAsync(int bytes, CancellationToken cancellationToken)
    {
        TaskCompletionSource granted;
        LinkedListNode<(long, TaskCompletionSource)> node;
        lock (_lock)
        {
            // First come, first served: a large frame is not starved by a stream of small ones.
            if (_waiting.Count == 0 && _available >= bytes)
            {
                _available -= bytes;
                return new Reservation(this, bytes);
            }
            granted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiting.AddLast((bytes, granted));
        }
        try
        {
            await granted.Task.WaitAsync(cancellationToken);
            return new Reservation(this, bytes);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null) _waiting.Remove(node);
                else _available += bytes; // granted just as it was cancelled: give it back
                Grant();
            }
            throw;
        }
    }

    private void Release(long bytes)
    {
        lock (_lock)
        {
            _available += bytes;
            Grant();
        }
    }

    /// <summary>Hands the freed bytes to the waiters in order, as far as they go. Under the lock.</summary>
    private void Grant()
    {
        while (_waiting.First is { } first && _available >= first.Value.Bytes)
        {
            _available -= first.Value.Bytes;
            _waiting.RemoveFirst();
            first.Value.Granted.TrySetResult();
        }
    }

    /// <summary>A frame's bytes, held until disposed.</summary>
    public sealed class Reservation(RequestMemory owner, long bytes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release(bytes);
        }
    }
}
