using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Shop.AppHost;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// The AppHost with <c>Shop:Broker:ConnectionString</c>: pointed at a Kafka cluster it does not own.
/// The cluster is our broker started by the test as a separate process, with SASL over TLS (its
/// certificate signed by a private CA, as a company's cluster often is) and ACLs on, and one
/// principal, <c>User:shop</c>, that every service shares.
/// </summary>
public sealed class ExternalKafkaFixture : ShopFixture
{
    public const string User = "shop";

    public string ClusterPassword { get; } = Guid.NewGuid().ToString("N");

    public BrokerProcess Cluster { get; private set; } = null!;

    public TestCertificates Certificates { get; } = new();

    private readonly int _tlsPort = LoopbackPort.Free();

    /// <summary>The cluster's SASL_SSL listener: what the services are given.</summary>
    public string ClusterAddress => $"localhost:{_tlsPort}";

    protected override bool StartsBroker => false;

    protected override IEnumerable<string> AppHostArguments() =>
    [
        .. base.AppHostArguments(),
        $"--Shop:Broker:ConnectionString={ClusterAddress}",
        // Kafka's spelling, as a cluster's documentation gives it; the AppHost passes the services Confluent.Kafka's.
        "--Shop:Broker:SecurityProtocol=SASL_SSL",
        "--Shop:Broker:SaslMechanism=SCRAM-SHA-512",
        $"--Shop:Broker:SaslUsername={User}",
        $"--Shop:Broker:SaslPassword={ClusterPassword}",
        $"--Shop:Broker:SslCaLocation={Certificates.CaFile}",
    ];

    public override async Task InitializeAsync()
    {
        Cluster = await BrokerProcess.StartAsync(
            "--Broker:SecurityProtocol=SASL_PLAINTEXT", $"--Broker:Listeners=SASL_SSL://localhost:{_tlsPort}",
            $"--Broker:TlsCertificate={Certificates.CertificateFile}", $"--Broker:TlsKey={Certificates.KeyFile}",
            $"--Broker:Users:{User}={ClusterPassword}", "--Broker:AclsEnabled=true", $"--Broker:SuperUsers=User:{User}");
        await base.InitializeAsync();
        BrokerConsole = new HttpClient { BaseAddress = new Uri(Cluster.ConsoleUrl) };
        BrokerConsole.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{User}:{ClusterPassword}")));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Cluster.DisposeAsync();
        Certificates.Dispose();
    }
}

public sealed class ExternalKafkaTests(ExternalKafkaFixture shop) : IClassFixture<ExternalKafkaFixture>
{
    private static readonly string[] Services = ["webshop", "orders", "inventory", "notifications"];

    private IReadOnlyList<IResource> Resources => shop.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.ToList();

    [Fact]
    public void No_broker_of_ours_starts_and_broker_is_only_the_clusters_connection_string()
    {
        Assert.DoesNotContain(Resources.OfType<ProjectResource>(), r => r.Name == "broker");
        Assert.IsType<ConnectionStringResource>(Assert.Single(Resources, r => r.Name == "broker"));
        Assert.Equal(shop.ClusterAddress, shop.BrokerAddress);
    }

    [Fact]
    public void Every_service_runs_with_the_cluster_and_the_one_given_principal()
    {
        foreach (var service in Services)
        {
            // The environment the process was started with, as the dashboard shows it.
            Assert.True(shop.App.ResourceNotifications.TryGetCurrentState(service, out var state), service);
            var environment = state.Snapshot.EnvironmentVariables.Where(e => e.IsFromSpec).ToDictionary(e => e.Name, e => e.Value);
            Assert.Equal(shop.ClusterAddress, environment["ConnectionStrings__broker"]);
            Assert.Equal("SaslSsl", environment["Messaging__SecurityProtocol"]);
            Assert.Equal(shop.Certificates.CaFile, environment["Messaging__SslCaLocation"]);
            Assert.Equal("ScramSha512", environment["Messaging__SaslMechanism"]);
            Assert.Equal(ExternalKafkaFixture.User, environment["Messaging__SaslUsername"]);
            Assert.Equal(shop.ClusterPassword, environment["Messaging__SaslPassword"]);
        }
    }

    [Fact]
    public void The_commands_that_need_our_brokers_console_are_left_out_and_the_others_stay()
    {
        var commands = Resources.SelectMany(r => r.Annotations.OfType<ResourceCommandAnnotation>()).Select(c => c.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { ShopCommands.PlaceSeedOrders, ShopCommands.StartLoad, ShopCommands.StopLoad, ShopCommands.RestockAll }, commands);
        Assert.DoesNotContain(ShopCommands.ReplayDeadLetters, commands);
        Assert.DoesNotContain(ShopCommands.ResetGroup, commands);
        Assert.DoesNotContain(ShopCommands.OpenConsoleAtTrace, commands);
    }

    [Fact]
    public async Task An_order_completes_through_the_cluster()
    {
        var orderId = await shop.PlaceAcceptedAsync(ShopFixture.Order(("125", 1, 100m)));

        var view = await shop.AwaitOrderAsync(orderId, v => v.Status == "Completed");

        Assert.Equal("Completed", view.Status);
        // Its events are in the cluster's own log (the AppHost has no other broker they could be in).
        Assert.True(await shop.EndOffsetSumAsync("orders") >= 2, "the cluster's orders topic should hold OrderPlaced and OrderCompleted");
        Assert.True(await shop.EndOffsetSumAsync("reservations") >= 1, "the cluster's reservations topic should hold ItemsOrdered");
        Assert.True(await shop.EndOffsetSumAsync("inventory") >= 1, "the cluster's inventory topic should hold StockReserved");
    }
}
