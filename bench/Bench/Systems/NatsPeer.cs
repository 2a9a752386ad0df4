using System.Diagnostics;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;

namespace Shop.Bench.Systems;

/// <summary>
/// NATS JetStream with file storage, publishes acknowledged by the stream. nats-server 2.9 (Debian 12)
/// writes each message before the ack but fsyncs in the background; it has no per-message fsync setting.
/// </summary>
public sealed class NatsPeer : IPeer
{
    private const string Program = "/usr/sbin/nats-server";
    private readonly ServerProcess _server;
    private readonly NatsClient _nats;
    private readonly string _url;
    private readonly INatsJSContext _js;
    private string _stream = "";
    private int _endToEndRuns;

    private NatsPeer(ServerProcess server, NatsClient nats, string url)
    {
        _server = server;
        _nats = nats;
        _url = url;
        _js = nats.CreateJetStreamContext();
    }

    public string Name => "nats jetstream";

    public bool Durable => false;

    public string Setting => "NATS JetStream file storage: written before the ack, fsynced in the background (no per-message fsync in 2.9)";

    public static string? Missing => ServerProcess.Missing(Program);

    public static async Task<NatsPeer> StartAsync(string scratchDir)
    {
        var port = LoopbackPort.Free();
        var dir = Directory.CreateDirectory(Path.Combine(scratchDir, $"nats-{Guid.NewGuid():N}")).FullName;
        var server = await ServerProcess.StartAsync(Program, ["-js", "-sd", dir, "-a", "127.0.0.1", "-p", port.ToString()], port, dir);
        var url = $"nats://127.0.0.1:{port}";
        var nats = new NatsClient(url);
        await nats.ConnectAsync();
        return new NatsPeer(server, nats, url);
    }

    private async Task CreateStreamAsync(string name) =>
        await _js.CreateStreamAsync(new StreamConfig(name, [$"{name}.>"]) { Storage = StreamConfigStorage.File });

    public async Task<(long Messages, double Seconds)> ProduceAsync(int size, int producers, TimeSpan duration, CancellationToken cancellationToken)
    {
        _stream = $"bench{size}x{producers}";
        await CreateStreamAsync(_stream);
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        return await PeerLoad.ProduceAsync(producers, 256, duration, _ => async () =>
        {
            var ack = await _js.PublishAsync($"{_stream}.x", payload);
            ack.EnsureSuccess();
        }, cancellationToken);
    }

    public async Task<(long Messages, double Seconds)> ConsumeBacklogAsync(long expected, CancellationToken cancellationToken)
    {
        var consumer = await _js.CreateOrUpdateConsumerAsync(_stream, new ConsumerConfig("backlog") { AckPolicy = ConsumerConfigAckPolicy.None });
        var watch = Stopwatch.StartNew();
        var count = await ReceiveAsync(consumer, expected, (_, _) => { }, TimeSpan.FromMinutes(2), cancellationToken);
        if (count != expected) throw new InvalidOperationException($"nats: read {count} of {expected}");
        return (count, watch.Elapsed.TotalSeconds);
    }

    private static async Task<long> ReceiveAsync(INatsJSConsumer consumer, long expected, Action<byte[], long> onMessage, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(timeout);
        long count = 0;
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 5000 }, cancellationToken: stop.Token))
            {
                onMessage(message.Data ?? [], Stopwatch.GetTimestamp());
                if (++count >= expected) break;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
        return count;
    }

    public async Task<LatencySamples> PublishLatencyAsync(int count, CancellationToken cancellationToken)
    {
        await CreateStreamAsync("latency");
        var payload = new byte[1024];
        var samples = new LatencySamples(count);
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var start = Stopwatch.GetTimestamp();
            (await _js.PublishAsync("latency.x", payload, cancellationToken: cancellationToken)).EnsureSuccess();
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        return samples;
    }

    public async Task<LatencySamples> EndToEndAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        // A stream of its own per run: runs alternate with ours (PeerWorkloads), and a consumer of an earlier run would not start afresh.
        var stream = $"e2e{++_endToEndRuns}";
        await CreateStreamAsync(stream);
        var consumer = await _js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("e2e")
        {
            AckPolicy = ConsumerConfigAckPolicy.None, DeliverPolicy = ConsumerConfigDeliverPolicy.New,
        });
        var total = (long)(rate * duration.TotalSeconds);
        var samples = new LatencySamples();
        var receiving = Task.Run(() => ReceiveAsync(consumer, total + PacerProcess.Untimed(rate, duration), (body, now) =>
        {
            var sent = BitConverter.ToInt64(body);
            if (!PacerProcess.IsWarmUp(sent)) samples.Add(sent, now);
        }, duration + TimeSpan.FromSeconds(60), cancellationToken), cancellationToken);
        await Task.Delay(200, cancellationToken); // the pull is waiting
        await PacerProcess.RunAsync("nats", _url, $"{stream}.x", persistent: false, rate, duration, cancellationToken);
        await receiving;
        if (samples.Count < total) throw new InvalidOperationException($"nats end-to-end: received {samples.Count} of {total}");
        return samples;
    }

    public async ValueTask DisposeAsync()
    {
        await _nats.DisposeAsync();
        await _server.DisposeAsync();
    }
}
