using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// How the service reaches Kafka, Aspire-style: the bootstrap servers from the connection string
/// <c>broker</c> (<c>ConnectionStrings__broker</c>, set by the AppHost through <c>WithReference</c>),
/// and every client setting from configuration, bound onto Confluent's config classes by property
/// name: section <c>Messaging</c> for all clients (<c>SecurityProtocol</c>, <c>SaslMechanism</c>,
/// <c>SaslUsername</c>, <c>SaslPassword</c>, <c>SslCaLocation</c>…), then <c>Messaging:Producer</c>,
/// <c>Messaging:Consumer</c> or <c>Messaging:Admin</c> for one kind (<c>LingerMs</c>,
/// <c>FetchWaitMaxMs</c>…). Configuration wins over the shop's defaults.
/// </summary>
public sealed class BrokerConnection(string bootstrapServers, IConfiguration configuration)
{
    public const string ConnectionName = "broker";
    public const string Section = "Messaging";

    public string BootstrapServers => bootstrapServers;

    public ProducerConfig Producer(ProducerConfig defaults) => Configure(defaults, "Producer");

    public ConsumerConfig Consumer(ConsumerConfig defaults) => Configure(defaults, "Consumer");

    public AdminClientConfig Admin(AdminClientConfig defaults) => Configure(defaults, "Admin");

    private T Configure<T>(T config, string kind) where T : ClientConfig
    {
        config.BootstrapServers = bootstrapServers;
        var section = configuration.GetSection(Section);
        section.Bind(config);
        section.GetSection(kind).Bind(config);
        if (config.SaslUsername is { Length: > 0 } user && string.IsNullOrEmpty(config.SaslPassword))
        {
            throw new InvalidOperationException($"{Section}:SaslPassword is not set for user {user}.");
        }
        return config;
    }

    public static BrokerConnection FromConfiguration(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"Connection string '{ConnectionName}' is not set. Run the service through the AppHost, " +
                $"or set ConnectionStrings__{ConnectionName}=host:port.");
        }
        return new BrokerConnection(value.Trim(), configuration);
    }

    /// <summary>Who the service is on the broker, for logs: never the password.</summary>
    public override string ToString()
    {
        var config = Admin(new AdminClientConfig());
        return config.SaslUsername is { Length: > 0 } user ? $"{bootstrapServers} ({config.SecurityProtocol} {config.SaslMechanism} as {user})" : bootstrapServers;
    }
}

public static class BrokerConnectionExtensions
{
    /// <summary>Registers the broker connection and a readiness check that asks the broker for the service's topics.</summary>
    public static TBuilder AddBrokerConnection<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton(BrokerConnection.FromConfiguration(builder.Configuration));
        builder.Services.AddHealthChecks().AddCheck<BrokerHealthCheck>("broker");
        return builder;
    }
}

/// <summary>
/// A real round trip: a Metadata request for the topics this service reads and writes (the
/// connection, SASL and ACLs all take part). Unhealthy when the broker does not answer or a topic is
/// missing, with the names.
/// </summary>
internal sealed class BrokerHealthCheck(BrokerConnection broker, ShopTopics topics, ILogger<BrokerHealthCheck> logger) : IHealthCheck, IDisposable
{
    private readonly Lazy<IAdminClient> _admin = new(() => new AdminClientBuilder(broker.Admin(new AdminClientConfig())).Build());

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var wanted = topics.Names;
        try
        {
            // GetMetadata blocks; a health check may take a pool thread for it, never the caller's.
            var metadata = await Task.Run(() => _admin.Value.GetMetadata(TimeSpan.FromSeconds(3)), cancellationToken);
            var present = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).Select(t => t.Topic).ToHashSet();
            var missing = wanted.Where(t => !present.Contains(t)).ToList();
            return missing.Count == 0
                ? HealthCheckResult.Healthy($"Broker {broker.BootstrapServers} answered; all {wanted.Count} topics are there.")
                : HealthCheckResult.Unhealthy($"Broker {broker.BootstrapServers} answered, but topics are missing: {string.Join(", ", missing)}.");
        }
        catch (KafkaException ex)
        {
            logger.LogDebug("Broker health check failed: {Error}", ex.Message);
            return HealthCheckResult.Unhealthy($"Broker {broker} did not answer: {ex.Error.Reason}");
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}
