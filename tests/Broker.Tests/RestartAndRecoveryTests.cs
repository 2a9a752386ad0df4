using Confluent.Kafka;

namespace Shop.Broker.Tests;

/// <summary>Data survives restarts and crashes; a torn or garbage tail is cut back to the last whole batch.</summary>
public sealed class RestartAndRecoveryTests
{
    private static IProducer<string, string> Producer(BrokerProcess broker) =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, Acks = Acks.All, LingerMs = 0 }).Build();

    private static async Task ProduceAsync(BrokerProcess broker, string topic, int from, int count)
    {
        using var producer = Producer(broker);
        for (var i = from; i < from + count; i++)
        {
            // One batch per record (awaited one by one) so that a cut tail loses whole records.
            var result = await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"v{i}" });
            Assert.Equal(i, result.Offset.Value);
        }
    }

    private static List<string> ReadAll(BrokerProcess broker, string topic)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "reader",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is null) continue;
            if (result.IsPartitionEOF) break;
            Assert.Equal(values.Count, result.Offset.Value);
            values.Add(result.Message.Value);
        }
        return values;
    }

    private static string ActiveLog(BrokerProcess broker, string topic) =>
        Directory.EnumerateFiles(Path.Combine(broker.DataDir, $"{topic}-0"), "*.log").Order().Last();

    [Fact]
    public async Task Everything_is_readable_after_a_restart_and_offsets_continue()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await ProduceAsync(broker, "restart", 0, 20);
        await broker.RestartAsync();
        Assert.False(File.Exists(Path.Combine(broker.DataDir, ".clean-shutdown")), "the marker is consumed on start");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"v{i}"), ReadAll(broker, "restart"));
        await ProduceAsync(broker, "restart", 20, 5);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"v{i}"), ReadAll(broker, "restart"));
        Assert.True(File.Exists(Path.Combine(broker.DataDir, "restart-0", "00000000000000000000.log")));
    }

    [Fact]
    public async Task A_torn_tail_is_cut_back_to_the_last_whole_batch()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await ProduceAsync(broker, "torn", 0, 10);
        await broker.KillAsync();
        var log = ActiveLog(broker, "torn");
        using (var file = new FileStream(log, FileMode.Open)) file.SetLength(file.Length - 5); // half a write

        await broker.StartAsync();
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"v{i}"), ReadAll(broker, "torn"));
        await broker.WaitForOutputAsync("bytes after offset 9"); // the rest of the torn 10th batch was cut
        await ProduceAsync(broker, "torn", 9, 3); // the lost record's offset is given again
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"v{i}"), ReadAll(broker, "torn"));
    }

    [Fact]
    public async Task Trailing_garbage_is_cut_and_whole_batches_are_kept()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await ProduceAsync(broker, "garbage", 0, 10);
        await broker.StopAsync();
        var garbage = new byte[300];
        new Random(7).NextBytes(garbage);
        File.AppendAllBytes(ActiveLog(broker, "garbage"), garbage);
        File.Delete(Path.ChangeExtension(ActiveLog(broker, "garbage"), ".index"));

        await broker.StartAsync();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}"), ReadAll(broker, "garbage"));
        await ProduceAsync(broker, "garbage", 10, 2);
        Assert.Equal(12, ReadAll(broker, "garbage").Count);
    }

    [Fact]
    public async Task Segments_roll_by_size_and_reads_cross_them()
    {
        await using var broker = await BrokerProcess.StartAsync("--Broker:SegmentBytes=2048");
        await ProduceAsync(broker, "rolling", 0, 60);
        var segments = Directory.EnumerateFiles(Path.Combine(broker.DataDir, "rolling-0"), "*.log").Select(Path.GetFileName).Order().ToList();
        Assert.True(segments.Count > 2, $"expected several segments, got {string.Join(", ", segments)}");
        Assert.Equal("00000000000000000000.log", segments[0]);
        Assert.All(segments, s => Assert.Matches(@"^\d{20}\.log$", s));
        await broker.RestartAsync();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"v{i}"), ReadAll(broker, "rolling"));
    }
}
