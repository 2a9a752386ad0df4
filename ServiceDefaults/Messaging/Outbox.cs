using System.Diagnostics;
using System.Threading.Channels;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>An outbox row: an event waiting to be published, with the trace context of the code that wrote it.</summary>
public sealed record OutboxMessage(long Id, string Topic, string Key, string EventType, string MessageId, byte[] Payload, string? TraceParent, string? TraceState);

/// <summary>
/// The transactional outbox: an event is written in the same SQLite transaction as the state change
/// that causes it, and published later by <see cref="OutboxRelay"/>. Once that transaction commits,
/// the row is handed to the relay in memory; the table stays the truth after a crash.
/// </summary>
public sealed class Outbox(OutboxHandoff handoff, TimeProvider time)
{
    /// <summary>
    /// Writes the event in <paramref name="write"/>; its send will belong to the trace of
    /// <paramref name="causedBy"/>, or of the current activity.
    /// </summary>
    public void Enqueue<TEvent>(WriteTransaction write, TEvent @event, Activity? causedBy = null) where TEvent : IShopEvent
    {
        var activity = causedBy ?? Activity.Current;
        var message = new OutboxMessage(0, TEvent.Topic.Name, @event.PartitionKey(), typeof(TEvent).Name, Guid.NewGuid().ToString(),
            EventJson.Serialize(@event), activity?.Id, activity?.TraceStateString);
        var id = (long)write.Scalar("""
            INSERT INTO outbox (topic, key, event_type, message_id, payload, traceparent, tracestate, created_at)
            VALUES ($topic, $key, $type, $id, $payload, $traceparent, $tracestate, $now) RETURNING id
            """,
            ("$topic", message.Topic), ("$key", message.Key), ("$type", message.EventType), ("$id", message.MessageId),
            ("$payload", message.Payload), ("$traceparent", message.TraceParent), ("$tracestate", message.TraceState),
            ("$now", time.GetUtcNow().ToString("O")))!;
        write.OnCommitted(() => handoff.Hand(message with { Id = id }));
    }
}

/// <summary>
/// Committed outbox rows on their way to the relay, in commit order. Bounded: when the relay falls
/// behind (a broker that is down), rows that do not fit are left to the table, and the relay is told
/// to read it again.
/// </summary>
public sealed class OutboxHandoff
{
    public const int Capacity = 10_000;

    private readonly Channel<OutboxMessage> _rows = Channel.CreateBounded<OutboxMessage>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private int _overflowed;

    public void Hand(OutboxMessage message)
    {
        if (!_rows.Writer.TryWrite(message)) Volatile.Write(ref _overflowed, 1);
    }

    /// <summary>True once after a row did not fit: the relay must read the table to find it.</summary>
    public bool TakeOverflow() => Interlocked.Exchange(ref _overflowed, 0) == 1;

    /// <summary>Waits for at least one row, then takes up to <paramref name="max"/> of what is there.</summary>
    public async Task<List<OutboxMessage>> TakeAsync(int max, CancellationToken cancellationToken)
    {
        var rows = new List<OutboxMessage>();
        if (!await _rows.Reader.WaitToReadAsync(cancellationToken)) return rows;
        while (rows.Count < max && _rows.Reader.TryRead(out var row)) rows.Add(row);
        return rows;
    }
}

/// <summary>Wakes a background loop when there is work (queued mails, say), instead of it polling fast.</summary>
public sealed class WakeSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        if (_signal.CurrentCount == 0)
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
