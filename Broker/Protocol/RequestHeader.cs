namespace Shop.Broker.Protocol;

/// <summary>
/// Request header v1 (api key, version, correlation id, client id) or v2 (the same plus tagged
/// fields, for flexible versions). ClientId keeps the classic int16 string even in v2.
/// </summary>
public readonly record struct RequestHeader(short ApiKey, short ApiVersion, int CorrelationId, string? ClientId)
{
    public static RequestHeader Read(ref KafkaReader reader, Func<short, short, bool> isFlexible)
    {
        var header = new RequestHeader(reader.ReadInt16(), reader.ReadInt16(), reader.ReadInt32(), reader.ReadNullableString());
        if (isFlexible(header.ApiKey, header.ApiVersion)) reader.SkipTaggedFields();
        return header;
    }
}
