using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Shop.AppHost;

/// <summary>
/// The broker the services talk to. By default ours: a project resource with SCRAM, ACLs, one
/// principal per service and the console commands. With <c>Shop:Broker:ConnectionString</c> set, a
/// Kafka cluster the AppHost does not own: no broker of ours starts, <c>broker</c> is only a
/// connection string, and every service shares the one principal of <c>Shop:Broker:Sasl*</c>.
/// Either way a service gets <c>ConnectionStrings__broker</c> and <c>Messaging__*</c>.
/// </summary>
public abstract class ShopBroker
{
    public const string Name = "broker";

    /// <summary>The secret parameter holding the cluster principal's password (from <c>Shop:Broker:SaslPassword</c>).</summary>
    public const string SaslPasswordParameter = "broker-sasl-password";

    /// <summary>Gives a service the broker's address and the credentials it signs in with.</summary>
    public abstract IResourceBuilder<ProjectResource> Connect(IResourceBuilder<ProjectResource> service);

    private sealed class Ours(IResourceBuilder<BrokerResource> broker) : ShopBroker
    {
        public override IResourceBuilder<ProjectResource> Connect(IResourceBuilder<ProjectResource> service) => service.WithBrokerCredentials(broker);
    }

    private sealed class KafkaCluster(IResourceBuilder<IResourceWithConnectionString> connection, Dictionary<string, ReferenceExpression> settings) : ShopBroker
    {
        public override IResourceBuilder<ProjectResource> Connect(IResourceBuilder<ProjectResource> service)
        {
            // Nothing to wait for: the cluster is not ours to start; the services' readiness checks probe it.
            service.WithReference(connection);
            foreach (var (name, value) in settings) service.WithEnvironment(name, value);
            return service;
        }
    }

    /// <summary>Our broker, or the Kafka cluster that <c>Shop:Broker:ConnectionString</c> names.</summary>
    public static ShopBroker Add<TBrokerProject>(IDistributedApplicationBuilder builder, int? kafkaPort, string dataDir)
        where TBrokerProject : IProjectMetadata, new()
    {
        var cluster = builder.Configuration.GetSection("Shop:Broker");
        var bootstrapServers = cluster["ConnectionString"];
        if (string.IsNullOrWhiteSpace(bootstrapServers))
        {
            return new Ours(builder.AddBroker<TBrokerProject>(Name, kafkaPort, dataDir)
                .WithShopSecurity()
                .WithDashboardLinks(builder.Configuration)
                .WithConsoleCommands(ServiceAccess.Shop.SelectMany(s => s.Groups))
                .WithUrlForEndpoint("http", url => url.DisplayText = "Broker console"));
        }

        var connection = builder.AddConnectionString(Name, ReferenceExpression.Create($"{bootstrapServers.Trim()}"));
        var settings = new Dictionary<string, ReferenceExpression>();
        var username = cluster["SaslUsername"];
        var signsIn = !string.IsNullOrWhiteSpace(username);
        // With a user and nothing else said, what our broker speaks (and the services assume): SASL_PLAINTEXT, SCRAM-SHA-512.
        var protocol = Setting(cluster, "SecurityProtocol", SecurityProtocols, signsIn ? "SaslPlaintext" : null);
        var mechanism = Setting(cluster, "SaslMechanism", SaslMechanisms, signsIn ? "ScramSha512" : null);
        if (protocol is not null) settings["Messaging__SecurityProtocol"] = ReferenceExpression.Create($"{protocol}");
        if (mechanism is not null) settings["Messaging__SaslMechanism"] = ReferenceExpression.Create($"{mechanism}");
        if (signsIn)
        {
            var password = builder.AddParameterFromConfiguration(SaslPasswordParameter, "Shop:Broker:SaslPassword", secret: true);
            settings["Messaging__SaslUsername"] = ReferenceExpression.Create($"{username!.Trim()}");
            settings["Messaging__SaslPassword"] = ReferenceExpression.Create($"{password}");
        }
        if (CaFile(cluster) is { } ca) settings["Messaging__SslCaLocation"] = ReferenceExpression.Create($"{ca}");
        return new KafkaCluster(connection, settings);
    }

    /// <summary>
    /// <c>Shop:Broker:SslCaLocation</c>: the CA (PEM) that signed a TLS cluster's certificate, when the
    /// system's trust store does not hold it. The services run elsewhere than the AppHost's folder, so
    /// they get it as a full path; a file that is not there stops the AppHost here, not four services later.
    /// </summary>
    private static string? CaFile(IConfiguration cluster)
    {
        var given = cluster["SslCaLocation"];
        if (string.IsNullOrWhiteSpace(given)) return null;
        var path = Path.GetFullPath(given.Trim());
        return File.Exists(path) ? path : throw new InvalidOperationException($"Shop:Broker:SslCaLocation '{given}' is not a file ({path}).");
    }

    /// <summary>Kafka's names (<c>SASL_SSL</c>, <c>SCRAM-SHA-256</c>) or Confluent.Kafka's (<c>SaslSsl</c>), as the services' settings spell them.</summary>
    private static readonly string[] SecurityProtocols = ["Plaintext", "Ssl", "SaslPlaintext", "SaslSsl"];

    private static readonly string[] SaslMechanisms = ["Plain", "ScramSha256", "ScramSha512", "Gssapi", "OAuthBearer"];

    private static string? Setting(IConfiguration cluster, string key, string[] known, string? fallback)
    {
        var given = cluster[key];
        if (string.IsNullOrWhiteSpace(given)) return fallback;
        static string Bare(string name) => name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return known.FirstOrDefault(k => string.Equals(k, Bare(given.Trim()), StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"Shop:Broker:{key} '{given}' is not one of {string.Join(", ", known)} (Kafka's spelling, such as SASL_SSL or SCRAM-SHA-256, works too).");
    }
}

public static class ShopBrokerExtensions
{
    /// <summary>The services' broker: ours unless <c>Shop:Broker:ConnectionString</c> points at a Kafka cluster.</summary>
    public static ShopBroker AddShopBroker<TBrokerProject>(this IDistributedApplicationBuilder builder, int? kafkaPort, string dataDir)
        where TBrokerProject : IProjectMetadata, new() =>
        ShopBroker.Add<TBrokerProject>(builder, kafkaPort, dataDir);

    /// <inheritdoc cref="ShopBroker.Connect"/>
    public static IResourceBuilder<ProjectResource> WithBrokerCredentials(this IResourceBuilder<ProjectResource> service, ShopBroker broker) =>
        broker.Connect(service);
}
