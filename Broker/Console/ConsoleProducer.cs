using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>Where a produced message went.</summary>
public sealed record ProducedMessage(string Topic, int Partition, long Offset);

/// <summary>
/// Appends messages from the console, as an acks=all producer would: the answer comes when the
/// record is durable and visible. Without a partition the key picks one as the Java client and
/// kafkajs do (murmur2), so the console's message lands beside the key's other events.
/// </summary>
public sealed class ConsoleProducer(LogManager logs, TimeProvider time)
{
    public async Task<ProducedMessage> ProduceAsync(string topicName, int? partition, byte[]? key, byte[]? value,
        IReadOnlyList<RecordHeader> headers, CancellationToken cancellationToken)
    {
        if (!logs.TryGetTopic(topicName, out var topic)) throw new ConsoleNotFoundException($"There is no topic '{topicName}'.");
        if (LogManager.IsInternal(topicName)) throw new ConsoleConflictException($"'{topicName}' is internal to the broker: only the broker writes it.");
        var count = topic.Partitions.Count;
        var target = partition ?? (key is null ? Random.Shared.Next(count) : Murmur2Partitioner.Partition(key, count));
        if (target < 0 || target >= count)
            throw new ConsoleNotFoundException($"Topic '{topicName}' has partitions 0 to {count - 1}, not {target}.");
        var batch = RecordBatchBuilder.Build([new KeyValueRecord(key, value, headers)], time.GetUtcNow().ToUnixTimeMilliseconds());
        var result = await topic.Partitions[target].AppendAsync(batch, durable: true, cancellationToken);
        return new ProducedMessage(topicName, target, result.BaseOffset);
    }
}

/// <summary>
/// The Java client's default partitioner for keyed records (also kafkajs's and librdkafka's
/// <c>murmur2_random</c>): murmur2 of the key bytes, made positive, modulo the partition count.
/// </summary>
public static class Murmur2Partitioner
{
    public static int Partition(ReadOnlySpan<byte> key, int partitions) => (int)((Hash(key) & 0x7fffffff) % (uint)partitions);

    public static uint Hash(ReadOnlySpan<byte> data)
    {
        const uint seed = 0x9747b28c, m = 0x5bd1e995;
        const int r = 24;
        var h = seed ^ (uint)data.Length;
        var i = 0;
        for (; i + 4 <= data.Length; i += 4)
        {
            var k = (uint)(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (data.Length - i)
        {
            case 3: h ^= (uint)data[i + 2] << 16; goto case 2;
            case 2: h ^= (uint)data[i + 1] << 8; goto case 1;
            case 1: h ^= data[i]; h *= m; break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
    }
}
