using Confluent.Kafka;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>One consumed message, with its headers read.</summary>
public sealed class IncomingEvent(ConsumeResult<string, byte[]> result)
{
    public ConsumeResult<string, byte[]> Consumed => result;

    public int Partition => result.Partition.Value;

    public long Offset => result.Offset.Value;

    public string Topic => result.Topic;

    public string Key => result.Message.Key;

    public string EventType { get; } = MessagingTelemetry.Header(result.Message.Headers, MessageHeaders.EventType) ?? "";

    /// <summary>The producer's id for de-duplication; the position in the log when a producer sent none.</summary>
    public string MessageId { get; } = MessagingTelemetry.Header(result.Message.Headers, MessageHeaders.MessageId)
        ?? $"{result.Topic}/{result.Partition.Value}/{result.Offset.Value}";

    public T As<T>() => EventJson.Deserialize<T>(result.Message.Value);
}

/// <summary>What a handler gets besides its event: the message it came in, and the transaction to write in.</summary>
public sealed record EventContext(IncomingEvent Message, WriteTransaction Transaction);

/// <summary>
/// Handles one kind of event of the shop. State changes and outgoing events (through the
/// <see cref="Outbox"/>) go into <see cref="EventContext.Transaction"/>, which commits together with
/// the inbox record of the message; what must happen only after that commit goes to
/// <see cref="WriteTransaction.OnCommitted"/>.
/// </summary>
public interface IEventHandler<in TEvent> where TEvent : IShopEvent
{
    Task HandleAsync(TEvent @event, EventContext context, CancellationToken cancellationToken);
}
