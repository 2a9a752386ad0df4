using Shop.Broker.Storage;

namespace Shop.Broker.Tests.Storage;

/// <summary>Topic configs as Kafka's tools set them: every documented name, sources, incremental changes, all kept across restarts.</summary>
public sealed class TopicConfigTests
{
    [Fact]
    public void Every_documented_topic_config_is_accepted_described_with_its_source_and_kept()
    {
        using var storage = StorageHarness.Simulated();
        storage.Options.SegmentBytes = 4096; // a broker setting gives this default
        storage.Restart();
        var configs = new Dictionary<string, string?>
        {
            ["compression.type"] = "zstd", ["delete.retention.ms"] = "1000", ["min.insync.replicas"] = "1",
            ["min.cleanable.dirty.ratio"] = "0.3", ["preallocate"] = "true", ["message.timestamp.difference.max.ms"] = "60000",
            ["retention.ms"] = "3600000",
        };
        storage.Logs.CreateTopic("tools", 1, configs);
        storage.Restart();

        Assert.True(storage.Logs.TryGetTopic("tools", out var topic));
        var described = topic.DescribeConfigs().ToDictionary(e => e.Name);
        Assert.True(described.Count >= 30, $"only {described.Count} configs described");
        foreach (var (name, value) in configs)
        {
            Assert.Equal(value, described[name].Value);
            Assert.Equal(ConfigSource.Topic, described[name].Source);
        }
        Assert.Equal(("4096", ConfigSource.StaticBroker), (described["segment.bytes"].Value, described["segment.bytes"].Source));
        Assert.Equal(("0", ConfigSource.Default), (described["segment.jitter.ms"].Value, described["segment.jitter.ms"].Source));
        Assert.Throws<InvalidConfigException>(() => storage.Logs.CreateTopic("bad", 1, new Dictionary<string, string?> { ["compression.type"] = "brotli" }));
        Assert.Throws<InvalidConfigException>(() => storage.Logs.CreateTopic("bad", 1, new Dictionary<string, string?> { ["no.such.config"] = "1" }));
    }

    [Fact]
    public void Incremental_changes_set_delete_append_and_subtract_durably()
    {
        using var storage = StorageHarness.Simulated();
        storage.Logs.CreateTopic("t", 1, new Dictionary<string, string?> { ["retention.ms"] = "1000", ["delete.retention.ms"] = "5" });

        storage.Logs.IncrementalAlterTopicConfigs("t",
        [
            ("retention.bytes", ConfigOperation.Set, "10000"),
            ("delete.retention.ms", ConfigOperation.Delete, null),
            ("cleanup.policy", ConfigOperation.Append, "compact"),
        ]);
        storage.Restart();
        Assert.True(storage.Logs.TryGetTopic("t", out var topic));
        Assert.Equal(new Dictionary<string, string> { ["retention.ms"] = "1000", ["retention.bytes"] = "10000", ["cleanup.policy"] = "delete,compact" },
            topic.Configs.ToDictionary());
        Assert.True(topic.Settings is { Compact: true, Delete: true, RetentionBytes: 10000 });

        storage.Logs.IncrementalAlterTopicConfigs("t", [("cleanup.policy", ConfigOperation.Subtract, "delete")]);
        Assert.Equal("compact", topic.Configs["cleanup.policy"]);
        Assert.True(topic.Settings is { Compact: true, Delete: false });

        // All or nothing: a bad change leaves the others undone.
        Assert.Throws<InvalidConfigException>(() => storage.Logs.IncrementalAlterTopicConfigs("t",
            [("retention.ms", ConfigOperation.Set, "5"), ("retention.ms", ConfigOperation.Append, "6")]));
        Assert.Equal("1000", topic.Configs["retention.ms"]);
    }
}
