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

    [Fact]
    public async Task Kafkajs_admin_manages_topic_configs_partitions_records_groups_and_offsets()
    {
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        var run = await ExternalTool.RunAsync("node", ["admin-tour.js", fixture.Broker.BootstrapServers, "kafkajs-admin-tour", "kafkajs-admin-group"], workingDirectory: clients);
        Assert.True(run.ExitCode == 0, $"{run.Stdout}\n{run.Stderr}");
        using var tour = JsonDocument.Parse(run.Stdout);
        var step = tour.RootElement;
        string Config(string when, string name) => step.GetProperty(when).GetProperty(name).GetProperty("value").GetString()!;

        Assert.True(step.GetProperty("created").GetBoolean());
        Assert.Equal(("compact", "3600000"), (Config("configsAtCreate", "cleanup.policy"), Config("configsAtCreate", "retention.ms")));
        // AlterConfigs sets the whole set: what it leaves out goes back to the default.
        Assert.Equal(("delete", "7200000"), (Config("configsAfterAlter", "cleanup.policy"), Config("configsAfterAlter", "retention.ms")));
        Assert.True(step.GetProperty("configsAfterAlter").GetProperty("cleanup.policy").GetProperty("isDefault").GetBoolean());
        Assert.Equal(3, step.GetProperty("partitions").GetInt32());
        Assert.Equal(("4", "10"), (step.GetProperty("offsetsAfterDeleteRecords").GetProperty("low").GetString(), step.GetProperty("offsetsAfterDeleteRecords").GetProperty("high").GetString()));

        Assert.Equal("consumer", step.GetProperty("listedWhileRunning").GetProperty("protocolType").GetString());
        Assert.Equal("Stable", step.GetProperty("describedWhileRunning").GetProperty("state").GetString());
        Assert.Equal(1, step.GetProperty("describedWhileRunning").GetProperty("members").GetInt32());
        Assert.Equal("10", step.GetProperty("committed").GetProperty("offset").GetString()); // records 4..9 read, committed after the last
        Assert.Equal("5", step.GetProperty("committedAfterSet").GetProperty("offset").GetString());
        Assert.Equal(0, step.GetProperty("deletedGroups")[0].GetProperty("errorCode").GetInt32());
        Assert.False(step.GetProperty("listedAfterDelete").GetBoolean());
        Assert.False(step.GetProperty("topicsAfterDelete").GetBoolean());
    }
}
