using System.Buffers.Binary;

namespace Shop.Testing;

/// <summary>A Kafka request frame by hand (size prefix, header v1, body), for the raw clients of the tests and the bench.</summary>
public static class RequestFrames
{
    public static byte[] Build(short apiKey, short version, int correlationId, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> body)
    {
        var frame = new byte[4 + 2 + 2 + 4 + 2 + clientId.Length + body.Length];
        var span = frame.AsSpan();
        BinaryPrimitives.WriteInt32BigEndian(span, frame.Length - 4);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], apiKey);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], version);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], correlationId);
        BinaryPrimitives.WriteInt16BigEndian(span[12..], (short)clientId.Length);
        clientId.CopyTo(span[14..]);
        body.CopyTo(span[(14 + clientId.Length)..]);
        return frame;
    }
}
