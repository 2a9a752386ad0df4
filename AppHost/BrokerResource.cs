using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;

namespace Shop.AppHost;

/// <summary>
/// The file-log broker as a project resource that is also a connection string: services get
/// <c>ConnectionStrings__broker=host:port</c> through <c>WithReference</c>, the same shape a real
/// Kafka resource would give them.
/// </summary>
public sealed class BrokerResource(string name) : ProjectResource(name), IResourceWithConnectionString
{
    public const string KafkaEndpointName = "kafka";

    public EndpointReference KafkaEndpoint => new(this, KafkaEndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{KafkaEndpoint.Property(EndpointProperty.HostAndPort)}");
}

public static class BrokerResourceExtensions
{
    /// <summary>
    /// Adds the broker project with its Kafka endpoint. The endpoint is not proxied: Metadata
    /// advertises the address clients must reconnect to, so the broker itself listens on it.
    /// </summary>
    public static IResourceBuilder<BrokerResource> AddBroker<TProject>(
        this IDistributedApplicationBuilder builder, string name, int? kafkaPort, string dataDir)
        where TProject : IProjectMetadata, new()
    {
        var broker = new BrokerResource(name);
        // AddProject<T> would create a plain ProjectResource; WithProjectDefaults gives ours the same
        // launch-profile endpoints, OTLP settings and lifecycle. Marked experimental in Aspire 13.
#pragma warning disable ASPIREPROJECTS001
        return builder.AddResource(broker)
            .WithAnnotation<IProjectMetadata>(new TProject())
            .WithProjectDefaults(new ProjectResourceOptions())
#pragma warning restore ASPIREPROJECTS001
            .WithEndpoint(BrokerResource.KafkaEndpointName, endpoint =>
            {
                endpoint.UriScheme = "tcp";
                endpoint.Port = kafkaPort;
                endpoint.TargetPort = kafkaPort;
                endpoint.IsProxied = false;
            })
            .WithEnvironment("Broker__Port", broker.KafkaEndpoint.Property(EndpointProperty.TargetPort))
            .WithEnvironment("Broker__AdvertisedHost", broker.KafkaEndpoint.Property(EndpointProperty.Host))
            .WithEnvironment("Broker__DataDir", dataDir)
            .WithHttpHealthCheck("/health");
    }

    /// <summary>
    /// Gives a service the broker as connection string <c>broker</c>. Needed because a project
    /// resource is also discoverable, and the plain <c>WithReference</c> would pick service discovery.
    /// </summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> service, IResourceBuilder<BrokerResource> broker)
        where T : IResourceWithEnvironment =>
        service.WithReference((IResourceBuilder<IResourceWithConnectionString>)broker, connectionName: "broker");

    /// <summary>
    /// Tells the console where the Aspire dashboard is (<c>Shop:DashboardUrl</c>, else the
    /// AppHost's own dashboard address), so a message's traceparent links to its trace there.
    /// </summary>
    public static IResourceBuilder<BrokerResource> WithDashboardLinks(this IResourceBuilder<BrokerResource> broker, IConfiguration configuration)
    {
        var dashboard = configuration["Shop:DashboardUrl"] ?? configuration["ASPNETCORE_URLS"]?.Split(';')[0];
        return string.IsNullOrEmpty(dashboard) ? broker : broker.WithEnvironment("Broker__DashboardUrl", dashboard);
    }
}
