using Microsoft.Extensions.Configuration;

namespace Shop.AppHost;

/// <summary>
/// The local addresses the README promises under <c>dotnet run</c>. With
/// <c>Shop:RandomPorts=true</c> (what the tests pass) every port is left to the orchestrator.
/// </summary>
/// <remarks>
/// The storefront (5080) and broker console (5081) are the projects' launch-profile ports; the
/// testing builder randomizes those itself.
/// </remarks>
public sealed record ShopPorts(int? Kafka, int? MailUi, int? Smtp)
{
    public static readonly ShopPorts Fixed = new(Kafka: 9092, MailUi: 5082, Smtp: 2525);

    /// <summary>
    /// <c>Shop:KafkaPort</c> pins the Kafka port even with random ports: a test that restarts the
    /// broker needs it back where the services' connection strings point.
    /// </summary>
    public static ShopPorts From(IConfiguration configuration)
    {
        var ports = configuration.GetValue("Shop:RandomPorts", false) ? new ShopPorts(null, null, null) : Fixed;
        return configuration.GetValue<int?>("Shop:KafkaPort") is { } kafka ? ports with { Kafka = kafka } : ports;
    }
}
