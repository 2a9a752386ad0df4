namespace Shop.Broker.Protocol.Messages;

public sealed partial class RequestHeader
{
    /// <summary>
    /// Reads header v1, or v2 (tagged fields after a ClientId that stays a classic string) when the
    /// API version it names is flexible: the header's own version depends on what it announces.
    /// </summary>
    public static RequestHeader Read(ref KafkaReader reader, Func<short, short, bool> isFlexible)
    {
        var peek = reader;
        var apiKey = peek.ReadInt16();
        var apiVersion = peek.ReadInt16();
        return Read(ref reader, isFlexible(apiKey, apiVersion) ? (short)2 : (short)1);
    }
}

public sealed partial class ResponseHeader
{
    /// <summary>
    /// Header v1 (tagged fields) for flexible versions, except ApiVersions: its response header is
    /// always v0, so that a client can read the answer whatever version it asked for.
    /// </summary>
    public static short VersionFor(short apiKey, bool flexible) => flexible && apiKey != ApiVersionsRequest.ApiKey ? (short)1 : (short)0;
}
