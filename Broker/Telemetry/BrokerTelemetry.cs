using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Shop.Broker.Telemetry;

/// <summary>
/// The broker's spans and metrics (source and meter <c>Shop.Broker</c>). A Produce or Fetch whose
/// records carry a trace context gets a span in that trace — <c>broker produce &lt;topic&gt;</c> as a
/// child of the producer's <c>send</c> span — so one order's hops through the log show in its trace.
/// </summary>
public static class BrokerTelemetry
{
    public const string Name = "Shop.Broker";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("shop.broker.requests", "{request}", "Kafka requests handled, by API");

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("shop.broker.request.duration", "s",
        "Time from a request frame to its response, by API (Produce: the produce latency, including fsync for acks=all)");

    public static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("shop.broker.bytes_in", "By", "Kafka request bytes received");

    public static readonly Counter<long> BytesOut = Meter.CreateCounter<long>("shop.broker.bytes_out", "By", "Kafka response bytes sent");

    public static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>("shop.broker.fsync.duration", "s",
        "Duration of one group commit of a partition: the fdatasyncs of its unsynced segments (and its directory after a roll)");

    public static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>("shop.broker.connections.active", "{connection}",
        "Open Kafka client connections");

    public static readonly Counter<long> RefusedConnections = Meter.CreateCounter<long>("shop.broker.connections.refused", "{connection}",
        "Kafka client connections closed on arrival: over Broker:MaxConnections or Broker:MaxConnectionsPerIp");

    /// <summary>The log end offset and the high watermark of every partition, observed when metrics are collected.</summary>
    public static void ObserveLogEndOffsets(Storage.LogManager logs)
    {
        Meter.CreateObservableGauge("shop.broker.log_end_offset", () => PerPartition(logs, p => p.LogEndOffset),
            "{offset}", "Offset the next record appended to a partition will get");
        Meter.CreateObservableGauge("shop.broker.high_watermark", () => PerPartition(logs, p => p.HighWatermark),
            "{offset}", "Offset up to which consumers may read: the fsynced offset under FlushPolicy=always");
    }

    private static IEnumerable<Measurement<long>> PerPartition(Storage.LogManager logs, Func<Storage.PartitionLog, long> value) =>
        logs.Topics.SelectMany(t => t.Partitions.Select(p =>
            new Measurement<long>(value(p), new KeyValuePair<string, object?>("messaging.destination.name", t.Name),
                new KeyValuePair<string, object?>("messaging.destination.partition.id", p.Partition.ToString()))));

    /// <summary>A span per partition append whose records carry trace context: parented on the first, linked to the others.</summary>
    public static Activity? StartProduce(string topic, int partition, ReadOnlySpan<byte> records) =>
        StartRecordsSpan("produce", ActivityKind.Server, topic, partition, records);

    /// <summary>Bytes at the start of a fetch's records looked into for trace context (the scan reads at most 256 records anyway).</summary>
    private const int FetchScanBytes = 64 * 1024;

    /// <summary>
    /// A span for handing records with trace context to a consumer (parented on the first record's
    /// context, linked to the rest). Fetched records are <see cref="Protocol.DeferredBytes"/>, read
    /// as the answer goes out: only their first <see cref="FetchScanBytes"/> are read for this, so
    /// that a fetch of megabytes is not read twice for its span.
    /// </summary>
    public static Activity? StartFetch(string topic, int partition, ReadOnlyMemory<byte> records)
    {
        if (!Source.HasListeners()) return null;
        if (!Protocol.DeferredBytes.TryGetWhole(records, out var deferred))
            return StartRecordsSpan("fetch", ActivityKind.Server, topic, partition, records.Span);
        var length = Math.Min(records.Length, FetchScanBytes);
        var prefix = Protocol.FrameBuffers.Pool.Rent(length);
        try
        {
            deferred.CopyTo(0, prefix.AsSpan(0, length));
            return StartRecordsSpan("fetch", ActivityKind.Server, topic, partition, prefix.AsSpan(0, length));
        }
        finally
        {
            Protocol.FrameBuffers.Pool.Return(prefix);
        }
    }

    private static Activity? StartRecordsSpan(string operation, ActivityKind kind, string topic, int partition, ReadOnlySpan<byte> records)
    {
        if (!Source.HasListeners()) return null;
        var contexts = RecordTraceContexts.Find(records);
        if (contexts.Count == 0) return null;
        var links = contexts.Skip(1).Select(c => new ActivityLink(c));
        var activity = Source.StartActivity($"broker {operation} {topic}", kind, contexts[0], links: links);
        if (activity is null) return null;
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.operation.name", operation);
        activity.SetTag("messaging.destination.name", topic);
        activity.SetTag("messaging.destination.partition.id", partition.ToString());
        return activity;
    }
}
