using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The transactional outbox: an event is written in the same SQLite transaction as the state change
/// that causes it, with the trace context of the code that wrote it, and published later by
/// <see cref="OutboxRelay"/>. If the service dies in between, the relay publishes it on restart.
/// </summary>
public sealed class Outbox(WakeSignal signal)
{
    public void Enqueue(SqliteTransaction transaction, string topic, string key, object @event)
    {
        var activity = Activity.Current;
        ServiceDatabase.Execute(transaction.Connection!, """
            INSERT INTO outbox (topic, key, event_type, message_id, payload, traceparent, tracestate, created_at)
            VALUES ($topic, $key, $type, $id, $payload, $traceparent, $tracestate, $now)
            """, transaction,
            ("$topic", topic), ("$key", key), ("$type", @event.GetType().Name), ("$id", Guid.NewGuid().ToString()),
            ("$payload", EventJson.Serialize(@event)), ("$traceparent", activity?.Id), ("$tracestate", activity?.TraceStateString),
            ("$now", DateTimeOffset.UtcNow.ToString("O")));
    }

    /// <summary>Wakes the relay once the transaction that enqueued events has committed.</summary>
    public void Committed() => signal.Notify();
}

/// <summary>Wakes a background loop when there is work (outbox rows, queued mails), instead of it polling fast.</summary>
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
