using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using NATS.Client.JetStream;
using NATS.Net;
using RabbitMQ.Client;
using StackExchange.Redis;

namespace Shop.Bench.Systems;

/// <summary>
/// The fixed-rate publisher of the end-to-end workloads, in a process of its own (this program,
/// run as <c>bench pace …</c>), for ours and every peer alike. In the bench's process it competed
/// with the consumer whose latency it measures, and its busy-wait took one of the two cores. Here it
/// sleeps between sends: every millisecond or so it sends what has come due, each message carrying
/// the moment it was sent (<see cref="Stopwatch.GetTimestamp"/> is CLOCK_MONOTONIC on Linux, the
/// same clock in every process). Before pacing it sends one warm-up message with the value 0, so
/// connecting is not timed, then paces warm-up messages (value 0 too) for <see cref="WarmUpFor"/>: the
/// first second of a run paced cold had 4 × the p99 of the last (the pacer's, the consumer's and, for
/// ours, the broker's code still being compiled). Receivers skip them (<see cref="IsWarmUp"/>) and
/// expect <see cref="Untimed"/> of them.
/// </summary>
public static class PacerProcess
{
    public const string Command = "pace";

    public static bool IsWarmUp(long sent) => sent == 0;

    /// <summary>How long the pacer paces untimed messages before the timed ones: 2 s, or the run's duration if shorter (quick runs).</summary>
    public static TimeSpan WarmUpFor(TimeSpan duration) => duration < TimeSpan.FromSeconds(2) ? duration : TimeSpan.FromSeconds(2);

    /// <summary>How many warm-up messages (value 0) come before the timed ones.</summary>
    public static long Untimed(double rate, TimeSpan duration) => 1 + (long)(rate * WarmUpFor(duration).TotalSeconds);

    /// <summary>Runs the pacer and waits for it; returns how many timed messages it sent.</summary>
    /// <param name="system">kafka, wire (our own Kafka frames; the address is the broker's loopback port), nats, redis or rabbitmq.</param>
    /// <param name="address">Where the system listens (bootstrap servers, URL, host:port).</param>
    /// <param name="target">Topic, subject, stream or queue.</param>
    public static async Task<long> RunAsync(string system, string address, string target, bool persistent, double rate, TimeSpan duration,
        CancellationToken cancellationToken)
    {
        var start = SelfStartInfo();
        foreach (var argument in new[] { Command, system, address, target, persistent ? "persistent" : "transient",
                     rate.ToString(CultureInfo.InvariantCulture), duration.TotalSeconds.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("the pacer process did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        var sent = (await output).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("sent ", StringComparison.Ordinal));
        if (process.ExitCode != 0 || sent is null)
            throw new InvalidOperationException($"the {system} pacer failed (exit {process.ExitCode}): {(await errors).Trim()}");
        return long.Parse(sent[5..], CultureInfo.InvariantCulture);
    }

    /// <summary>This program again: its apphost, or <c>dotnet Bench.dll</c>.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program this is");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) start.ArgumentList.Add(typeof(PacerProcess).Assembly.Location);
        return start;
    }

    /// <summary>The pacer's own entry point: <c>pace system address target persistent|transient rate seconds</c>.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        if (args.Length != 7)
        {
            Console.Error.WriteLine("usage: bench pace <kafka|wire|nats|redis|rabbitmq> <address> <target> <persistent|transient> <rate/s> <seconds>");
            return 2;
        }
        var (system, address, target, persistent) = (args[1], args[2], args[3], args[4] == "persistent");
        var rate = double.Parse(args[5], CultureInfo.InvariantCulture);
        var duration = TimeSpan.FromSeconds(double.Parse(args[6], CultureInfo.InvariantCulture));
        var publisher = await ConnectAsync(system, address, target, persistent);
        long sent;
        try
        {
            await publisher.Send(0); // warm-up: connected, metadata known
            await PaceAsync(rate, WarmUpFor(duration), _ => publisher.Send(0));
            sent = await PaceAsync(rate, duration, publisher.Send);
        }
        finally
        {
            await publisher.Close();
        }
        Console.WriteLine($"sent {sent}");
        return 0;
    }

    /// <summary>Sends what is due, sleeps about a millisecond, again; at most 1,024 sends unacknowledged.</summary>
    private static async Task<long> PaceAsync(double rate, TimeSpan duration, Func<long, Task> send)
    {
        var total = (long)(rate * duration.TotalSeconds);
        var interval = Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        var pending = new List<Task>();
        long next = 0;
        while (next < total)
        {
            var now = Stopwatch.GetTimestamp();
            while (next < total && start + (long)(next * interval) <= now)
            {
                pending.Add(send(Stopwatch.GetTimestamp()));
                next++;
            }
            if (pending.Count >= 1024)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
            if (next < total) Thread.Sleep(1);
        }
        await Task.WhenAll(pending);
        return total;
    }

    private static async Task<Publisher> ConnectAsync(string system, string address, string target, bool persistent)
    {
        switch (system)
        {
            case "kafka":
            {
                var producer = new ProducerBuilder<Null, long>(new ProducerConfig
                {
                    BootstrapServers = address, Acks = Acks.Leader, LingerMs = 0, SocketNagleDisable = true,
                }).SetValueSerializer(new TicksSerializer()).Build();
                // Produce only queues the message: the pacer never waits for the broker, except for
                // the first message (connected, metadata known).
                var connected = false;
                return new Publisher(sent =>
                {
                    producer.Produce(target, new Message<Null, long> { Value = sent });
                    if (!connected) producer.Flush(TimeSpan.FromSeconds(30));
                    connected = true;
                    return Task.CompletedTask;
                }, () =>
                {
                    producer.Flush(TimeSpan.FromSeconds(30));
                    producer.Dispose();
                    return ValueTask.CompletedTask;
                });
            }
            case "wire":
            {
                // Our own Kafka frames (WirePublisher): the broker without librdkafka's queues and threads.
                var publisher = await WirePublisher.ConnectAsync(int.Parse(address, CultureInfo.InvariantCulture), target);
                return new Publisher(publisher.Send, publisher.DisposeAsync);
            }
            case "nats":
            {
                var nats = new NatsClient(address);
                await nats.ConnectAsync();
                var js = nats.CreateJetStreamContext();
                return new Publisher(async sent => (await js.PublishAsync(target, BitConverter.GetBytes(sent))).EnsureSuccess(), nats.DisposeAsync);
            }
            case "redis":
            {
                var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { address }, AsyncTimeout = 30_000 });
                var db = redis.GetDatabase();
                return new Publisher(sent => db.StreamAddAsync(target, "t", sent), redis.DisposeAsync);
            }
            case "rabbitmq":
            {
                var connection = await new ConnectionFactory { Uri = new Uri(address) }.CreateConnectionAsync();
                var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
                var properties = new BasicProperties { Persistent = persistent };
                return new Publisher(sent => channel.BasicPublishAsync("", target, false, properties, BitConverter.GetBytes(sent)).AsTask(), async () =>
                {
                    await channel.DisposeAsync();
                    await connection.DisposeAsync();
                });
            }
            default:
                throw new ArgumentException($"unknown system '{system}': kafka, wire, nats, redis or rabbitmq");
        }
    }

    /// <param name="Close">Waits for what is still unsent, then disconnects.</param>
    private sealed record Publisher(Func<long, Task> Send, Func<ValueTask> Close);

    public sealed class TicksSerializer : ISerializer<long>
    {
        public byte[] Serialize(long data, SerializationContext context) => BitConverter.GetBytes(data);
    }
}
