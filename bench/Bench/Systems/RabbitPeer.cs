using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Shop.Bench.Systems;

/// <summary>
/// RabbitMQ with publisher confirms: a quorum queue with persistent messages (confirmed once fsynced)
/// or a non-durable classic queue with transient messages (confirmed from memory).
/// </summary>
public sealed class RabbitPeer : IPeer
{
    private const string Program = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private readonly ServerProcess _server;
    private readonly IConnection _connection;
    private readonly int _port;
    private string _queue = "";

    private RabbitPeer(ServerProcess server, IConnection connection, int port, bool durable)
    {
        _server = server;
        _connection = connection;
        _port = port;
        Durable = durable;
        Name = durable ? "rabbitmq quorum" : "rabbitmq transient";
        Setting = durable
            ? "RabbitMQ quorum queue, persistent messages, publisher confirms (sent after fsync)"
            : "RabbitMQ classic non-durable queue, transient messages, publisher confirms";
    }

    public string Name { get; }

    public bool Durable { get; }

    public string Setting { get; }

    public static string? Missing => ServerProcess.Missing(Program);

    /// <summary>Runs as the <c>rabbitmq</c> user (Erlang cookie) with its own node name, ports, data and log folders.</summary>
    public static async Task<RabbitPeer> StartAsync(string scratchDir, bool durable)
    {
        var port = LoopbackPort.Free();
        var dir = Directory.CreateDirectory(Path.Combine(scratchDir, $"rabbitmq-{Guid.NewGuid():N}")).FullName;
        Directory.CreateDirectory(Path.Combine(dir, "mnesia"));
        Directory.CreateDirectory(Path.Combine(dir, "log"));
        using (var chown = Process.Start("chown", ["-R", "rabbitmq:rabbitmq", dir])) await chown.WaitForExitAsync();
        var node = $"bench{port}@localhost";
        var server = await ServerProcess.StartAsync("/usr/sbin/runuser",
            ["-u", "rabbitmq", "--", "env", "HOME=/var/lib/rabbitmq", $"RABBITMQ_NODENAME={node}", $"RABBITMQ_NODE_PORT={port}",
             $"RABBITMQ_DIST_PORT={LoopbackPort.Free()}", "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
             $"RABBITMQ_MNESIA_BASE={dir}/mnesia", $"RABBITMQ_LOG_BASE={dir}/log", $"RABBITMQ_ENABLED_PLUGINS_FILE={dir}/plugins", Program],
            port, dir, timeout: TimeSpan.FromSeconds(90));
        var factory = new ConnectionFactory { HostName = "127.0.0.1", Port = port };
        IConnection? connection = null;
        for (var attempt = 0; connection is null; attempt++)
        {
            try { connection = await factory.CreateConnectionAsync(); }
            catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException) when (attempt < 50) { await Task.Delay(200); }
        }
        return new RabbitPeer(server, connection, port, durable);
    }

    private async Task<IChannel> ChannelAsync(string queue)
    {
        var channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.QueueDeclareAsync(queue, durable: Durable, exclusive: false, autoDelete: false,
            arguments: Durable ? new Dictionary<string, object?> { ["x-queue-type"] = "quorum" } : null);
        return channel;
    }

    private BasicProperties Properties => new() { Persistent = Durable };

    public async Task<(long Messages, double Seconds)> ProduceAsync(int size, int producers, TimeSpan duration, CancellationToken cancellationToken)
    {
        _queue = $"bench-{size}-{producers}";
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        var channels = new List<IChannel>();
        for (var i = 0; i < producers; i++) channels.Add(await ChannelAsync(_queue));
        try
        {
            var properties = Properties;
            return await PeerLoad.ProduceAsync(producers, 256, duration,
                p => () => channels[p].BasicPublishAsync("", _queue, false, properties, payload).AsTask(), cancellationToken);
        }
        finally
        {
            foreach (var channel in channels) await channel.DisposeAsync();
        }
    }

    public async Task<(long Messages, double Seconds)> ConsumeBacklogAsync(long expected, CancellationToken cancellationToken)
    {
        await using var channel = await ChannelAsync(_queue);
        var watch = Stopwatch.StartNew();
        var count = await ReceiveAsync(channel, _queue, expected, (_, _) => { }, TimeSpan.FromMinutes(2), cancellationToken);
        if (count != expected) throw new InvalidOperationException($"rabbitmq: read {count} of {expected}");
        return (count, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Consumes (auto-ack, prefetch 2000) until <paramref name="expected"/> messages arrived or the time is up.</summary>
    private static async Task<long> ReceiveAsync(IChannel channel, string queue, long expected, Action<ReadOnlyMemory<byte>, long> onMessage,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        await channel.BasicQosAsync(0, 2000, false, cancellationToken);
        long count = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            onMessage(delivery.Body, Stopwatch.GetTimestamp());
            if (Interlocked.Increment(ref count) >= expected) done.TrySetResult();
            return Task.CompletedTask;
        };
        var tag = await channel.BasicConsumeAsync(queue, autoAck: true, consumer, cancellationToken);
        await Task.WhenAny(done.Task, Task.Delay(timeout, cancellationToken));
        await channel.BasicCancelAsync(tag, cancellationToken: cancellationToken);
        return Interlocked.Read(ref count);
    }

    public async Task<LatencySamples> PublishLatencyAsync(int count, CancellationToken cancellationToken)
    {
        await using var channel = await ChannelAsync("latency");
        var payload = new byte[1024];
        var samples = new LatencySamples(count);
        var properties = Properties;
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await channel.BasicPublishAsync("", "latency", false, properties, payload, cancellationToken);
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        return samples;
    }

    public async Task<LatencySamples> EndToEndAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        const string queue = "e2e";
        var total = (long)(rate * duration.TotalSeconds);
        var samples = new LatencySamples();
        await using var consuming = await ChannelAsync(queue);
        var receiving = ReceiveAsync(consuming, queue, total + PacerProcess.Untimed(rate, duration), (body, now) =>
        {
            var sent = BitConverter.ToInt64(body.Span);
            if (!PacerProcess.IsWarmUp(sent)) lock (samples) samples.Add(sent, now);
        }, duration + TimeSpan.FromSeconds(60), cancellationToken);
        await PacerProcess.RunAsync("rabbitmq", $"amqp://guest:guest@127.0.0.1:{_port}/", queue, persistent: Durable, rate, duration, cancellationToken);
        await receiving;
        if (samples.Count < total) throw new InvalidOperationException($"rabbitmq end-to-end: received {samples.Count} of {total}");
        return samples;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }
}
