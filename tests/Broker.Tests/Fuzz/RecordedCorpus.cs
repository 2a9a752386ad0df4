using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Shop.Broker.Tests.Durability;

namespace Shop.Broker.Tests.Fuzz;

/// <summary>
/// The fuzzer's seeds: request frames recorded from real clients (Confluent.Kafka producing with
/// every codec, a consumer group, the AdminClient's calls, SASL, kcat) through a proxy in front of
/// a real broker. Recorded afresh for each run, so they follow the clients' versions.
/// </summary>
public sealed class RecordedCorpus : IAsyncLifetime
{
    private readonly ConcurrentQueue<byte[]> _frames = new();

    /// <summary>Frames without their size prefix, as <see cref="Apis.ApiRegistry"/> takes them.</summary>
    public IReadOnlyList<byte[]> Frames { get; private set; } = [];

    public async Task InitializeAsync()
    {
        // The proxies first, so that the broker can advertise them: clients then stay on the proxy.
        var port = LoopbackPort.Free();
        var saslPort = LoopbackPort.Free();
        await using var plain = new ResponseDroppingProxy(port, drops: 0, onRequest: frame => _frames.Enqueue(frame[4..]));
        await using var sasl = new ResponseDroppingProxy(saslPort, drops: 0, onRequest: frame => _frames.Enqueue(frame[4..]));
        var dataDir = Directory.CreateTempSubdirectory("shop-fuzz-seeds-").FullName;
        try
        {
            await using (await BrokerProcess.StartOnAsync(dataDir, port, $"--Broker:AdvertisedPort={plain.Port}",
                $"--Broker:Listeners=SASL_PLAINTEXT://localhost:{saslPort}", "--Broker:Users:fuzz=fuzz-password"))
            {
                await ExerciseAsync($"localhost:{plain.Port}");
                await ExerciseSaslAsync($"localhost:{sasl.Port}"); // its first connection, through the proxy, authenticates
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
        Frames = [.. _frames];
    }

    private static async Task ExerciseAsync(string bootstrap)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "seeds", NumPartitions = 2, Configs = new() { ["cleanup.policy"] = "compact" } }]);
        foreach (var codec in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
        {
            using var producer = new ProducerBuilder<string, string>(new ProducerConfig
            {
                BootstrapServers = bootstrap, CompressionType = codec, EnableIdempotence = true, LingerMs = 5,
            }).Build();
            for (var i = 0; i < 20; i++)
                producer.Produce("seeds", new Message<string, string> { Key = $"k{i % 5}", Value = $"value {i} {codec}", Headers = [new Header("h", [1, 2])] });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = "seed-readers", AutoOffsetReset = AutoOffsetReset.Earliest, GroupInstanceId = "seed-1",
        }).Build())
        {
            consumer.Subscribe("seeds");
            for (var i = 0; i < 20 && consumer.Consume(TimeSpan.FromSeconds(10)) is { } record; i++) consumer.Commit(record);
            consumer.OffsetsForTimes([new TopicPartitionTimestamp("seeds", 0, new Timestamp(DateTime.UtcNow.AddMinutes(-1)))], TimeSpan.FromSeconds(10));
            consumer.Close();
        }
        var topic = new ConfigResource { Type = ResourceType.Topic, Name = "seeds" };
        await admin.DescribeConfigsAsync([topic]);
        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [topic] = [new ConfigEntry { Name = "retention.ms", Value = "100000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "seeds", IncreaseTo = 3 }]);
        await admin.DeleteRecordsAsync([new TopicPartitionOffset("seeds", 1, 1)]);
        await admin.ListConsumerGroupsAsync();
        await admin.DescribeConsumerGroupsAsync(["seed-readers"]);
        await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("seed-readers", [new TopicPartition("seeds", 0)])]);
        await Swallow(() => admin.DeleteConsumerGroupOffsetsAsync("seed-readers", [new TopicPartition("seeds", 0)]));
        await Swallow(() => admin.CreateAclsAsync([new AclBinding
        {
            Pattern = new ResourcePattern { Type = Confluent.Kafka.Admin.ResourceType.Topic, Name = "seeds", ResourcePatternType = ResourcePatternType.Prefixed },
            Entry = new AccessControlEntry { Principal = "User:x", Host = "*", Operation = AclOperation.Read, PermissionType = AclPermissionType.Allow },
        }]));
        await Swallow(() => admin.AlterUserScramCredentialsAsync([new UserScramCredentialUpsertion
        {
            User = "seed", Password = Encoding.UTF8.GetBytes("pw"), ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha256, Iterations = 4096 },
        }]));
        await admin.DeleteTopicsAsync(["seeds"]);
        await ExternalTool.RunAsync("kcat", ["-b", bootstrap, "-t", "kcat-seeds", "-P", "-z", "gzip"], stdin: "a\nb\n");
        await ExternalTool.RunAsync("kcat", ["-b", bootstrap, "-t", "kcat-seeds", "-C", "-e", "-q"]);
    }

    private static async Task ExerciseSaslAsync(string bootstrap)
    {
        foreach (var mechanism in new[] { SaslMechanism.ScramSha512, SaslMechanism.ScramSha256, SaslMechanism.Plain })
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig
            {
                BootstrapServers = bootstrap, SecurityProtocol = SecurityProtocol.SaslPlaintext, SaslMechanism = mechanism,
                SaslUsername = "fuzz", SaslPassword = "fuzz-password",
            }).Build();
            admin.GetMetadata(TimeSpan.FromSeconds(10));
        }
        await Task.CompletedTask;
    }

    /// <summary>Calls whose answer may be a refusal: only the request they send matters here.</summary>
    private static async Task Swallow(Func<Task> call)
    {
        try { await call(); } catch (KafkaException) { }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
