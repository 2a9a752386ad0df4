using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>
/// SaslAuthenticate v0–2: one step of the exchange SaslHandshake started. A refusal is answered
/// SASL_AUTHENTICATION_FAILED with Kafka's own wording (clients show it), and the connection is
/// closed after that answer, as Kafka does. Sessions do not expire (lifetime 0).
/// </summary>
public sealed class SaslAuthenticateApi(ILogger<SaslAuthenticateApi> logger) : KafkaApi<SaslAuthenticateRequest, SaslAuthenticateResponse>
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.SaslAuthenticate, 0, 2, SaslAuthenticateRequest.FlexibleFrom);

    protected override ValueTask<SaslAuthenticateResponse?> HandleAsync(SaslAuthenticateRequest request, KafkaRequest context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        if (session.Sasl is not { } sasl)
        {
            session.CloseAfterResponse = "SaslAuthenticate without a SaslHandshake first";
            return Answer(ErrorCode.IllegalSaslState, "SaslAuthenticate must follow a SaslHandshake that chose a mechanism", []);
        }

        var step = sasl.Exchange.Evaluate(request.AuthBytes.Span);
        if (step.Refusal is not null)
        {
            logger.LogWarning("Authentication with {Mechanism} from {Client} ({ClientId}) failed: {Reason}", sasl.Mechanism, session.ClientHost, context.ClientId, step.Refusal);
            session.CloseAfterResponse = $"authentication failed: {step.Refusal}";
            var message = step.Refusal == Security.CredentialStore.InvalidCredentials
                ? $"Authentication failed during authentication due to invalid credentials with SASL mechanism {sasl.Mechanism}"
                : $"Authentication failed with SASL mechanism {sasl.Mechanism}: {step.Refusal}";
            return Answer(ErrorCode.SaslAuthenticationFailed, message, []);
        }
        if (step.User is not null)
        {
            session.Authenticated(step.User);
            logger.LogInformation("{Principal} authenticated with {Mechanism} from {Client}", session.Principal, sasl.Mechanism, session.ClientHost);
        }
        return Answer(ErrorCode.None, null, step.Challenge);
    }

    private static ValueTask<SaslAuthenticateResponse?> Answer(ErrorCode error, string? message, byte[] bytes) =>
        ValueTask.FromResult<SaslAuthenticateResponse?>(new SaslAuthenticateResponse { ErrorCode = (short)error, ErrorMessage = message, AuthBytes = bytes, SessionLifetimeMs = 0 });
}
