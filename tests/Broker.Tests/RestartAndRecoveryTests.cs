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

    /// <summary>A segment file's length and where its batches end, read beside the broker that writes it.</summary>
    private static (long Length, long End) LengthAndEnd(string log)
    {
        using var file = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return (file.Length, EndOfBatches(file));
    }

    /// <summary>Where the batches of a segment file end: walks their length fields up to the first zero one.</summary>
    private static long EndOfBatches(FileStream file)
    {
        var header = new byte[12];
        long position = 0;
        while (position + header.Length <= file.Length)
        {
            file.Position = position;
            file.ReadExactly(header);
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(8));
            if (length == 0) break;
            position += header.Length + length;
        }
        return position;
    }

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
        using (var file = new FileStream(log, FileMode.Open))
        {
            // Half a write: the last batch's end never reached the disk (before the zeros the
            // broker may have written ahead of its log end, as after a real power cut).
            var end = EndOfBatches(file);
            file.Position = end - 5;
            file.Write(new byte[5]);
        }

        await broker.StartAsync();
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"v{i}"), ReadAll(broker, "torn"));
        await broker.WaitForOutputAsync("bytes after offset 9"); // the rest of the torn 10th batch was cut
        await ProduceAsync(broker, "torn", 9, 3); // the lost record's offset is given again
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"v{i}"), ReadAll(broker, "torn"));
    }

    [Fact]
    public async Task The_zeros_written_ahead_of_the_log_end_are_cut_off_by_a_clean_stop()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await ProduceAsync(broker, "ahead", 0, 10);
        var log = ActiveLog(broker, "ahead");
        await Eventually.TrueAsync(() => LengthAndEnd(log) is var (length, end) && length > end, "zeros written past the last batch");

        await broker.StopAsync();

        var (length, end) = LengthAndEnd(log);
        Assert.Equal(end, length);
        await broker.StartAsync();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}"), ReadAll(broker, "ahead"));
    }

    [Fact]
    public async Task After_kill_9_the_zeros_written_ahead_are_dropped_as_zeros_and_every_record_is_kept()
    {
        await using var broker = await BrokerProcess.StartAsync();
        await ProduceAsync(broker, "killed", 0, 10);
        var log = ActiveLog(broker, "killed");
        await Eventually.TrueAsync(() => LengthAndEnd(log) is var (length, end) && length > end, "zeros written past the last batch");

        await broker.KillAsync();
        await broker.StartAsync();

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}"), ReadAll(broker, "killed"));
        await broker.WaitForOutputAsync("bytes of zeros written ahead of its end");
        Assert.DoesNotContain("Recovered", broker.Output); // not reported as a torn tail
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
