using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Storage;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// Fetch v4–11 (v10+ zstd). Long poll: the answer waits up to MaxWaitMs until MinBytes are there,
/// woken by appends rather than polling. Whole batches are returned, the first one even when it
/// exceeds the byte limits (as Kafka does). Records are never null. No transactions: the last
/// stable offset is the high watermark. No fetch sessions (clients send id 0, epoch -1), so
/// forgotten topics (v7+) and the rack id (v11+) are ignored.
/// </summary>
public sealed class FetchApi(LogManager logs) : KafkaApi<FetchRequest, FetchResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.Fetch, 4, 11, FetchRequest.FlexibleFrom);

    private sealed record PartitionFetch(int Partition, long Offset, int MaxBytes, PartitionLog? Log);

    private sealed record PartitionData(ErrorCode Error, long HighWatermark, long LogStartOffset, ReadOnlyMemory<byte> Records);

    protected override async ValueTask<FetchResponse?> HandleAsync(FetchRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        // Isolation level: without transactions both levels read up to the high watermark.
        var topics = new List<(string Name, List<PartitionFetch> Partitions)>(request.Topics.Count);
        foreach (var fetchTopic in request.Topics)
        {
            logs.TryGetTopic(fetchTopic.Topic, out var topic);
            var partitions = fetchTopic.Partitions.Select(p => new PartitionFetch(p.Partition, p.FetchOffset, p.PartitionMaxBytes,
                topic is not null && p.Partition >= 0 && p.Partition < topic.Partitions.Count ? topic.Partitions[p.Partition] : null)).ToList();
            topics.Add((fetchTopic.Topic, partitions));
        }

        var maxBytes = request.MaxBytes;
        var deadline = DateTime.UtcNow.AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        var results = ReadAll(topics, maxBytes, out var totalBytes, out var anyError);
        while (totalBytes < request.MinBytes && !anyError && DateTime.UtcNow < deadline)
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

        // Throttle time always 0 (kafkajs would treat it as client throttling); session id 0: sessions not used.
        var response = new FetchResponse();
        var r = 0;
        foreach (var (name, partitions) in topics)
        {
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = name };
            foreach (var partition in partitions)
            {
                var data = results[r++];
                topicResponse.Partitions.Add(new FetchResponse.PartitionData
                {
                    PartitionIndex = partition.Partition,
                    ErrorCode = (short)data.Error,
                    HighWatermark = data.HighWatermark,
                    LastStableOffset = data.HighWatermark,
                    LogStartOffset = data.LogStartOffset,
                    Records = data.Records,
                });
                if (data.Records.Length > 0)
                {
                    using var handOver = BrokerTelemetry.StartFetch(name, partition.Partition, data.Records.Span);
                    handOver?.SetTag("messaging.kafka.offset", partition.Offset);
                }
            }
            response.Responses.Add(topicResponse);
        }
        return response;
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
