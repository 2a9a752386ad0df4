using Shop.Broker.Protocol;
using Shop.Broker.Protocol.Messages;

namespace Shop.Broker.Apis;

/// <summary>
/// ApiVersions v0–3 (flexible from 3). The list is built from every handler's declaration. A version
/// above our maximum gets a v0 body with UNSUPPORTED_VERSION, so the client can retry lower; that is
/// why this API answers through the untyped handler. The response header is always v0
/// (<see cref="ResponseHeader.VersionFor"/>), even for the flexible v3 body.
/// </summary>
public sealed class ApiVersionsApi : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.ApiVersions, 0, 3, ApiVersionsRequest.FlexibleFrom);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var supported = Versions.Supports(request.Version);
        // The v3 request body (client software name and version) is informative only: not parsed.
        var answer = new ApiVersionsResponse
        {
            ErrorCode = (short)(supported ? ErrorCode.None : ErrorCode.UnsupportedVersion),
            ApiKeys = request.Apis.Ranges
                .Select(range => new ApiVersionsResponse.ApiVersion { ApiKey = range.Key, MinVersion = range.Min, MaxVersion = range.Max })
                .ToList(),
        };
        answer.Write(response, supported ? request.Version : (short)0);
        return ValueTask.FromResult(true);
    }
}
