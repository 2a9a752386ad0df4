using System.Text.Json;
using Confluent.Kafka;

namespace Shop.Broker.Tests.Groups;

/// <summary>Consumer groups with kafkajs and kcat: consume, commit, and resume after the commit.</summary>
public sealed class OtherClientGroupTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private void Produce(string topic, int from, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = fixture.Broker.BootstrapServers }).Build();
        for (var i = from; i < from + count; i++) producer.Produce(topic, new Message<Null, string> { Value = $"v{i}" });
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private long Committed(string group, string topic)
    {
        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = fixture.Broker.BootstrapServers, GroupId = group }).Build();
        return consumer.Committed([new TopicPartition(topic, 0)], TimeSpan.FromSeconds(10)).Single().Offset.Value;
    }

    [Fact]
    public async Task A_kafkajs_group_consumer_consumes_commits_and_resumes_after_its_commit()
    {
        Produce("kafkajs-group", 0, 5);
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        async Task<List<string>> ConsumeAsync(int count)
        {
            var run = await ExternalTool.RunAsync("node", ["group-consume.js", fixture.Broker.BootstrapServers, "kafkajs-group", "js-group", count.ToString()],
                workingDirectory: clients);
            Assert.True(run.ExitCode == 0, $"{run.Stdout}\n{run.Stderr}");
            return JsonSerializer.Deserialize<List<string>>(run.Stdout)!;
        }

        Assert.Equal(["v0", "v1", "v2", "v3", "v4"], await ConsumeAsync(5));
        Assert.Equal(5, Committed("js-group", "kafkajs-group"));
        Produce("kafkajs-group", 5, 3);
        Assert.Equal(["v5", "v6", "v7"], await ConsumeAsync(3));
    }

    [Fact]
    public async Task Kcat_consumes_as_a_group_and_commits()
    {
        Produce("kcat-group", 0, 5);
        var run = await ExternalTool.RunAsync("kcat",
            ["-b", fixture.Broker.BootstrapServers, "-G", "kcat-group-id", "-X", "auto.offset.reset=earliest", "-e", "-q", "-u", "kcat-group"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(["v0", "v1", "v2", "v3", "v4"], run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(5, Committed("kcat-group-id", "kcat-group"));
    }
}
