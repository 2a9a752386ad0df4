using System.Diagnostics;
using Shop.Broker.Network;
using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;
using Shop.Broker.Security;
using Shop.Broker.Telemetry;

namespace Shop.Broker.Apis;

/// <summary>
/// What one frame led to: a response frame to send (or nothing: acks=0), then closing the connection
/// when there is a reason to. <paramref name="Buffer"/> holds the response: dispose it once it is sent.
/// </summary>
public readonly record struct RequestOutcome(ResponseFrame? Response, string? CloseReason, IDisposable? Buffer = null)
{
    public static RequestOutcome Close(string reason) => new(null, reason);
}

/// <summary>
/// Every API the broker serves, by key, and the dispatch of one request frame: header, version
/// check, handler, response header. Built from the handlers' own declarations.
/// </summary>
public sealed class ApiRegistry
{
    private readonly Dictionary<short, KafkaApi> _apis;

    /// <summary>"Produce", "Fetch", …: the handler's class name, as a metric tag.</summary>
    private readonly Dictionary<short, string> _names;

    private readonly Authorizer _authorizer;

    public ApiRegistry(IEnumerable<KafkaApi> apis, Authorizer authorizer)
    {
        _authorizer = authorizer;
        _apis = apis.ToDictionary(a => a.Versions.Key);
        _names = _apis.ToDictionary(a => a.Key, a => a.Value.GetType().Name.Replace("Api", "", StringComparison.Ordinal));
    }

    public IEnumerable<ApiVersionRange> Ranges => _apis.Values.Select(a => a.Versions).OrderBy(r => r.Key);

    private bool IsFlexible(short key, short version) => _apis.TryGetValue(key, out var api) && api.Versions.IsFlexible(version);

    /// <summary>What a connection may ask before it has authenticated on a SASL listener, as in Kafka.</summary>
    private static bool AllowedBeforeAuthentication(short key) => key is ApiKeys.ApiVersions or ApiKeys.SaslHandshake or ApiKeys.SaslAuthenticate;

    public async ValueTask<RequestOutcome> HandleAsync(ReadOnlyMemory<byte> frame, KafkaSession session, CancellationToken cancellationToken)
    {
        var reader = new KafkaReader(frame);
        RequestHeader header;
        try
        {
            header = RequestHeader.Read(ref reader, IsFlexible);
        }
        catch (MalformedRequestException ex)
        {
            return RequestOutcome.Close($"unreadable request header: {ex.Message}");
        }
        if (!_apis.TryGetValue(header.RequestApiKey, out var api))
        {
            return RequestOutcome.Close($"unknown API key {header.RequestApiKey} (client {header.ClientId})");
        }

        var versions = api.Versions;
        if (!versions.Supports(header.RequestApiVersion) && header.RequestApiKey != ApiKeys.ApiVersions)
        {
            // Clients negotiate through ApiVersions first; Kafka itself closes on anything else.
            return RequestOutcome.Close($"API key {header.RequestApiKey} version {header.RequestApiVersion} is not supported ({versions.Min}–{versions.Max}) (client {header.ClientId})");
        }

        if (!session.IsAuthenticated && !AllowedBeforeAuthentication(header.RequestApiKey))
        {
            // Kafka closes such a connection too: there is no answer to give someone unknown.
            return RequestOutcome.Close($"{_names[header.RequestApiKey]} request before authenticating on the {session.Endpoint.Name} listener "
                + $"(client {header.ClientId}): set security.protocol={session.Endpoint.Name} and a SASL mechanism with credentials");
        }

        var response = KafkaWriter.Pooled();
        new ResponseHeader { CorrelationId = header.CorrelationId }
            .Write(response, ResponseHeader.VersionFor(header.RequestApiKey, versions.IsFlexible(header.RequestApiVersion)));

        var body = frame[(frame.Length - reader.Remaining)..];
        var started = Stopwatch.GetTimestamp();
        try
        {
            var respond = await api.HandleAsync(new KafkaRequest(header, body, this, session, _authorizer), response, cancellationToken);
            var apiTag = new KeyValuePair<string, object?>("kafka.api", _names[header.RequestApiKey]);
            BrokerTelemetry.Requests.Add(1, apiTag);
            BrokerTelemetry.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, apiTag);
            return new RequestOutcome(respond ? response.ToResponse() : null, session.CloseAfterResponse, response);
        }
        catch (MalformedRequestException ex)
        {
            response.Dispose();
            return RequestOutcome.Close($"malformed API key {header.RequestApiKey} v{header.RequestApiVersion} request: {ex.Message} (client {header.ClientId})");
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
