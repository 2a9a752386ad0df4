using System.Buffers.Binary;
using System.IO.Hashing;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Broker.Protocol;
using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// Batches a client can send that pass the CRC check but are hostile inside: records that do not
/// parse, and compressed records that expand without bound. The broker stores them (it never
/// decompresses on produce) and must survive reading them later, in compaction and timestamp lookups.
/// </summary>
public sealed class HostileBatchTests
{
    /// <summary>A batch of <paramref name="count"/> records whose record bytes are <paramref name="garbage"/>, with a valid CRC.</summary>
    private static byte[] GarbageBatch(byte[] garbage, int count, long timestamp)
    {
        var template = RecordBatchBuilder.Build([new Shop.Broker.Protocol.KeyValueRecord([1], [2])], timestamp);
        var batch = new byte[RecordBatch.HeaderSize + garbage.Length];
        template.AsSpan(0, RecordBatch.HeaderSize).CopyTo(batch);
        garbage.CopyTo(batch, RecordBatch.HeaderSize);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), batch.Length - RecordBatch.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(23), count - 1); // last offset delta
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(57), count);
        BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(17), Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, batch.AsSpan(21)));
        return batch;
    }

    [Theory]
    [InlineData(RecordCodecs.Gzip)]
    [InlineData(RecordCodecs.Snappy)]
    [InlineData(RecordCodecs.Lz4)]
    [InlineData(RecordCodecs.Zstd)]
    public void Records_that_expand_past_the_cap_are_refused_without_being_held(int codec)
    {
        var bomb = RecordCodecs.Compress(codec, new byte[8 << 20]); // 8 MiB of zeros, a few kilobytes compressed
        Assert.True(bomb.Length < 1 << 20);

        var refused = Assert.Throws<InvalidDataException>(() => RecordCodecs.Decompress(codec, bomb, maxBytes: 1 << 20));
        Assert.Contains("more than", refused.Message);
        Assert.Equal(8 << 20, RecordCodecs.Decompress(codec, bomb, maxBytes: 16 << 20).Length);
        Assert.Throws<InvalidDataException>(() => RecordCodecs.Decompress(codec, [1, 2, 3, 4, 5, 6, 7, 8]));
    }

    [Fact]
    public async Task Compaction_and_timestamp_lookups_survive_records_that_do_not_parse()
    {
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("hostile", 1, new Dictionary<string, string?>
        {
            [TopicConfig.CleanupPolicy] = "compact",
            [TopicConfig.SegmentBytes] = "1024",
        }).Partitions[0];
        for (var i = 0; i < 20; i++) await log.AppendAsync(StorageHarness.Batch(1000 + i, $"v{i % 2}"), durable: true);
        var hostile = await log.AppendAsync(GarbageBatch([0x7f, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], count: 1_000_000, timestamp: 5000), durable: true);
        for (var i = 20; i < 40; i++) await log.AppendAsync(StorageHarness.Batch(9000 + i, $"v{i % 2}"), durable: true);

        var removed = LogCleaner.Clean(log, DateTimeOffset.UtcNow, NullLogger.Instance);

        Assert.True(removed > 0); // the readable records were still compacted
        Assert.Equal((hostile.BaseOffset, 5000L), log.FindOffsetByTimestamp(4000)); // the batch itself is the answer
        var kept = log.Read(hostile.BaseOffset, 1 << 20).Records;
        Assert.Equal(hostile.BaseOffset, RecordBatch.ReadHeader(kept.Span).BaseOffset); // kept as it came: it is not ours to judge
    }
}
