using Shop.ServiceDefaults.Messaging;

namespace Shop.Notifications;

/// <summary>A mail to send; <paramref name="TraceParent"/> is the context of the event that asked for it, so the send stays in the order's trace.</summary>
public sealed record QueuedMail(string OrderId, string Recipient, string Subject, string Body, string? TraceParent = null);

/// <summary>
/// E-mails to send, one per order at most (the order id is the key), kept in the service's SQLite
/// file so that none is lost while SMTP is down and none is queued twice when an event is redelivered.
/// </summary>
public sealed class MailQueue(ServiceDatabase database)
{
    /// <summary>How many mails one round of the sender takes.</summary>
    public const int RoundSize = 50;

    private readonly WakeSignal _queued = new();

    public static readonly DatabaseSchema Schema = new("mails",
    [
        Migration.Sql(1, "mails", """
            CREATE TABLE IF NOT EXISTS mails (
                order_id TEXT PRIMARY KEY, recipient TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
                queued_at TEXT NOT NULL, sent_at TEXT)
            """),
        new Migration(2, "the trace of the event that asked for the mail", write =>
        {
            // Files of the first version may have the column already (it was added in place then).
            if ((long)write.Scalar("SELECT COUNT(*) FROM pragma_table_info('mails') WHERE name = 'traceparent'")! == 0) write.Execute("ALTER TABLE mails ADD COLUMN traceparent TEXT");
            return Task.CompletedTask;
        }),
    ]);

    /// <summary>Queues the mail in the handler's transaction; the sender is woken once it commits.</summary>
    public bool Enqueue(WriteTransaction write, QueuedMail mail)
    {
        var queued = write.Execute("""
            INSERT OR IGNORE INTO mails (order_id, recipient, subject, body, queued_at, traceparent) VALUES ($id, $to, $subject, $body, $now, $trace)
            """, ("$id", mail.OrderId), ("$to", mail.Recipient), ("$subject", mail.Subject), ("$body", mail.Body),
            ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$trace", mail.TraceParent ?? System.Diagnostics.Activity.Current?.Id)) == 1;
        if (queued) write.OnCommitted(_queued.Notify);
        return queued;
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _queued.WaitAsync(timeout, cancellationToken);

    public List<QueuedMail> Unsent()
    {
        using var connection = database.Open();
        using var command = ServiceDatabase.Command(connection, "SELECT order_id, recipient, subject, body, traceparent FROM mails WHERE sent_at IS NULL ORDER BY queued_at LIMIT $limit", null, ("$limit", RoundSize));
        using var reader = command.ExecuteReader();
        var mails = new List<QueuedMail>();
        while (reader.Read()) mails.Add(new QueuedMail(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4)));
        return mails;
    }

    public static void MarkSent(WriteTransaction write, string orderId) =>
        write.Execute("UPDATE mails SET sent_at = $now WHERE order_id = $id", ("$now", DateTimeOffset.UtcNow.ToString("O")), ("$id", orderId));
}
