using Shop.Broker.Network;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;

namespace Shop.Broker.Apis;

/// <summary>
/// The versions of one API key this broker serves: the single declaration the ApiVersions answer is
/// built from. <paramref name="FlexibleFrom"/> is where compact encodings and tagged fields start
/// (from the message schema), so headers can be parsed for any version a client sends.
/// </summary>
public readonly record struct ApiVersionRange(short Key, short Min, short Max, short FlexibleFrom)
{
    public bool Supports(short version) => version >= Min && version <= Max;

    public bool IsFlexible(short version) => version >= FlexibleFrom;
}

/// <summary>One request as received: its header and the body that follows it.</summary>
public sealed class KafkaRequest(RequestHeader header, ReadOnlyMemory<byte> body, ApiRegistry apis, KafkaSession session, Authorizer authorizer)
{
    /// <summary>Whether this connection's principal may do that (always, when ACLs are off).</summary>
    public bool Allows(AclOperation operation, ResourceType type, string name) => authorizer.IsAllowed(Session, operation, type, name);

    public bool AllowsOnTopic(AclOperation operation, string topic) => Allows(operation, ResourceType.Topic, topic);

    public bool AllowsOnGroup(AclOperation operation, string group) => Allows(operation, ResourceType.Group, group);

    public bool AllowsOnCluster(AclOperation operation) => authorizer.CanOnCluster(Session, operation);

    /// <summary>Whether the principal may write to at least one topic (what an idempotent producer needs, as in Kafka 3.0+).</summary>
    public bool MayWriteSomeTopic() => authorizer.IsAllowedOnSome(Session, AclOperation.Write, ResourceType.Topic);

    /// <summary>The connection it came on: listener, client address, principal.</summary>
    public KafkaSession Session { get; } = session;

    /// <summary>The client's address, as consumer group descriptions show it.</summary>
    public string ClientHost => Session.ClientHost;

    public string ClientId => Header.ClientId ?? "";

    public RequestHeader Header { get; } = header;

    public short Version => Header.RequestApiVersion;

    public ReadOnlyMemory<byte> Body { get; } = body;

    /// <summary>Every API the broker serves (ApiVersions lists them).</summary>
    public ApiRegistry Apis { get; } = apis;

    public KafkaReader BodyReader() => new(Body);
}

/// <summary>One API key: its version range and its handler. One subclass per file under Apis/.</summary>
public abstract class KafkaApi
{
    public abstract ApiVersionRange Versions { get; }

    /// <summary>
    /// Parses the request body and writes the response body (after the response header the
    /// dispatcher wrote). Returns false when the protocol wants no response (Produce with acks=0).
    /// </summary>
    public abstract ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken);
}

/// <summary>
/// An API on generated message types: the handler sees the parsed request and returns the response
/// (null: none at all, as for Produce with acks=0). Reading and writing bytes stays in Protocol/.
/// </summary>
public abstract class KafkaApi<TRequest, TResponse> : KafkaApi
    where TRequest : IKafkaMessage<TRequest>
    where TResponse : class, IKafkaMessage<TResponse>
{
    public sealed override async ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var answer = await HandleAsync(Parse(request), request, cancellationToken);
        answer?.Write(response, request.Version);
        return answer is not null;
    }

    private static TRequest Parse(KafkaRequest request)
    {
        var reader = request.BodyReader();
        return TRequest.Read(ref reader, request.Version);
    }

    protected abstract ValueTask<TResponse?> HandleAsync(TRequest request, KafkaRequest context, CancellationToken cancellationToken);
}
