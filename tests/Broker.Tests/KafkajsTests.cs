using System.Text.Json;
using Confluent.Kafka;

namespace Shop.Broker.Tests;

/// <summary>kafkajs 2.2.4 (tests/clients) against the real broker.</summary>
public sealed class KafkajsTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    [Fact]
    public async Task Kafkajs_admin_creates_and_lists_topics_and_its_producer_sends_a_batch()
    {
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        var run = await ExternalTool.RunAsync("node", ["produce-and-admin.js", fixture.Broker.BootstrapServers, "kafkajs-topic"], workingDirectory: clients);
        Assert.True(run.ExitCode == 0, $"{run.Stdout}\n{run.Stderr}");

        using var summary = JsonDocument.Parse(run.Stdout);
        Assert.True(summary.RootElement.GetProperty("created").GetBoolean());
        Assert.Contains("kafkajs-topic", summary.RootElement.GetProperty("topics").EnumerateArray().Select(t => t.GetString()));
        var results = summary.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.All(results, r => Assert.Equal(0, r.GetProperty("errorCode").GetInt32()));

        // What kafkajs wrote is what a librdkafka consumer reads.
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = fixture.Broker.BootstrapServers, GroupId = "x" }).Build();
        var total = 0L;
        for (var p = 0; p < 2; p++)
        {
            total += consumer.QueryWatermarkOffsets(new TopicPartition("kafkajs-topic", p), TimeSpan.FromSeconds(10)).High.Value;
        }
        Assert.Equal(50, total);
    }
}
