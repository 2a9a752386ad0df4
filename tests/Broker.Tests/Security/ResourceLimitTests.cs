using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Shop.Broker.Tests.Security;

/// <summary>No client can take the broker down: connection caps, a bounded budget of request bytes, idle connections closed.</summary>
public sealed class ResourceLimitTests(ITestOutputHelper output)
{
    /// <summary>A connection from <paramref name="from"/> that sends ApiVersions: served when answered, not when the broker hung up.</summary>
    private static async Task<(RawKafkaConnection Connection, bool Served)> ConnectAsync(int port, IPAddress from)
    {
        var connection = await RawKafkaConnection.ConnectAsync(port, from);
        try
        {
            await connection.SendRequestAsync(apiKey: 18, version: 0, correlationId: 1, body: []);
        }
        catch (IOException)
        {
            return (connection, false);
        }
        return (connection, await connection.ReadResponseAsync() is not null);
    }

    private static async Task<string?> RoundTripAsync(string bootstrap, string topic)
    {
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap }).Build())
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "still served" });
        }
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "limits" }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        return consumer.Consume(TimeSpan.FromSeconds(30))?.Message.Value;
    }

    [Fact]
    public async Task Connections_over_the_caps_are_closed_on_arrival_and_the_others_keep_being_served()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:MaxConnections=12", "--Broker:MaxConnectionsPerIp=5");
        var first = IPAddress.Parse("127.0.0.1");
        var second = IPAddress.Parse("127.0.0.2"); // loopback too: a second client address on one machine
        var clients = new List<RawKafkaConnection>();
        try
        {
            var fromFirst = new List<bool>();
            for (var i = 0; i < 7; i++)
            {
                var (client, served) = await ConnectAsync(broker.Port, first);
                clients.Add(client);
                fromFirst.Add(served);
            }
            Assert.Equal([true, true, true, true, true, false, false], fromFirst); // 5 per address

            var fromSecond = new List<bool>();
            for (var i = 0; i < 9; i++)
            {
                var (client, served) = await ConnectAsync(broker.Port, second);
                clients.Add(client);
                fromSecond.Add(served);
            }
            // Five more from the other address, but only seven fit under the total of 12; the 5 + 5 served hold them.
            Assert.Equal(5, fromSecond.Count(s => s));
            Assert.True(fromSecond.Take(5).All(s => s));
            await broker.WaitForOutputAsync("Broker:MaxConnectionsPerIp");
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
        Assert.Equal("still served", await RoundTripAsync(broker.BootstrapServers, "after-the-crowd"));
    }

    [Fact]
    public async Task Many_large_frames_at_once_wait_for_the_request_budget_and_memory_stays_bounded()
    {
        const int frameBytes = 16 << 20;
        const int connections = 40; // 640 MiB if each were buffered at once (measured without the budget: RSS +900 MiB)
        await using var broker = await BrokerProcess.StartAsync("--Broker:MaxFrameBytes=20000000", "--Broker:MaxInFlightRequestBytes=40000000");
        Assert.Equal("still served", await RoundTripAsync(broker.BootstrapServers, "before")); // warm: JIT, pools
        var baseline = broker.ResidentBytes();

        // Each frame is a Produce request whose body is garbage: it is read whole, then refused.
        var frame = new byte[4 + frameBytes];
        BinaryPrimitives.WriteInt32BigEndian(frame, frameBytes);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), 0);  // Produce
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 7);  // v7
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(12), 4); // client id "hogs"
        "hogs"u8.CopyTo(frame.AsSpan(14));
        frame.AsSpan(18).Fill(0x7f);

        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, broker.ResidentBytes());
                await Task.Delay(20);
            }
        });
        var hogs = Enumerable.Range(0, connections).Select(async _ =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, broker.Port);
            try
            {
                await client.GetStream().WriteAsync(frame);
                _ = await client.GetStream().ReadAsync(new byte[1]); // until the broker hangs up
            }
            catch (IOException)
            {
                // the broker closed it after reading the frame: expected
            }
        }).ToList();

        var served = await RoundTripAsync(broker.BootstrapServers, "during"); // while the hogs wait their turn
        await Task.WhenAll(hogs).WaitAsync(TimeSpan.FromMinutes(2));
        await sampling.CancelAsync();
        await sampler;

        output.WriteLine($"broker RSS: {baseline >> 20} MiB before, {peak >> 20} MiB at most while {connections} clients sent {frameBytes >> 20} MiB frames ({connections * (frameBytes >> 20)} MiB)");
        Assert.Equal("still served", served);
        // The budget is 40 MB; the rest of the growth is garbage of copied frames the GC has not taken back yet.
        Assert.True(peak - baseline < 400L << 20, $"RSS grew by {(peak - baseline) >> 20} MiB");
        await broker.WaitForOutputAsync("malformed API key 0 v7 request"); // each garbage frame was read whole, then refused
    }

    [Fact]
    public async Task A_connection_that_completes_no_request_is_closed_after_the_idle_time()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:ConnectionsMaxIdleMs=500");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, broker.Port);
        await client.GetStream().WriteAsync(new byte[] { 0, 0, 1, 0, 0 }); // the start of a frame, never finished (slowloris)

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = await client.GetStream().ReadAsync(new byte[1], timeout.Token);

        Assert.Equal(0, read); // closed by the broker
        await broker.WaitForOutputAsync("Broker:ConnectionsMaxIdleMs");
    }
}
