using Shop.Broker.Security;

namespace Shop.Broker.Network;

/// <summary>
/// What the broker knows about one client connection: the listener it came through, its address,
/// and who it is. On a SASL listener it is nobody until SaslHandshake picked a mechanism and
/// SaslAuthenticate completed the exchange; elsewhere it is <see cref="Anonymous"/>, as in Kafka.
/// </summary>
public sealed class KafkaSession(KafkaEndpoint endpoint, string clientHost)
{
    public const string Anonymous = "User:ANONYMOUS";

    private bool _authenticated;

    public KafkaEndpoint Endpoint { get; } = endpoint;

    /// <summary>The client's address, as consumer group descriptions show it ("/127.0.0.1").</summary>
    public string ClientHost { get; } = clientHost;

    /// <summary>Kafka's principal: <c>User:name</c>.</summary>
    public string Principal { get; private set; } = Anonymous;

    public bool IsAuthenticated => !Endpoint.UsesSasl || _authenticated;

    /// <summary>The mechanism chosen by SaslHandshake, waiting for SaslAuthenticate.</summary>
    public (string Mechanism, ISaslExchange Exchange)? Sasl { get; private set; }

    /// <summary>Set by a handler whose answer must be the last on this connection (a failed authentication).</summary>
    public string? CloseAfterResponse { get; set; }

    public void BeginSasl(string mechanism, ISaslExchange exchange) => Sasl = (mechanism, exchange);

    public void Authenticated(string user)
    {
        Principal = $"User:{user}";
        _authenticated = true;
        Sasl = null;
    }
}
