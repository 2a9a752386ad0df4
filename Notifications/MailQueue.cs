using Microsoft.Data.Sqlite;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Notifications;

/// <summary>A mail to send; <paramref name="TraceParent"/> is the context of the event that asked for it, so the send stays in the order's trace.</summary>
public sealed record QueuedMail(string OrderId, string Recipient, string Subject, string Body, string? TraceParent = null);

/// <summary>
/// E-mails to send, one per order at most (the order id is the key), kept in the service's SQLite
/// file so that none is lost while SMTP is down and none is queued twice when an event is redelivered.
/// </summary>
public sealed class MailQueue
{
    private readonly ServiceDatabase _database;
    private readonly WakeSignal _queued = new();

    public MailQueue(ServiceDatabase database)
    {
        _database = database;
        using var connection = database.Open();
        ServiceDatabase.Execute(connection, """
            CREATE TABLE IF NOT EXISTS mails (
                order_id TEXT PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
                queued_at TEXT NOT NULL, sent_at TEXT, traceparent TEXT)
            """);
        ServiceDatabase.EnsureColumn(connection, "mails", "traceparent", "TEXT");
    }

    public static bool Enqueue(SqliteTransaction transaction, QueuedMail mail) =>
        ServiceDatabase.Execute(transaction.Connection!, """
            INSERT OR IGNORE INTO mails (order_id, recipient, subject, body, queued_at, traceparent) VALUES ($id, $to, $subject, $body, $now, $trace)
            """, transaction, ("$id", mail.OrderId), ("$to", mail.Recipient), ("$subject", mail.Subject), ("$body", mail.Body),
            ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$trace", mail.TraceParent ?? System.Diagnostics.Activity.Current?.Id)) == 1;

    public void Notify() => _queued.Notify();

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _queued.WaitAsync(timeout, cancellationToken);

    public List<QueuedMail> Unsent()
    {
        using var connection = _database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT order_id, recipient, subject, body, traceparent FROM mails WHERE sent_at IS NULL ORDER BY queued_at LIMIT 50";
        using var reader = command.ExecuteReader();
        var mails = new List<QueuedMail>();
        while (reader.Read()) mails.Add(new QueuedMail(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4)));
        return mails;
    }

    public static void MarkSent(SqliteTransaction transaction, string orderId) =>
        ServiceDatabase.Execute(transaction.Connection!, "UPDATE mails SET sent_at = $now WHERE order_id = $id", transaction,
            ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$id", orderId));
}
