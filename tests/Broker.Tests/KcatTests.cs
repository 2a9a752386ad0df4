namespace Shop.Broker.Tests;

/// <summary>kcat (librdkafka 2.0 era) against the real broker.</summary>
public sealed class KcatTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    [Fact]
    public async Task Lines_piped_to_the_producer_come_back_identical_and_in_order()
    {
        var lines = Enumerable.Range(1, 200).Select(i => $"line {i}: {Guid.NewGuid()}").ToList();
        var produce = await ExternalTool.RunAsync("kcat", ["-b", fixture.Broker.BootstrapServers, "-t", "kcat-lines", "-P"],
            stdin: string.Join('\n', lines) + "\n");
        Assert.True(produce.ExitCode == 0, produce.Stderr);

        var consume = await ExternalTool.RunAsync("kcat", ["-b", fixture.Broker.BootstrapServers, "-t", "kcat-lines", "-C", "-e", "-q"]);
        Assert.True(consume.ExitCode == 0, consume.Stderr);
        Assert.Equal(lines, consume.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Listing_shows_the_broker_its_topics_and_their_partitions()
    {
        var produce = await ExternalTool.RunAsync("kcat", ["-b", fixture.Broker.BootstrapServers, "-t", "kcat-listed", "-P"], stdin: "x\n");
        Assert.True(produce.ExitCode == 0, produce.Stderr);

        var list = await ExternalTool.RunAsync("kcat", ["-b", fixture.Broker.BootstrapServers, "-L"]);
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains($"broker 1 at localhost:{fixture.Broker.Port} (controller)", list.Stdout);
        Assert.Contains("topic \"kcat-listed\" with 1 partitions:", list.Stdout);
        Assert.Contains("partition 0, leader 1, replicas: 1, isrs: 1", list.Stdout);
    }
}
