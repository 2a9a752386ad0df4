using Shop.Broker.Protocol;

namespace Shop.Broker.Apis;

/// <summary>
/// ApiVersions v0–3 (flexible from 3). The list is built from every handler's declaration. A version
/// above our maximum gets a v0 body with UNSUPPORTED_VERSION, so the client can retry lower.
/// The response header is always v0, even for the flexible v3 body.
/// </summary>
public sealed class ApiVersionsApi : KafkaApi
{
    public override ApiVersionRange Versions { get; } = new(ApiKeys.ApiVersions, 0, 3, FlexibleFrom: 3);

    public override ValueTask<bool> HandleAsync(KafkaRequest request, KafkaWriter response, CancellationToken cancellationToken)
    {
        var version = request.Version;
        var error = ErrorCode.None;
        if (!Versions.Supports(version))
        {
            error = ErrorCode.UnsupportedVersion;
            version = 0;
        }
        var flexible = Versions.IsFlexible(version);
        // The v3 request body (client software name and version) is informative only: not parsed.
        var ranges = request.Apis.Ranges.ToList();
        response.WriteInt16((short)error);
        if (flexible) response.WriteCompactArrayLength(ranges.Count); else response.WriteArrayLength(ranges.Count);
        foreach (var range in ranges)
        {
            response.WriteInt16(range.Key);
            response.WriteInt16(range.Min);
            response.WriteInt16(range.Max);
            if (flexible) response.WriteEmptyTaggedFields();
        }
        if (version >= 1) response.WriteInt32(0); // throttle time
        if (flexible) response.WriteEmptyTaggedFields();
        return ValueTask.FromResult(true);
    }
}
