namespace Shop.Broker.Network;

/// <summary>Kafka's security protocols: whether a listener authenticates with SASL, and whether it encrypts with TLS.</summary>
public enum SecurityProtocol { Plaintext, SaslPlaintext, Ssl, SaslSsl }

/// <summary>
/// One listener for Kafka clients: its security protocol, where it binds, and the port Metadata
/// tells the clients that came through it to use (a client must stay on the listener it chose).
/// </summary>
public sealed record KafkaEndpoint(SecurityProtocol Protocol, ListenAddress Address, int Port, int AdvertisedPort)
{
    public bool UsesSasl => Protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;

    public bool UsesTls => Protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;

    /// <summary>Kafka's name: PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL.</summary>
    public string Name => NameOf(Protocol);

    public override string ToString() => $"{Name}://{Address.Host}:{Port}";

    public static string NameOf(SecurityProtocol protocol) => protocol switch
    {
        SecurityProtocol.Plaintext => "PLAINTEXT",
        SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
        SecurityProtocol.Ssl => "SSL",
        _ => "SASL_SSL",
    };

    public static SecurityProtocol ParseProtocol(string name, string setting)
    {
        foreach (var protocol in Enum.GetValues<SecurityProtocol>())
        {
            if (NameOf(protocol).Equals(name.Trim(), StringComparison.OrdinalIgnoreCase)) return protocol;
        }
        throw new InvalidOperationException($"{setting}: unknown security protocol '{name}'; use PLAINTEXT, SASL_PLAINTEXT, SSL or SASL_SSL.");
    }

    /// <summary>
    /// Every listener: the Kafka port (<c>Broker:Host</c>, <c>Broker:Port</c>,
    /// <c>Broker:SecurityProtocol</c>, advertised at <c>Broker:AdvertisedPort</c> when set) and those
    /// of <c>Broker:Listeners</c>, in Kafka's syntax: <c>SASL_SSL://localhost:9094,SSL://0.0.0.0:9095</c>.
    /// </summary>
    public static IReadOnlyList<KafkaEndpoint> From(BrokerOptions options)
    {
        var endpoints = new List<KafkaEndpoint>
        {
            new(ParseProtocol(options.SecurityProtocol, "Broker:SecurityProtocol"), ListenAddress.Parse(options.Host, "Broker:Host"), options.Port, options.PublicPort),
        };
        foreach (var listener in (options.Listeners ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = listener.IndexOf("://", StringComparison.Ordinal);
            var colon = listener.LastIndexOf(':');
            if (separator < 0 || colon <= separator + 2 || !int.TryParse(listener[(colon + 1)..], out var port) || port is < 1 or > 65535)
                throw new InvalidOperationException($"Broker:Listeners: '{listener}' is not PROTOCOL://host:port (for example SASL_SSL://localhost:9094).");
            var protocol = ParseProtocol(listener[..separator], "Broker:Listeners");
            var host = listener[(separator + 3)..colon];
            endpoints.Add(new(protocol, ListenAddress.Parse(host.Length == 0 ? "*" : host, "Broker:Listeners"), port, port));
        }
        var clash = endpoints.GroupBy(e => e.Port).FirstOrDefault(g => g.Count() > 1 && g.Key != 0);
        if (clash is not null) throw new InvalidOperationException($"Two Kafka listeners on port {clash.Key}: {string.Join(", ", clash)}.");
        if (endpoints.Any(e => e.UsesTls) && string.IsNullOrWhiteSpace(options.TlsCertificate))
            throw new InvalidOperationException("An SSL or SASL_SSL listener needs Broker:TlsCertificate (a PEM or PFX file).");
        return endpoints;
    }
}
