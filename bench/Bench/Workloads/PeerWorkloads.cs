using Shop.Bench.Systems;

namespace Shop.Bench.Workloads;

/// <summary>
/// The same workloads as <see cref="BrokerWorkloads"/> against the systems a user might pick instead
/// — Redis Streams, RabbitMQ, NATS JetStream, each from its Debian package with its usual .NET
/// client — and our figure divided by the best peer's at the same durability setting.
/// </summary>
public sealed class PeerWorkloads : IWorkload
{
    /// <summary>The end-to-end latency of every system is taken at this one offered rate.</summary>
    public const double FixedRate = 2_000;

    public string Name => "peers";

    public string Description => "Redis Streams, RabbitMQ, NATS JetStream: the same workloads, side by side with ours";

    private sealed record PeerResult(string Name, bool Durable, double Durable1KMegabytes, double Small100Records, double ConsumeRecords,
        double PublishP99, double EndToEndP99);

    public async Task<IReadOnlyList<Figure>> RunAsync(BenchSettings settings, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var figures = new List<Figure>();
        var results = new List<PeerResult>();
        var duration = settings.Scale(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(0.5));
        var latencyCount = settings.Scale(1000, 100);
        var peers = new List<(string Name, string? Missing, Func<Task<IPeer>> Start)>
        {
            ("redis always", RedisPeer.Missing, async () => await RedisPeer.StartAsync(settings.ScratchDir, "always")),
            ("redis everysec", RedisPeer.Missing, async () => await RedisPeer.StartAsync(settings.ScratchDir, "everysec")),
            ("rabbitmq quorum", RabbitPeer.Missing, async () => await RabbitPeer.StartAsync(settings.ScratchDir, durable: true)),
            ("rabbitmq transient", RabbitPeer.Missing, async () => await RabbitPeer.StartAsync(settings.ScratchDir, durable: false)),
            ("nats jetstream", NatsPeer.Missing, async () => await NatsPeer.StartAsync(settings.ScratchDir)),
        };
        foreach (var (name, missing, start) in peers)
        {
            if (missing is not null)
            {
                progress.Report($"{name}: skipped, {missing}");
                figures.Add(new Figure(Name, name, "skipped", 0, "", Note: missing));
                continue;
            }
            progress.Report($"{name}: starting");
            await using var peer = await start();
            progress.Report($"{name}: produce 1 KiB × 4");
            var (big, bigSeconds) = await peer.ProduceAsync(1024, 4, duration, cancellationToken);
            var bigMegabytes = big * 1024 / 1e6 / bigSeconds;
            progress.Report($"{name}: produce 100 B × 4");
            var (small, smallSeconds) = await peer.ProduceAsync(100, 4, duration, cancellationToken);
            progress.Report($"{name}: consume the 100 B backlog");
            var (consumed, consumeSeconds) = await peer.ConsumeBacklogAsync(small, cancellationToken);
            progress.Report($"{name}: 1 KiB publish latency, one at a time");
            var publish = await peer.PublishLatencyAsync(latencyCount, cancellationToken);
            progress.Report($"{name}: end-to-end latency at {FixedRate:N0}/s");
            var e2e = await peer.EndToEndAsync(FixedRate, duration, cancellationToken);

            var result = new PeerResult(peer.Name, peer.Durable, bigMegabytes, small / smallSeconds, consumed / consumeSeconds,
                publish.Percentile(99), e2e.Percentile(99));
            results.Add(result);
            figures.Add(new Figure(Name, peer.Name, "produce 1 KiB × 4", bigMegabytes, "MB/s", Note: peer.Setting));
            figures.Add(new Figure(Name, peer.Name, "produce 100 B × 4", result.Small100Records, "records/s"));
            figures.Add(new Figure(Name, peer.Name, "consume 100 B backlog", result.ConsumeRecords, "records/s"));
            figures.Add(new Figure(Name, peer.Name, "1 KiB publish latency p50", publish.Percentile(50), "µs"));
            figures.Add(new Figure(Name, peer.Name, "1 KiB publish latency p99", result.PublishP99, "µs"));
            figures.Add(new Figure(Name, peer.Name, $"end-to-end p50 at {FixedRate:N0}/s", e2e.Percentile(50), "µs"));
            figures.Add(new Figure(Name, peer.Name, $"end-to-end p99 at {FixedRate:N0}/s", result.EndToEndP99, "µs"));
        }
        figures.AddRange(Compare(settings, results));
        figures.AddRange(await AlternateWithNatsAsync(settings, progress, duration, cancellationToken));
        return figures;
    }

    /// <summary>
    /// Issue 17's target 5, judged on more than one run each: at 2,000/s the p99 of every system here
    /// is set by the shared machine more than by the system (ours 0.54-1.39 x NATS's in single runs of
    /// one morning). Ours (wire clients, flush interval) and NATS JetStream alternate for a few rounds
    /// in one sitting, and the medians of their p99s are compared.
    /// </summary>
    private async Task<IReadOnlyList<Figure>> AlternateWithNatsAsync(BenchSettings settings, IProgress<string> progress, TimeSpan duration,
        CancellationToken cancellationToken)
    {
        if (NatsPeer.Missing is not null) return [];
        // Five: with three, the verdict of single sittings still swung 0.57-1.58 x on this machine.
        var rounds = settings.Scale(5, 1);
        await using var nats = await NatsPeer.StartAsync(settings.ScratchDir);
        await using var broker = await BrokerProcess.StartInAsync(settings.ScratchDir, [.. BrokerWorkloads.QuietBroker, "--Broker:FlushPolicy=Interval"]);
        var ours = new List<double>();
        var theirs = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            progress.Report($"target 5, round {round} of {rounds}: end-to-end at {FixedRate:N0}/s, ours (wire clients, flush interval), then NATS JetStream");
            var topic = $"e2e-round-{round}";
            await WireWorkloads.CreateTopicsAsync(broker, cancellationToken, (topic, 1, null));
            ours.Add((await WireWorkloads.EndToEndAsync(broker, topic, duration, cancellationToken)).Percentile(99));
            theirs.Add((await nats.EndToEndAsync(FixedRate, duration, cancellationToken)).Percentile(99));
        }
        var (oursMedian, natsMedian) = (Median(ours), Median(theirs));
        var ratio = oursMedian / natsMedian;
        static string Each(List<double> p99s) => $"each round: {string.Join(", ", p99s.Select(v => v.ToString("N0")))} µs";
        var label = $"p99 at {FixedRate:N0}/s, median of {rounds} alternating rounds";
        return
        [
            new Figure(Name, "shop broker", $"{WireWorkloads.EndToEnd} {label}, flush interval", oursMedian, "µs", Note: Each(ours)),
            new Figure(Name, "nats jetstream", $"end-to-end {label}", natsMedian, "µs", Note: Each(theirs)),
            new Figure(Name, "shop broker", $"target 5: end-to-end {label}, vs NATS JetStream", oursMedian, "µs", $"nats jetstream ({natsMedian:N0} µs)",
                ratio, "≤ 1", ratio <= 1, "ours under flush interval with our own frames at both ends; each pacer in a process of its own"),
        ];
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>Ours ÷ the best peer at the same durability (for latencies: the best peer's ÷ ours); target ≥ 2.</summary>
    private IEnumerable<Figure> Compare(BenchSettings settings, List<PeerResult> results)
    {
        Figure? Ours(string metric, string unit) =>
            settings.Measured.LastOrDefault(f => f.Workload == "broker" && f.Metric == metric && f.Unit == unit);

        IEnumerable<Figure> Ratio(string label, Figure? ours, IEnumerable<PeerResult> peers, Func<PeerResult, double> value, bool lowerIsBetter)
        {
            var candidates = peers.ToList();
            if (ours is null || candidates.Count == 0) yield break;
            var best = lowerIsBetter ? candidates.MinBy(value)! : candidates.MaxBy(value)!;
            var ratio = lowerIsBetter ? value(best) / ours.Value : ours.Value / value(best);
            yield return new Figure(Name, "shop broker", label, ours.Value, ours.Unit, $"best peer: {best.Name} ({value(best):N1} {ours.Unit})",
                ratio, "≥ 2", ratio >= 2);
        }

        var durable = results.Where(r => r.Durable);
        var nonDurable = results.Where(r => !r.Durable);
        return
        [
            .. Ratio("vs peers: durable produce 1 KiB × 4", Ours("produce 1024 B, 4 producers, acks=all", "MB/s"), durable, r => r.Durable1KMegabytes, false),
            .. Ratio("vs peers: non-durable produce 100 B × 4", Ours("produce 100 B, 4 producers, acks=1", "records/s"), nonDurable, r => r.Small100Records, false),
            .. Ratio("vs peers: consume 100 B backlog", Ours("consume 100 B backlog", "records/s"), results, r => r.ConsumeRecords, false),
            .. Ratio("vs peers: durable 1 KiB latency p99", Ours("acks=all 1 KiB latency p99, flush always", "µs"), durable, r => r.PublishP99, true),
            // Under flush always a record is visible only once fsynced: compared with the durable peers;
            // under interval it is visible once written, as in the non-durable ones.
            .. Ratio($"vs peers: end-to-end p99 at {FixedRate:N0}/s, durable", Ours($"end-to-end p99 at {FixedRate:N0}/s", "µs"), durable, r => r.EndToEndP99, true),
            .. Ratio($"vs peers: end-to-end p99 at {FixedRate:N0}/s, flush interval", Ours($"end-to-end p99 at {FixedRate:N0}/s, flush interval", "µs"),
                nonDurable, r => r.EndToEndP99, true),
            .. VersusNats(Ours($"end-to-end p99 at {FixedRate:N0}/s, flush interval", "µs"), results.FirstOrDefault(r => r.Name == "nats jetstream"),
                "ours under flush interval, with Confluent.Kafka (client-bound); each pacer in a process of its own"),
            .. VersusNats(settings.Measured.LastOrDefault(f => f.Workload == "wire" && f.System == "shop broker"
                    && f.Metric == $"{WireWorkloads.EndToEnd} p99 at {FixedRate:N0}/s, flush interval"),
                results.FirstOrDefault(r => r.Name == "nats jetstream"),
                "ours under flush interval, with our own frames at both ends (the broker's own latency); each pacer in a process of its own"),
        ];
    }

    /// <summary>Our end-to-end p99 (visible before fsync, as NATS's is) beside NATS JetStream's in one run each, both paced from a process of their own.</summary>
    private IEnumerable<Figure> VersusNats(Figure? ours, PeerResult? nats, string note)
    {
        if (ours is null || nats is null) yield break;
        var ratio = ours.Value / nats.EndToEndP99;
        var metric = ours.Workload == "wire" ? $"{WireWorkloads.EndToEnd} p99 at {FixedRate:N0}/s vs NATS JetStream" : $"end-to-end p99 at {FixedRate:N0}/s vs NATS JetStream";
        // One run each: the target is judged on the alternating rounds (AlternateWithNatsAsync).
        yield return new Figure(Name, "shop broker", metric, ours.Value, ours.Unit, $"nats jetstream ({nats.EndToEndP99:N0} µs)", ratio, Note: note);
    }
}
