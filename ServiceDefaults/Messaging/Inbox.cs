namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The message ids each consumer group has handled, in the service's file: a redelivered message
/// (after a crash, a rebalance, a replayed dead letter or a group reset) changes nothing. Kept per
/// group, so that two groups of one service each handle every message once, and per topic, so that
/// <see cref="MessagingPruner"/> can keep each id as long as its topic can deliver it again.
/// </summary>
public sealed class Inbox(TimeProvider time)
{
    /// <summary>Records the message; false when the group handled it before.</summary>
    public bool TryRecord(WriteTransaction write, string group, IncomingEvent message) =>
        write.Execute("INSERT OR IGNORE INTO consumer_inbox (consumer_group, message_id, handled_at, topic) VALUES ($group, $id, $now, $topic)",
            ("$group", group), ("$id", message.MessageId), ("$now", time.GetUtcNow().ToString("O")), ("$topic", message.Topic)) == 1;
}

/// <summary>The outbox and inbox tables, as every service has them.</summary>
public static class MessagingSchema
{
    public static readonly DatabaseSchema Schema = new("messaging",
    [
        Migration.Sql(1, "outbox and inbox", """
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                topic TEXT NOT NULL, key TEXT NOT NULL, event_type TEXT NOT NULL, message_id TEXT NOT NULL,
                payload BLOB NOT NULL, traceparent TEXT, tracestate TEXT, created_at TEXT NOT NULL, sent_at TEXT);
            CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent_at, id);
            CREATE TABLE IF NOT EXISTS consumer_inbox (
                consumer_group TEXT NOT NULL, message_id TEXT NOT NULL, handled_at TEXT NOT NULL,
                PRIMARY KEY (consumer_group, message_id));
            """),
        Migration.Sql(2, "inbox ids know their topic, for pruning by the topic's retention", """
            ALTER TABLE consumer_inbox ADD COLUMN topic TEXT;
            CREATE INDEX consumer_inbox_age ON consumer_inbox (topic, handled_at);
            """),
        Migration.Sql(3, "outbox rows that can never be published are set aside with the reason", """
            ALTER TABLE outbox ADD COLUMN failed_reason TEXT;
            """),
    ]);
}
