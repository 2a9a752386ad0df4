using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests.Security;

/// <summary>A SASL broker with ACLs on: <c>admin</c> is a super user, the others may do only what ACLs allow.</summary>
public sealed class AclBrokerFixture : IAsyncLifetime
{
    public BrokerProcess Broker { get; private set; } = null!;

    public async Task InitializeAsync() => Broker = await BrokerProcess.StartAsync(
        "--Broker:SecurityProtocol=SASL_PLAINTEXT", "--Broker:AclsEnabled=true", "--Broker:SuperUsers=User:admin",
        "--Broker:Users:admin=admin-secret", "--Broker:Users:alice=wonderland", "--Broker:Users:bob=builder");

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}

/// <summary>ACLs as Kafka users meet them, through Confluent.Kafka against the real broker.</summary>
public sealed class AclTests(AclBrokerFixture fixture) : IClassFixture<AclBrokerFixture>
{
    private ClientConfig As(string user, string password) => new()
    {
        BootstrapServers = fixture.Broker.BootstrapServers,
        SecurityProtocol = SecurityProtocol.SaslPlaintext,
        SaslMechanism = SaslMechanism.ScramSha512,
        SaslUsername = user,
        SaslPassword = password,
    };

    private ClientConfig Admin => As("admin", "admin-secret");

    private ClientConfig Alice => As("alice", "wonderland");

    private static AclBinding Acl(ResourceType type, string name, ResourcePatternType pattern, string principal, AclOperation operation,
        AclPermissionType permission = AclPermissionType.Allow) => new()
    {
        Pattern = new ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new AccessControlEntry { Principal = principal, Host = "*", Operation = operation, PermissionType = permission },
    };

    private async Task GrantAsync(params AclBinding[] acls)
    {
        using var admin = new AdminClientBuilder(Admin).Build();
        await admin.CreateAclsAsync(acls);
    }

    private async Task CreateTopicsAsync(params string[] topics)
    {
        using var admin = new AdminClientBuilder(Admin).Build();
        await admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification { Name = t, NumPartitions = 1 }));
    }

    private long EndOffset(string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(Admin) { GroupId = "watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).High.Value;
    }

    private async Task<ErrorCode> ProduceAsAliceAsync(string topic)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Alice) { MessageTimeoutMs = 10_000 }).Build();
        try
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = "from alice" });
            return ErrorCode.NoError;
        }
        catch (ProduceException<Null, string> ex)
        {
            return ex.Error.Code;
        }
    }

    [Fact]
    public async Task A_principal_without_write_on_a_topic_is_refused_and_nothing_is_appended()
    {
        await CreateTopicsAsync("ledger");
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceAsAliceAsync("ledger"));
        Assert.Equal(0, EndOffset("ledger"));

        await GrantAsync(Acl(ResourceType.Topic, "ledger", ResourcePatternType.Literal, "User:alice", AclOperation.Write));
        Assert.Equal(ErrorCode.NoError, await ProduceAsAliceAsync("ledger"));
        Assert.Equal(1, EndOffset("ledger"));
    }

    [Fact]
    public async Task Prefixed_rules_allow_a_family_of_topics_and_a_deny_wins_over_them()
    {
        await CreateTopicsAsync("shipments-eu", "shipments-us", "shipments-secret", "invoices");
        await GrantAsync(
            Acl(ResourceType.Topic, "shipments-", ResourcePatternType.Prefixed, "User:alice", AclOperation.Write),
            Acl(ResourceType.Topic, "shipments-secret", ResourcePatternType.Literal, "User:alice", AclOperation.All, AclPermissionType.Deny));

        Assert.Equal(ErrorCode.NoError, await ProduceAsAliceAsync("shipments-eu"));
        Assert.Equal(ErrorCode.NoError, await ProduceAsAliceAsync("shipments-us"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceAsAliceAsync("shipments-secret"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, await ProduceAsAliceAsync("invoices"));
        Assert.Equal(0, EndOffset("shipments-secret"));
    }

    [Fact]
    public async Task Metadata_lists_only_the_topics_a_principal_may_describe()
    {
        await CreateTopicsAsync("catalog-public", "catalog-prices", "payroll");
        await GrantAsync(Acl(ResourceType.Topic, "catalog-", ResourcePatternType.Prefixed, "User:bob", AclOperation.Describe));

        using var bob = new AdminClientBuilder(As("bob", "builder")).Build();
        var seen = bob.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).ToList();
        Assert.Contains("catalog-public", seen);
        Assert.Contains("catalog-prices", seen);
        Assert.DoesNotContain("payroll", seen);
        Assert.DoesNotContain("__consumer_offsets", seen);
        var asked = bob.GetMetadata("payroll", TimeSpan.FromSeconds(10)).Topics.Single();
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, asked.Error.Code);
    }

    [Fact]
    public async Task A_consumer_needs_read_on_its_group_as_well_as_on_the_topic()
    {
        await CreateTopicsAsync("audit");
        await GrantAsync(
            Acl(ResourceType.Topic, "audit", ResourcePatternType.Literal, "User:alice", AclOperation.Read),
            Acl(ResourceType.Topic, "audit", ResourcePatternType.Literal, "User:alice", AclOperation.Write));
        Assert.Equal(ErrorCode.NoError, await ProduceAsAliceAsync("audit"));

        Error? refused = null;
        using (var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(Alice) { GroupId = "auditors", AutoOffsetReset = AutoOffsetReset.Earliest })
            .SetErrorHandler((_, e) => refused ??= e).Build())
        {
            consumer.Subscribe("audit");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (refused is null && DateTime.UtcNow < deadline)
            {
                try { consumer.Consume(TimeSpan.FromMilliseconds(200)); }
                catch (ConsumeException ex) { refused = ex.Error; }
            }
        }
        Assert.Equal(ErrorCode.GroupAuthorizationFailed, refused?.Code);

        await GrantAsync(Acl(ResourceType.Group, "auditors", ResourcePatternType.Literal, "User:alice", AclOperation.Read));
        using var allowed = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(Alice) { GroupId = "auditors", AutoOffsetReset = AutoOffsetReset.Earliest }).Build();
        allowed.Subscribe("audit");
        Assert.Equal("from alice", allowed.Consume(TimeSpan.FromSeconds(60))?.Message.Value);
        allowed.Close();
    }

    [Fact]
    public async Task Acls_round_trip_through_the_admin_client_survive_a_restart_and_only_admins_change_them()
    {
        var granted = Acl(ResourceType.Group, "reporting-", ResourcePatternType.Prefixed, "User:bob", AclOperation.Read);
        var denied = Acl(ResourceType.Topic, "*", ResourcePatternType.Literal, "User:bob", AclOperation.Delete, AclPermissionType.Deny);
        await GrantAsync(granted, denied);
        var bobsFilter = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Principal = "User:bob", Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };

        await fixture.Broker.RestartAsync();

        using var admin = new AdminClientBuilder(Admin).Build();
        var described = (await admin.DescribeAclsAsync(bobsFilter)).AclBindings;
        Assert.Contains(granted, described);
        Assert.Contains(denied, described);

        using (var alice = new AdminClientBuilder(Alice).Build())
        {
            var refused = await Assert.ThrowsAsync<CreateAclsException>(() => alice.CreateAclsAsync([Acl(ResourceType.Topic, "*", ResourcePatternType.Literal, "User:alice", AclOperation.All)]));
            Assert.Equal(ErrorCode.ClusterAuthorizationFailed, refused.Results.Single().Error.Code);
        }

        var deleted = await admin.DeleteAclsAsync([new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Group, Name = "reporting-", ResourcePatternType = ResourcePatternType.Prefixed },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        }]);
        Assert.Equal([granted], deleted.Single().AclBindings);
        Assert.Equal([denied], (await admin.DescribeAclsAsync(bobsFilter)).AclBindings);
    }

    [Fact]
    public async Task Kafkajs_admin_creates_describes_and_deletes_acls()
    {
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        var run = await ExternalTool.RunAsync("node", ["acls.js", fixture.Broker.BootstrapServers, "admin", "admin-secret", "User:carol", "kafkajs-acl-topic"],
            workingDirectory: clients);
        Assert.True(run.ExitCode == 0, run.Stderr);
        using var result = System.Text.Json.JsonDocument.Parse(run.Stdout);
        var described = result.RootElement.GetProperty("described");
        Assert.Equal("kafkajs-acl-topic", described[0].GetProperty("resourceName").GetString());
        Assert.Equal("User:carol", described[0].GetProperty("acls")[0].GetProperty("principal").GetString());
        Assert.Equal(1, result.RootElement.GetProperty("deleted").GetInt32());
        Assert.Equal(0, result.RootElement.GetProperty("after").GetArrayLength());
    }

    [Fact]
    public async Task The_console_shows_listeners_principals_and_acls_and_no_secret()
    {
        await GrantAsync(Acl(ResourceType.Topic, "console-shown", ResourcePatternType.Literal, "User:alice", AclOperation.Read));
        using var http = new HttpClient();
        // The console asks for a broker user, as the SASL listener does.
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("admin:admin-secret"u8));
        var json = await http.GetStringAsync($"{fixture.Broker.ConsoleUrl}/api/security");
        using var security = System.Text.Json.JsonDocument.Parse(json);

        Assert.Contains("SASL_PLAINTEXT://localhost:", security.RootElement.GetProperty("listeners")[0].GetString());
        Assert.True(security.RootElement.GetProperty("acls_enabled").GetBoolean());
        var principals = security.RootElement.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("principal").GetString()).ToList();
        Assert.Equal(["User:admin", "User:alice", "User:bob"], principals);
        Assert.Contains(security.RootElement.GetProperty("acls").EnumerateArray(),
            a => a.GetProperty("acl").GetString() == "ALLOW User:alice READ TOPIC console-shown" && a.GetProperty("source").GetString() == "api");
        Assert.DoesNotContain("wonderland", json);
        Assert.DoesNotContain("admin-secret", json);
    }
}
