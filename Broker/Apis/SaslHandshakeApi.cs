using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// SaslHandshake v0–1: picks the mechanism for the SaslAuthenticate requests that follow. v0 must be
/// advertised (librdkafka enables SASL only when the range starts at 0) but after a v0 handshake
/// the tokens travel without Kafka framing, which we do not speak: a v0 handshake is refused with
/// ILLEGAL_SASL_STATE and a reason in the log. Every current client sends v1.
/// Refused with ILLEGAL_SASL_STATE on a listener without SASL or once authenticated, and with
/// UNSUPPORTED_SASL_MECHANISM (listing the ones offered) for a mechanism not offered.
/// </summary>
public sealed class SaslHandshakeApi(SaslMechanisms mechanisms) : KafkaApi<SaslHandshakeRequest, SaslHandshakeResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.SaslHandshake, 0, 1, SaslHandshakeRequest.FlexibleFrom);

    protected override ValueTask<SaslHandshakeResponse?> HandleAsync(SaslHandshakeRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        var error = ErrorCode.None;
        if (context.Version == 0)
        {
            error = ErrorCode.IllegalSaslState;
            session.CloseAfterResponse = "SaslHandshake v0 (SASL tokens without Kafka framing) is not supported: use a client that sends SaslAuthenticate (Kafka 1.0+)";
        }
        else if (!session.Endpoint.UsesSasl || session.IsAuthenticated)
        {
            error = ErrorCode.IllegalSaslState;
            session.CloseAfterResponse = $"SaslHandshake on the {session.Endpoint.Name} listener {(session.Endpoint.UsesSasl ? "after authenticating" : "without SASL")}";
        }
        else if (mechanisms.Start(request.Mechanism) is { } exchange)
        {
            session.BeginSasl(request.Mechanism, exchange);
        }
        else
        {
            error = ErrorCode.UnsupportedSaslMechanism;
        }
        return ValueTask.FromResult<SaslHandshakeResponse?>(new SaslHandshakeResponse { ErrorCode = (short)error, Mechanisms = [.. mechanisms.Enabled] });
    }
}
