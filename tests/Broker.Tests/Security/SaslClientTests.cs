using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Shop.Broker.Tests.Security;

/// <summary>A broker whose Kafka port speaks SASL_PLAINTEXT, with a second listener speaking SASL_SSL, and two configured users.</summary>
public sealed class SecuredBrokerFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();

    public int SslPort { get; } = LoopbackPort.Free();

    public BrokerProcess Broker { get; private set; } = null!;

    public string SaslPlaintext => Broker.BootstrapServers;

    public string SaslSsl => $"localhost:{SslPort}";

    public async Task InitializeAsync() => Broker = await BrokerProcess.StartAsync(
        "--Broker:SecurityProtocol=SASL_PLAINTEXT", $"--Broker:Listeners=SASL_SSL://localhost:{SslPort}",
        $"--Broker:TlsCertificate={Certificates.CertificateFile}", $"--Broker:TlsKey={Certificates.KeyFile}",
        "--Broker:Users:alice=wonderland", "--Broker:Users:admin=admin-secret");

    public async Task DisposeAsync()
    {
        await Broker.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>SASL (PLAIN, SCRAM-SHA-256/512) and TLS with Confluent.Kafka, kcat and kafkajs against the real broker.</summary>
public sealed class SaslClientTests(SecuredBrokerFixture fixture) : IClassFixture<SecuredBrokerFixture>
{
    private ClientConfig Client(bool tls, string user = "alice", string password = "wonderland", SaslMechanism mechanism = SaslMechanism.ScramSha512) => new()
    {
        BootstrapServers = tls ? fixture.SaslSsl : fixture.SaslPlaintext,
        SecurityProtocol = tls ? SecurityProtocol.SaslSsl : SecurityProtocol.SaslPlaintext,
        SaslMechanism = mechanism,
        SaslUsername = user,
        SaslPassword = password,
        SslCaLocation = tls ? fixture.Certificates.CaFile : null,
    };

    /// <summary>The first error a client reports while trying to fetch metadata.</summary>
    private static async Task<Error> FirstErrorAsync(ClientConfig config)
    {
        var errors = new ConcurrentQueue<Error>();
        using var admin = new AdminClientBuilder(config).SetErrorHandler((_, e) => errors.Enqueue(e)).SetLogHandler((_, _) => { }).Build();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (errors.IsEmpty && DateTime.UtcNow < deadline)
        {
            try { admin.GetMetadata(TimeSpan.FromSeconds(1)); } catch (KafkaException) { }
        }
        Assert.True(errors.TryPeek(out var first), "the client reported no error");
        return first;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Confluent_clients_authenticate_with_scram_sha_512_then_produce_and_consume_in_a_group(bool tls)
    {
        var topic = tls ? "over-sasl-ssl" : "over-sasl-plaintext";
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig(Client(tls)) { EnableIdempotence = true }).Build())
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = $"secret order via {topic}" });
        }
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig(Client(tls))
        {
            GroupId = $"{topic}-readers", AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var record = consumer.Consume(TimeSpan.FromSeconds(60));
        Assert.Equal($"secret order via {topic}", record?.Message.Value);
        consumer.Close();
    }

    [Fact]
    public async Task A_wrong_password_an_unknown_user_and_a_client_without_sasl_are_refused_with_errors_that_say_so()
    {
        var wrong = await FirstErrorAsync(Client(tls: false, password: "looking-glass"));
        var unknown = await FirstErrorAsync(Client(tls: true, user: "mallory"));
        var unauthenticated = await FirstErrorAsync(new ClientConfig { BootstrapServers = fixture.SaslPlaintext });

        Assert.Equal(ErrorCode.Local_Authentication, wrong.Code);
        Assert.Contains("invalid credentials with SASL mechanism SCRAM-SHA-512", wrong.Reason);
        Assert.Equal(ErrorCode.Local_Authentication, unknown.Code);
        Assert.Contains("invalid credentials", unknown.Reason);
        // As Kafka does, the listener hangs up on a request sent before authenticating, and says why in its log
        // (librdkafka 2.0, in kcat, adds "broker might require SASL authentication"; 2.16 says only "Disconnected").
        Assert.Contains(unauthenticated.Code, new[] { ErrorCode.Local_Transport, ErrorCode.Local_AllBrokersDown });
        await fixture.Broker.WaitForOutputAsync("before authenticating on the SASL_PLAINTEXT listener");
    }

    [Fact]
    public async Task Kcat_produces_and_consumes_over_sasl_ssl_with_scram_and_plain()
    {
        string[] Auth(string mechanism) => ["-b", fixture.SaslSsl, "-X", "security.protocol=SASL_SSL", "-X", $"ssl.ca.location={fixture.Certificates.CaFile}",
            "-X", $"sasl.mechanisms={mechanism}", "-X", "sasl.username=alice", "-X", "sasl.password=wonderland"];
        var produce = await ExternalTool.RunAsync("kcat", [.. Auth("SCRAM-SHA-512"), "-t", "kcat-secured", "-P"], stdin: "one\ntwo\n");
        Assert.True(produce.ExitCode == 0, produce.Stderr);
        var consume = await ExternalTool.RunAsync("kcat", [.. Auth("SCRAM-SHA-512"), "-t", "kcat-secured", "-C", "-e", "-q"]);
        Assert.True(consume.ExitCode == 0, consume.Stderr);
        Assert.Equal(["one", "two"], consume.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var withPlain = await ExternalTool.RunAsync("kcat", [.. Auth("PLAIN"), "-t", "kcat-secured", "-C", "-e", "-q"]);
        Assert.Equal(consume.Stdout, withPlain.Stdout);

        var withoutSasl = await ExternalTool.RunAsync("kcat", ["-b", fixture.SaslPlaintext, "-m", "5", "-L"]);
        Assert.NotEqual(0, withoutSasl.ExitCode);
        Assert.Contains("broker might require SASL authentication", withoutSasl.Stderr);
    }

    [Theory]
    [InlineData("scram-sha-512", true)]
    [InlineData("scram-sha-256", false)]
    [InlineData("plain", false)]
    public async Task Kafkajs_authenticates_then_produces_and_consumes(string mechanism, bool tls)
    {
        var clients = Path.Combine(ExternalTool.RepoRoot, "tests", "clients");
        string[] args = ["sasl-roundtrip.js", tls ? fixture.SaslSsl : fixture.SaslPlaintext, mechanism, "alice", "wonderland", $"kafkajs-{mechanism}", .. tls ? new[] { fixture.Certificates.CaFile } : []];
        var run = await ExternalTool.RunAsync("node", args, workingDirectory: clients);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal($"from kafkajs over {mechanism}", run.Stdout.Trim());

        var refused = await ExternalTool.RunAsync("node", ["sasl-roundtrip.js", fixture.SaslPlaintext, mechanism, "alice", "looking-glass", "never"], workingDirectory: clients);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("KafkaJSSASLAuthenticationError", refused.Stderr);
        Assert.Contains("invalid credentials", refused.Stderr);
    }

    [Fact]
    public async Task Users_added_through_the_admin_api_can_connect_survive_a_restart_and_are_gone_once_deleted()
    {
        using (var admin = new AdminClientBuilder(Client(tls: false, user: "admin", password: "admin-secret")).Build())
        {
            await admin.AlterUserScramCredentialsAsync([new UserScramCredentialUpsertion
            {
                User = "bob", Password = Encoding.UTF8.GetBytes("builder"),
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ScramMechanism.ScramSha256, Iterations = 8192 },
            }]);
            var described = (await admin.DescribeUserScramCredentialsAsync(["bob", "alice"])).UserScramCredentialsDescriptions.ToDictionary(d => d.User);
            Assert.Equal((ScramMechanism.ScramSha256, 8192), (described["bob"].ScramCredentialInfos.Single().Mechanism, described["bob"].ScramCredentialInfos.Single().Iterations));
            Assert.Equal(2, described["alice"].ScramCredentialInfos.Count);
        }

        await fixture.Broker.RestartAsync();
        var bob = Client(tls: true, user: "bob", password: "builder", mechanism: SaslMechanism.ScramSha256);
        using (var admin = new AdminClientBuilder(bob).Build())
        {
            Assert.NotEmpty(admin.GetMetadata(TimeSpan.FromSeconds(30)).Brokers);
        }

        using (var admin = new AdminClientBuilder(Client(tls: false, user: "admin", password: "admin-secret")).Build())
        {
            await admin.AlterUserScramCredentialsAsync([new UserScramCredentialDeletion { User = "bob", Mechanism = ScramMechanism.ScramSha256 }]);
        }
        Assert.Equal(ErrorCode.Local_Authentication, (await FirstErrorAsync(bob)).Code);
    }
}
