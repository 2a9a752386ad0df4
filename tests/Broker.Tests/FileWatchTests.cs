using Confluent.Kafka;

namespace Shop.Broker.Tests;

/// <summary>
/// The broker reads its configuration once, at start, as Kafka reads server.properties. Reloading it
/// on change would watch the current directory and every folder below it with inotify, often the
/// data folder too (a broker started where its <c>./data</c> is, the bench's brokers under the repo),
/// and every log write would wake the watcher: a third more CPU per request at the wire bench.
/// </summary>
public sealed class FileWatchTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    [Fact]
    public async Task The_broker_watches_no_files_so_its_log_writes_wake_nothing()
    {
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build())
        {
            await producer.ProduceAsync("watched-nothing", new Message<Null, string> { Value = "written" });
        }

        var watchers = Directory.EnumerateFileSystemEntries($"/proc/{fixture.Broker.ProcessId}/fd")
            .Where(fd => new FileInfo(fd).LinkTarget == "anon_inode:inotify")
            .ToList();

        Assert.Empty(watchers);
    }
}
