using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>What a partition keeps open on the real disk: file descriptors are a limit (ulimit -n) shared by every connection.</summary>
public sealed class SegmentFilesTests
{
    /// <summary>This process's open files below <paramref name="directory"/>, by extension.</summary>
    private static ILookup<string, string> OpenFiles(string directory) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(fd => { try { return new FileInfo(fd).LinkTarget; } catch (IOException) { return null; } })
            .Where(target => target is not null && target.StartsWith(directory, StringComparison.Ordinal))
            .ToLookup(target => Path.GetExtension(target!), target => target!);

    [Fact]
    public async Task Only_the_segment_being_written_keeps_its_index_files_open_and_older_ones_are_still_found_by_offset()
    {
        using var storage = StorageHarness.Real();
        var log = storage.Logs.CreateTopic("t", 1, new Dictionary<string, string?> { [TopicConfig.SegmentBytes] = "8192" }).Partitions[0];
        for (var i = 0; i < 60; i++) await log.AppendAsync(StorageHarness.Batch($"v{i}-" + new string('x', 900)), durable: true);
        Assert.True(log.SegmentCount >= 5, $"{log.SegmentCount} segments");

        await Eventually.GetAsync(() => OpenFiles(log.Directory)[".index"].Count(), open => open == 1,
            open => $"{open} .index files open of {log.SegmentCount} segments; only the active one's should be", TimeSpan.FromSeconds(15));
        var open = OpenFiles(log.Directory);
        Assert.Single(open[".timeindex"]);
        Assert.Equal(log.SegmentCount, open[".log"].Count());
        Assert.Equal(["v7-" + new string('x', 900)], StorageHarness.Values(log.Read(7, 1024).Records).Take(1));

        storage.Restart(); // a clean stop and start: the older segments' indexes are trusted and closed again

        var reopened = storage.Logs.Partition("t", 0);
        open = OpenFiles(reopened.Directory);
        Assert.Single(open[".index"]);
        Assert.Single(open[".timeindex"]);
        Assert.Equal(["v31-" + new string('x', 900)], StorageHarness.Values(reopened.Read(31, 1024).Records).Take(1));
    }
}
