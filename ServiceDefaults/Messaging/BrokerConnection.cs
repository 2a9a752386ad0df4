using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The broker's bootstrap address, taken from the connection string <c>broker</c>
/// (<c>ConnectionStrings__broker</c>, set by the AppHost through <c>WithReference</c>), and the
/// service's own credentials when the broker wants SASL (section <c>Messaging</c>:
/// <c>SecurityProtocol</c>, <c>SaslMechanism</c>, <c>SaslUsername</c>, <c>SaslPassword</c>).
/// </summary>
public sealed record BrokerConnection(string BootstrapServers, BrokerCredentials? Credentials = null)
{
    public const string ConnectionName = "broker";
    public const string SecuritySection = "Messaging";

    /// <summary>Sets the address and, if any, the credentials on a producer, consumer or admin client config.</summary>
    public T Configure<T>(T config) where T : ClientConfig
    {
        config.BootstrapServers = BootstrapServers;
        if (Credentials is { } credentials)
        {
            config.SecurityProtocol = credentials.SecurityProtocol;
            config.SaslMechanism = credentials.SaslMechanism;
            config.SaslUsername = credentials.SaslUsername;
            config.SaslPassword = credentials.SaslPassword;
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
        var security = configuration.GetSection(SecuritySection);
        var username = security["SaslUsername"];
        BrokerCredentials? credentials = null;
        if (!string.IsNullOrWhiteSpace(username))
        {
            credentials = new BrokerCredentials(
                Enum.Parse<SecurityProtocol>(security["SecurityProtocol"] ?? "SaslPlaintext", ignoreCase: true),
                Enum.Parse<SaslMechanism>(security["SaslMechanism"] ?? "ScramSha512", ignoreCase: true),
                username,
                security["SaslPassword"] ?? throw new InvalidOperationException($"{SecuritySection}:SaslPassword is not set for user {username}."));
        }
        return new BrokerConnection(value.Trim(), credentials);
    }

    /// <summary>The first bootstrap server as host and port.</summary>
    public (string Host, int Port) FirstServer
    {
        get
        {
            var first = BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
            // Kafka bootstrap lists may carry a scheme ("tcp://host:port"); clients ignore it.
            var schemeEnd = first.IndexOf("://", StringComparison.Ordinal);
            if (schemeEnd >= 0) first = first[(schemeEnd + 3)..];
            var colon = first.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(first[(colon + 1)..], out var port))
            {
                throw new FormatException($"Broker address '{first}' is not host:port.");
            }
            return (first[..colon], port);
        }
    }

    /// <summary>Opens and closes a TCP connection to the broker's Kafka port.</summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var (host, port) = FirstServer;
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
    }
}

/// <summary>How a service authenticates to the broker (its own principal, User:<see cref="SaslUsername"/>).</summary>
public sealed record BrokerCredentials(SecurityProtocol SecurityProtocol, SaslMechanism SaslMechanism, string SaslUsername, string SaslPassword)
{
    /// <summary>Never the password in logs and exceptions.</summary>
    public override string ToString() => $"{SecurityProtocol} {SaslMechanism} as {SaslUsername}";
}

public static class BrokerConnectionExtensions
{
    /// <summary>
    /// Registers the broker connection, a readiness check that the broker's port answers, and a
    /// start-up log line saying the service reached it.
    /// </summary>
    public static TBuilder AddBrokerConnection<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var connection = BrokerConnection.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(connection);
        builder.Services.AddHealthChecks().AddCheck<BrokerHealthCheck>("broker");
        builder.Services.AddHostedService<BrokerReachabilityLogger>();
        return builder;
    }
}

internal sealed class BrokerHealthCheck(BrokerConnection broker) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await broker.ProbeAsync(timeout.Token);
            return HealthCheckResult.Healthy($"Broker {broker.BootstrapServers} reachable.");
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"Broker {broker.BootstrapServers} not reachable: {ex.Message}");
        }
    }
}

/// <summary>Logs once that the broker's port was reached, retrying until it is.</summary>
internal sealed class BrokerReachabilityLogger(BrokerConnection broker, ILogger<BrokerReachabilityLogger> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await broker.ProbeAsync(stoppingToken);
                logger.LogInformation("Reached the broker at {BootstrapServers}", broker.BootstrapServers);
                return;
            }
            catch (SocketException ex)
            {
                logger.LogWarning("Broker at {BootstrapServers} not reachable yet: {Error}", broker.BootstrapServers, ex.Message);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }
}
