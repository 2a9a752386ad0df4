using Confluent.Kafka;

namespace Shop.Messaging.Tests;

/// <summary>
/// The real producer, except that chosen sends are refused before they leave, the way librdkafka
/// refuses a message when its queue is full: a fault injected in front of a real client talking to
/// the real broker, not a fake Kafka.
/// </summary>
public sealed class FailingProducer(IProducer<string, byte[]> inner, Func<int, bool> failSend) : IProducer<string, byte[]>
{
    private int _sends;

    public int Refused { get; private set; }

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(string topic, Message<string, byte[]> message, CancellationToken cancellationToken = default)
    {
        if (failSend(Interlocked.Increment(ref _sends)))
        {
            Refused++;
            return Task.FromException<DeliveryResult<string, byte[]>>(new ProduceException<string, byte[]>(new Error(ErrorCode.Local_QueueFull),
                new DeliveryResult<string, byte[]> { Topic = topic, Message = message, Partition = Partition.Any, Status = PersistenceStatus.NotPersisted }));
        }
        return inner.ProduceAsync(topic, message, cancellationToken);
    }

    public Task<DeliveryResult<string, byte[]>> ProduceAsync(TopicPartition topicPartition, Message<string, byte[]> message, CancellationToken cancellationToken = default) =>
        inner.ProduceAsync(topicPartition, message, cancellationToken);
    public void Produce(string topic, Message<string, byte[]> message, Action<DeliveryReport<string, byte[]>>? deliveryHandler = null) => inner.Produce(topic, message, deliveryHandler);
    public void Produce(TopicPartition topicPartition, Message<string, byte[]> message, Action<DeliveryReport<string, byte[]>>? deliveryHandler = null) => inner.Produce(topicPartition, message, deliveryHandler);
    public int Poll(TimeSpan timeout) => inner.Poll(timeout);
    public int Flush(TimeSpan timeout) => inner.Flush(timeout);
    public void Flush(CancellationToken cancellationToken = default) => inner.Flush(cancellationToken);
    public void InitTransactions(TimeSpan timeout) => inner.InitTransactions(timeout);
    public void BeginTransaction() => inner.BeginTransaction();
    public void CommitTransaction(TimeSpan timeout) => inner.CommitTransaction(timeout);
    public void CommitTransaction() => inner.CommitTransaction();
    public void AbortTransaction(TimeSpan timeout) => inner.AbortTransaction(timeout);
    public void AbortTransaction() => inner.AbortTransaction();
    public void SendOffsetsToTransaction(IEnumerable<TopicPartitionOffset> offsets, IConsumerGroupMetadata groupMetadata, TimeSpan timeout) => inner.SendOffsetsToTransaction(offsets, groupMetadata, timeout);
    public Handle Handle => inner.Handle;
    public string Name => inner.Name;
    public int AddBrokers(string brokers) => inner.AddBrokers(brokers);
    public void SetSaslCredentials(string username, string password) => inner.SetSaslCredentials(username, password);
    public void Dispose() => inner.Dispose();
}
