using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>
/// Reads located from the in-memory record of recent batches (<see cref="RecentBatches"/>) must be
/// exactly what a scan of the file gives: the same log is read live, then again after a restart,
/// when its segments know nothing of recent batches and every read scans the file.
/// </summary>
public sealed class RecentBatchesTests
{
    private static readonly Dictionary<string, string?> NoConfigs = [];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_at_any_offset_and_limit_match_a_scan_of_the_file(int seed)
    {
        var random = new Random(seed);
        using var storage = StorageHarness.Simulated();
        var log = storage.Logs.CreateTopic("t", 1, NoConfigs).Partitions[0];
        // More batches than the record keeps, of 1-5 records each, so that reads start before, inside and after it.
        var value = 0;
        for (var batch = 0; batch < 300; batch++)
        {
            var records = Enumerable.Range(0, random.Next(1, 6)).Select(_ => $"v{value++}-{new string('x', random.Next(0, 200))}").ToArray();
            _ = log.AppendAsync(StorageHarness.Batch(records), durable: false);
            if (random.Next(4) == 0) storage.SimulationScheduler.RunAll(); // the high watermark trails the log end at times
        }
        storage.SimulationScheduler.RunAll(); // all visible, as after the restart below
        var reads = Enumerable.Range(0, 2_000)
            .Select(_ => (Offset: (long)random.Next(0, value + 2), MaxBytes: random.Next(1, 4_000), MinOneBatch: random.Next(2) == 0))
            .Where(r => r.Offset <= log.LogEndOffset)
            .ToList();
        var live = reads.Select(r => Describe(log.Read(r.Offset, r.MaxBytes, r.MinOneBatch))).ToList();

        storage.Restart();
        var reopened = storage.Logs.Partition("t", 0);
        for (var i = 0; i < reads.Count; i++)
        {
            var (offset, maxBytes, minOneBatch) = reads[i];
            var scanned = Describe(reopened.Read(offset, maxBytes, minOneBatch));
            Assert.True(scanned == live[i],
                $"read {i} (offset {offset}, max {maxBytes} B, min one batch {minOneBatch}) live: {live[i]}, from the file: {scanned}. " +
                $"Replay: dotnet test tests/Broker.Tests --filter \"FullyQualifiedName~{nameof(RecentBatchesTests)}\" (seed {seed})");
        }
    }

    private static string Describe(FetchedRecords read)
    {
        var values = read.Records.IsEmpty ? [] : StorageHarness.Values(read.Records);
        return $"{read.Records.Length} B [{string.Join(",", values.Select(v => v.Split('-')[0]))}]";
    }
}
