using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Bench.Systems;

namespace Shop.Bench.Workloads;

/// <summary>
/// Our broker driven by Confluent.Kafka: produce throughput (record size × producers × acks),
/// durable produce latency under each flush policy, consumer throughput on a backlog, and
/// produce → long-poll fetch latency at half the measured maximum rate. Each figure carries its
/// reference from the same run and its target.
/// </summary>
public sealed class BrokerWorkloads : IWorkload
{
    /// <summary>Our broker logs warnings only while it is measured; the start-up line the launcher waits for still comes.</summary>
    internal static readonly string[] QuietBroker = ["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Information"];

    private const string System = "shop broker";

    public string Name => "broker";

    public string Description => "our broker with Confluent.Kafka: produce, consume, latency";

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var figures = new List<Figure>();
        var duration = settings.Scale(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(0.5));
        var syncBandwidth = settings.Find(MachineLimits.WorkloadName, "sequential write + fdatasync");
        var fsyncP99 = settings.Find(MachineLimits.WorkloadName, "4 KiB append + fdatasync p99");

        await using (var broker = await BrokerProcess.StartInAsync(settings.ScratchDir, QuietBroker))
        {
            var throughput = new Dictionary<(int Size, int Producers, Acks Acks), (double RecordsPerSecond, double MegabytesPerSecond)>();
            foreach (var size in new[] { 100, 1024 })
            foreach (var producers in new[] { 1, 4 })
            foreach (var acks in new[] { Acks.Leader, Acks.All })
            {
                var label = $"produce {size} B, {producers} producer{(producers > 1 ? "s" : "")}, acks={(acks == Acks.All ? "all" : "1")}";
                progress.Report(label);
                var (records, seconds) = await ProduceForAsync(broker.BootstrapServers, $"t-{size}-{producers}-{acks}", size, producers, acks, duration, cancellationToken);
                var rate = records / seconds;
                var mbps = records * (double)size / 1e6 / seconds;
                throughput[(size, producers, acks)] = (rate, mbps);
                figures.Add(new Figure(Name, System, label, rate, "records/s"));
                figures.Add(new Figure(Name, System, label, mbps, "MB/s"));
            }

            var durable = throughput[(1024, 4, Acks.All)];
            var fast = throughput[(1024, 4, Acks.Leader)];
            if (syncBandwidth is not null)
            {
                var ratio = durable.MegabytesPerSecond / syncBandwidth.Value;
                figures.Add(new Figure(Name, System, "durable produce 1 KiB × 4 vs disk+fdatasync", durable.MegabytesPerSecond, "MB/s",
                    "sequential write + fdatasync", ratio, "≥ 0.30", ratio >= 0.30));
            }
            var durableRatio = durable.MegabytesPerSecond / fast.MegabytesPerSecond;
            figures.Add(new Figure(Name, System, "durable vs non-durable, 1 KiB × 4", durable.MegabytesPerSecond, "MB/s",
                "acks=1 same workload", durableRatio, "≥ 0.60", durableRatio >= 0.60));
            var small = throughput[(100, 4, Acks.Leader)].RecordsPerSecond;
            figures.Add(new Figure(Name, System, "non-durable 100 B batched (4 producers)", small, "records/s",
                null, null, "≥ 150,000", small >= 150_000));

            progress.Report("consume the 100 B backlog from the start");
            var produced = await CountAsync(broker.BootstrapServers, "t-100-4-Leader");
            var (consumed, consumeSeconds) = Consume(broker.BootstrapServers, "t-100-4-Leader", produced, cancellationToken);
            var consumeRate = consumed / consumeSeconds;
            figures.Add(new Figure(Name, System, "consume 100 B backlog", consumeRate, "records/s",
                "non-durable 100 B produce", consumeRate / small, "≥ 1.2", consumeRate / small >= 1.2));

            // The pipeline's maximum is the slower of one producer and the consumer: half of that is offered.
            var offered = Math.Max(100, Math.Min(throughput[(100, 1, Acks.Leader)].RecordsPerSecond, consumeRate) / 2);
            progress.Report($"end-to-end latency at {offered:N0} records/s (half the slower of 1-producer produce and consume)");
            var e2e = await EndToEndAsync(broker.BootstrapServers, offered, duration, cancellationToken);
            figures.Add(new Figure(Name, System, "end-to-end p50 (produce → long-poll fetch)", e2e.Percentile(50), "µs"));
            var p99 = e2e.Percentile(99);
            figures.Add(new Figure(Name, System, "end-to-end p99 (produce → long-poll fetch)", p99, "µs", null, null, "≤ 5,000 µs", p99 <= 5000));
            figures.Add(new Figure(Name, System, "end-to-end p99.9 (produce → long-poll fetch)", e2e.Percentile(99.9), "µs"));

            progress.Report($"end-to-end latency at {PeerWorkloads.FixedRate:N0} records/s (the rate every peer is measured at)");
            var fixedRate = await EndToEndAsync(broker.BootstrapServers, PeerWorkloads.FixedRate, duration, cancellationToken, "e2e-fixed");
            figures.Add(new Figure(Name, System, $"end-to-end p50 at {PeerWorkloads.FixedRate:N0}/s", fixedRate.Percentile(50), "µs"));
            figures.Add(new Figure(Name, System, $"end-to-end p99 at {PeerWorkloads.FixedRate:N0}/s", fixedRate.Percentile(99), "µs"));

            progress.Report("durable produce latency, flush policy always");
            figures.AddRange(LatencyFigures("always", await DurableLatencyAsync(broker.BootstrapServers, settings.Scale(1000, 100), cancellationToken), fsyncP99));
        }

        await using (var broker = await BrokerProcess.StartInAsync(settings.ScratchDir, [.. QuietBroker, "--Broker:FlushPolicy=Interval"]))
        {
            progress.Report("durable produce latency, flush policy interval");
            figures.AddRange(LatencyFigures("interval", await DurableLatencyAsync(broker.BootstrapServers, settings.Scale(1000, 100), cancellationToken), fsyncP99));
            // Under interval a record is visible once written, as it is in the non-durable peers (NATS, Redis everysec, RabbitMQ transient).
            progress.Report($"end-to-end latency at {PeerWorkloads.FixedRate:N0} records/s, flush policy interval (visible before fsync)");
            var unsynced = await EndToEndAsync(broker.BootstrapServers, PeerWorkloads.FixedRate, duration, cancellationToken, "e2e-interval");
            figures.Add(new Figure(Name, System, $"end-to-end p50 at {PeerWorkloads.FixedRate:N0}/s, flush interval", unsynced.Percentile(50), "µs"));
            figures.Add(new Figure(Name, System, $"end-to-end p99 at {PeerWorkloads.FixedRate:N0}/s, flush interval", unsynced.Percentile(99), "µs"));
        }
        return figures;
    }

    private IEnumerable<Figure> LatencyFigures(string policy, LatencySamples samples, Figure? fsyncP99)
    {
        yield return new Figure(Name, System, $"acks=all 1 KiB latency p50, flush {policy}", samples.Percentile(50), "µs");
        var p99 = samples.Percentile(99);
        if (policy == "always" && fsyncP99 is not null)
        {
            var ratio = p99 / fsyncP99.Value;
            yield return new Figure(Name, System, $"acks=all 1 KiB latency p99, flush {policy}", p99, "µs",
                "4 KiB append + fdatasync p99", ratio, "≤ 3", ratio <= 3);
        }
        else
        {
            yield return new Figure(Name, System, $"acks=all 1 KiB latency p99, flush {policy}", p99, "µs",
                Note: policy == "interval" ? "answered before fsync: a machine crash may lose up to the flush interval" : null);
        }
    }

    private static async Task CreateTopicAsync(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 4 }]);
    }

    /// <summary>Producers send as fast as their queues allow for <paramref name="duration"/>; counts delivered records.</summary>
    private static async Task<(long Records, double Seconds)> ProduceForAsync(string bootstrap, string topic, int size, int producers, Acks acks,
        TimeSpan duration, CancellationToken cancellationToken)
    {
        await CreateTopicAsync(bootstrap, topic);
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        long delivered = 0, failed = 0;
        var watch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, producers).Select(_ => Task.Run(() =>
        {
            using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
            {
                BootstrapServers = bootstrap, Acks = acks, LingerMs = 5, BatchSize = 1_000_000, QueueBufferingMaxMessages = 500_000,
                EnableIdempotence = false,
            }).Build();
            var message = new Message<Null, byte[]> { Value = payload };
            void Report(DeliveryReport<Null, byte[]> r)
            {
                if (r.Error.IsError) Interlocked.Increment(ref failed); else Interlocked.Increment(ref delivered);
            }
            while (watch.Elapsed < duration && !cancellationToken.IsCancellationRequested)
            {
                try { producer.Produce(topic, message, Report); }
                catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull) { producer.Poll(TimeSpan.FromMilliseconds(1)); }
            }
            producer.Flush(TimeSpan.FromSeconds(60));
        }, cancellationToken)).ToArray();
        await Task.WhenAll(tasks);
        var seconds = watch.Elapsed.TotalSeconds;
        if (failed > 0) throw new InvalidOperationException($"{failed} records failed to produce to {topic}");
        return (delivered, seconds);
    }

    private static async Task<long> CountAsync(string bootstrap, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-count" }).Build();
        await Task.CompletedTask;
        return Enumerable.Range(0, 4).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }

    /// <summary>Reads the whole backlog; throws if records are missing (no silent loss).</summary>
    private static (long Records, double Seconds) Consume(string bootstrap, string topic, long expected, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-{Guid.NewGuid():N}", EnableAutoCommit = false,
            FetchMaxBytes = 50_000_000, MaxPartitionFetchBytes = 10_000_000,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        long count = 0;
        var watch = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (count < expected && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromSeconds(1)) is not null) count++;
        }
        if (count != expected) throw new InvalidOperationException($"consumed {count} of {expected} records of {topic}");
        return (count, watch.Elapsed.TotalSeconds);
    }

    /// <summary>A pacer process produces at a fixed rate; a consumer here long-polls; latency = receive time − send timestamp.</summary>
    private static async Task<LatencySamples> EndToEndAsync(string bootstrap, double rate, TimeSpan duration, CancellationToken cancellationToken,
        string topic = "e2e")
    {
        await CreateTopicAsync(bootstrap, topic);
        var samples = new LatencySamples();
        using var consumer = new ConsumerBuilder<Ignore, long>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-{topic}", FetchWaitMaxMs = 500, FetchMinBytes = 1, SocketNagleDisable = true,
        }).SetValueDeserializer(new TicksDeserializer()).Build();
        consumer.Assign(Enumerable.Range(0, 4).Select(p => new TopicPartitionOffset(topic, p, Offset.End)));
        // Warm up: timing starts once a record has gone all the way, so that connecting and resolving
        // the end offsets are not counted as latency.
        using (var warmup = new ProducerBuilder<Null, long>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 0 })
            .SetValueSerializer(new PacerProcess.TicksSerializer()).Build())
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            ConsumeResult<Ignore, long>? first = null;
            while (first is null && DateTime.UtcNow < deadline)
            {
                warmup.Produce(topic, new Message<Null, long> { Value = 0 });
                warmup.Flush(TimeSpan.FromSeconds(5));
                first = consumer.Consume(TimeSpan.FromMilliseconds(500));
            }
            if (first is null) throw new InvalidOperationException("end-to-end: the consumer never received the warm-up record");
            while (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not null) { } // the other warm-up records
        }

        var total = (long)(rate * duration.TotalSeconds);
        var received = 0L;
        var reader = Task.Run(() =>
        {
            var deadline = DateTime.UtcNow + duration + TimeSpan.FromSeconds(60);
            while (received < total && DateTime.UtcNow < deadline)
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is null || PacerProcess.IsWarmUp(result.Message.Value)) continue;
                samples.Add(result.Message.Value, Stopwatch.GetTimestamp());
                received++;
            }
        }, cancellationToken);
        await PacerProcess.RunAsync("kafka", bootstrap, topic, persistent: false, rate, duration, cancellationToken);
        await reader;
        if (received != total) throw new InvalidOperationException($"end-to-end: received {received} of {total}");
        return samples;
    }

    /// <summary>One producer, one record at a time, acks=all: what each durable acknowledgement costs when unloaded.</summary>
    private static async Task<LatencySamples> DurableLatencyAsync(string bootstrap, int count, CancellationToken cancellationToken)
    {
        const string topic = "durable-latency";
        await CreateTopicAsync(bootstrap, topic);
        var payload = new byte[1024];
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 0 }).Build();
        await producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = payload }, cancellationToken); // connect first
        var samples = new LatencySamples(count);
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await producer.ProduceAsync(topic, new Message<Null, byte[]> { Value = payload }, cancellationToken);
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        return samples;
    }

    private sealed class TicksDeserializer : IDeserializer<long>
    {
        public long Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) => BitConverter.ToInt64(data);
    }
}
