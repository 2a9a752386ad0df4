using System.Diagnostics;
using StackExchange.Redis;

namespace Shop.Bench.Systems;

/// <summary>Redis Streams (XADD / XRANGE / XREAD BLOCK) with an append-only file, fsync per write (always) or per second (everysec).</summary>
public sealed class RedisPeer : IPeer
{
    private const string Program = "/usr/bin/redis-server";
    private readonly ServerProcess _server;
    private readonly ConnectionMultiplexer _redis;
    private readonly string _endpoint;
    private string _stream = "";

    private RedisPeer(ServerProcess server, ConnectionMultiplexer redis, string endpoint, string appendFsync)
    {
        _server = server;
        _redis = redis;
        _endpoint = endpoint;
        Durable = appendFsync == "always";
        Name = $"redis {appendFsync}";
        Setting = $"Redis {(Durable ? "appendfsync always: each write fsynced before the reply" : "appendfsync everysec: fsync once a second")}";
    }

    public string Name { get; }

    public bool Durable { get; }

    public string Setting { get; }

    public static string? Missing => ServerProcess.Missing(Program);

    public static async Task<RedisPeer> StartAsync(string scratchDir, string appendFsync)
    {
        var port = LoopbackPort.Free();
        var dir = Directory.CreateDirectory(Path.Combine(scratchDir, $"redis-{appendFsync}-{Guid.NewGuid():N}")).FullName;
        var server = await ServerProcess.StartAsync(Program,
            ["--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", appendFsync,
             "--save", "", "--protected-mode", "no"], port, dir);
        var endpoint = $"127.0.0.1:{port}";
        var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { endpoint }, AsyncTimeout = 30_000, SyncTimeout = 30_000 });
        return new RedisPeer(server, redis, endpoint, appendFsync);
    }

    public async Task<(long Messages, double Seconds)> ProduceAsync(int size, int producers, TimeSpan duration, CancellationToken cancellationToken)
    {
        _stream = $"bench-{size}-{producers}";
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        var db = _redis.GetDatabase();
        return await PeerLoad.ProduceAsync(producers, 256, duration,
            _ => () => db.StreamAddAsync(_stream, "v", payload), cancellationToken);
    }

    public async Task<(long Messages, double Seconds)> ConsumeBacklogAsync(long expected, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        long count = 0;
        RedisValue from = "-";
        var watch = Stopwatch.StartNew();
        while (count < expected && !cancellationToken.IsCancellationRequested)
        {
            var entries = await db.StreamRangeAsync(_stream, from, "+", count: 10_000);
            if (entries.Length == 0) break;
            count += entries.Length;
            from = "(" + entries[^1].Id;
        }
        if (count != expected) throw new InvalidOperationException($"redis: read {count} of {expected}");
        return (count, watch.Elapsed.TotalSeconds);
    }

    public async Task<LatencySamples> PublishLatencyAsync(int count, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        var payload = new byte[1024];
        var samples = new LatencySamples(count);
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await db.StreamAddAsync("latency", "v", payload);
            samples.Add(start, Stopwatch.GetTimestamp());
        }
        return samples;
    }

    public async Task<LatencySamples> EndToEndAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        const string stream = "e2e";
        var samples = new LatencySamples();
        var total = (long)(rate * duration.TotalSeconds);
        // XREAD BLOCK holds its connection: the reader gets one of its own.
        // RESP2: XREAD's reply is then [[stream, [[id, [field, value]], …]]] whatever the server's version.
        await using var reader = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { _endpoint }, AsyncTimeout = 30_000, Protocol = RedisProtocol.Resp2,
        });
        var readerDb = reader.GetDatabase();
        var receiving = Task.Run(async () =>
        {
            var last = "$";
            var deadline = DateTime.UtcNow + duration + TimeSpan.FromSeconds(60);
            while (samples.Count < total && DateTime.UtcNow < deadline)
            {
                var result = await readerDb.ExecuteAsync("XREAD", "BLOCK", "200", "COUNT", "1000", "STREAMS", stream, last);
                var now = Stopwatch.GetTimestamp();
                if (result.IsNull) continue;
                foreach (var entry in (RedisResult[])((RedisResult[])((RedisResult[])result!)[0]!)[1]!)
                {
                    var parts = (RedisResult[])entry!;
                    last = (string)parts[0]!;
                    var sent = long.Parse((string)((RedisResult[])parts[1]!)[1]!);
                    if (!PacerProcess.IsWarmUp(sent)) samples.Add(sent, now);
                }
            }
        }, cancellationToken);
        await Task.Delay(200, cancellationToken); // the first XREAD is waiting
        await PacerProcess.RunAsync("redis", _endpoint, stream, persistent: true, rate, duration, cancellationToken);
        await receiving;
        if (samples.Count < total) throw new InvalidOperationException($"redis end-to-end: received {samples.Count} of {total}");
        return samples;
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _server.DisposeAsync();
    }
}
