using Shop.Broker.Protocol;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Fetch v4–11 (v10+ zstd). Long poll: the answer waits up to MaxWaitMs until MinBytes are there,
/// woken by appends rather than polling. Whole batches are returned, the first one even when it
/// exceeds the byte limits (as Kafka does). Records are never null. No transactions: the last
/// stable offset is the high watermark. No fetch sessions (clients send id 0, epoch -1).
/// </summary>
public sealed class FetchApi(LogManager logs) : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Fetch, 4, 11, FlexibleFrom: 12);

    private sealed record PartitionFetch(int Partition, long Offset, int MaxBytes, PartitionLog? Log);

    private sealed record PartitionData(ErrorCode Error, long HighWatermark, long LogStartOffset, ReadOnlyMemory<byte> Records);

    public override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var reader = request.BodyReader();
        _ = reader.ReadInt32(); // replica id
        var maxWaitMs = reader.ReadInt32();
        var minBytes = reader.ReadInt32();
        var maxBytes = reader.ReadInt32();
        _ = reader.ReadInt8(); // isolation level: without transactions both levels read up to the high watermark
        if (version >= 7) { _ = reader.ReadInt32(); _ = reader.ReadInt32(); } // session id, epoch
        var topicCount = reader.ReadArrayLength();
        var topics = new List<(string Name, List<PartitionFetch> Partitions)>(topicCount);
        for (var t = 0; t < topicCount; t++)
        {
            var name = reader.ReadString();
            logs.TryGetTopic(name, out var topic);
            var partitionCount = reader.ReadArrayLength();
            var partitions = new List<PartitionFetch>(partitionCount);
            for (var p = 0; p < partitionCount; p++)
            {
                var index = reader.ReadInt32();
                if (version >= 9) _ = reader.ReadInt32(); // current leader epoch
                var offset = reader.ReadInt64();
                if (version >= 5) _ = reader.ReadInt64(); // follower log start offset
                var partitionMaxBytes = reader.ReadInt32();
                var log = topic is not null && index >= 0 && index < topic.Partitions.Count ? topic.Partitions[index] : null;
                partitions.Add(new PartitionFetch(index, offset, partitionMaxBytes, log));
            }
            topics.Add((name, partitions));
        }
        // Forgotten topics (v7+) and rack id (v11+) only matter with fetch sessions: not read.

        var deadline = DateTime.UtcNow.AddMilliseconds(Math.Max(0, maxWaitMs));
        var results = ReadAll(topics, maxBytes, out var totalBytes, out var anyError);
        while (totalBytes < minBytes && !anyError && DateTime.UtcNow < deadline)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) break;
            wait.CancelAfter(remaining);
            var wakeUps = topics.SelectMany(t => t.Partitions)
                .Where(p => p.Log is not null)
                // Wait for records beyond what was just read, so that less than MinBytes does not spin.
                .Select(p => p.Log!.WaitForDataAsync(Math.Max(p.Offset, p.Log.LogEndOffset), wait.Token))
                .ToList();
            if (wakeUps.Count == 0) break;
            try
            {
                await Task.WhenAny(wakeUps).Unwrap();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // max wait reached
            }
            finally
            {
                await wait.CancelAsync();
            }
            cancellationToken.ThrowIfCancellationRequested();
            results = ReadAll(topics, maxBytes, out totalBytes, out anyError);
        }

        response.WriteInt32(0); // throttle time: always 0 (kafkajs would treat it as client throttling)
        if (version >= 7)
        {
            response.WriteInt16((short)ErrorCode.None);
            response.WriteInt32(0); // session id: sessions not used
        }
        response.WriteArrayLength(topics.Count);
        var r = 0;
        foreach (var (name, partitions) in topics)
        {
            response.WriteString(name);
            response.WriteArrayLength(partitions.Count);
            foreach (var partition in partitions)
            {
                var data = results[r++];
                response.WriteInt32(partition.Partition);
                response.WriteInt16((short)data.Error);
                response.WriteInt64(data.HighWatermark);
                response.WriteInt64(data.HighWatermark); // last stable offset
                if (version >= 5) response.WriteInt64(data.LogStartOffset);
                response.WriteArrayLength(0); // aborted transactions
                if (version >= 11) response.WriteInt32(-1); // preferred read replica
                response.WriteBytes(data.Records.Span);
                if (data.Records.Length > 0)
                {
                    using var handOver = BrokerTelemetry.StartFetch(name, partition.Partition, data.Records.Span);
                    handOver?.SetTag("messaging.kafka.offset", partition.Offset);
                }
            }
        }
        return true;
    }

    private static List<PartitionData> ReadAll(List<(string Name, List<PartitionFetch> Partitions)> topics, int maxBytes,
        out int totalBytes, out bool anyError)
    {
        var results = new List<PartitionData>();
        totalBytes = 0;
        anyError = false;
        foreach (var (_, partitions) in topics)
        {
            foreach (var p in partitions)
            {
                var data = Read(p, totalBytes == 0 ? Math.Max(maxBytes, 1) : maxBytes - totalBytes);
                anyError |= data.Error != ErrorCode.None;
                totalBytes += data.Records.Length;
                results.Add(data);
            }
        }
        return results;
    }

    private static PartitionData Read(PartitionFetch fetch, int budget)
    {
        if (fetch.Log is null) return new PartitionData(ErrorCode.UnknownTopicOrPartition, -1, -1, ReadOnlyMemory<byte>.Empty);
        var highWatermark = fetch.Log.LogEndOffset;
        var logStart = fetch.Log.LogStartOffset;
        if (budget <= 0) return new PartitionData(ErrorCode.None, highWatermark, logStart, ReadOnlyMemory<byte>.Empty);
        try
        {
            var records = fetch.Log.Read(fetch.Offset, Math.Min(fetch.MaxBytes, budget));
            return new PartitionData(ErrorCode.None, highWatermark, logStart, records);
        }
        catch (OffsetOutOfRangeException)
        {
            return new PartitionData(ErrorCode.OffsetOutOfRange, highWatermark, logStart, ReadOnlyMemory<byte>.Empty);
        }
    }
}
