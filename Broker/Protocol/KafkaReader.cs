using System.Buffers.Binary;
using System.Text;

namespace Shop.Broker.Protocol;

/// <summary>Thrown when a request body cannot be parsed: the connection that sent it is closed.</summary>
public sealed class MalformedRequestException(string message) : Exception(message);

/// <summary>
/// Reads Kafka's big-endian primitives from one request frame. Classic and compact (flexible)
/// encodings are written once here; byte fields come back as slices of the frame, not copies.
/// </summary>
public struct KafkaReader(ReadOnlyMemory<byte> buffer)
{
    private readonly ReadOnlyMemory<byte> _buffer = buffer;
    private int _position;

    public readonly int Remaining => _buffer.Length - _position;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
            throw new MalformedRequestException($"needs {count} bytes at position {_position}, {Remaining} remain");
        var span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public bool ReadBool() => Take(1)[0] != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    public uint ReadUVarint()
    {
        uint value = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            value |= (uint)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new MalformedRequestException("unsigned varint longer than 5 bytes");
    }

    /// <summary>A uvarint that counts bytes or elements must fit in an int, or the request is garbage.</summary>
    private static int AsSize(uint value) => value <= int.MaxValue ? (int)value : throw new MalformedRequestException($"a length of {value} cannot be");

    public string ReadString() => ReadNullableString() ?? throw new MalformedRequestException("null where a string is required");

    public string? ReadNullableString()
    {
        var length = ReadInt16();
        return length < 0 ? null : Encoding.UTF8.GetString(Take(length));
    }

    public string ReadCompactString() => ReadCompactNullableString() ?? throw new MalformedRequestException("null where a string is required");

    public string? ReadCompactNullableString()
    {
        var lengthPlusOne = ReadUVarint();
        return lengthPlusOne == 0 ? null : Encoding.UTF8.GetString(Take(AsSize(lengthPlusOne - 1)));
    }

    /// <summary>A string, compact (flexible versions) or classic.</summary>
    public string ReadString(bool compact) => compact ? ReadCompactString() : ReadString();

    public string? ReadNullableString(bool compact) => compact ? ReadCompactNullableString() : ReadNullableString();

    /// <summary>A byte field, compact or classic: a slice of the frame.</summary>
    public ReadOnlyMemory<byte> ReadBytes(bool compact) => ReadNullableBytes(compact) ?? throw new MalformedRequestException("null where bytes are required");

    public ReadOnlyMemory<byte>? ReadNullableBytes(bool compact) => compact ? ReadCompactNullableBytes() : ReadNullableBytes();

    /// <summary>An array length, compact or classic; -1 = null.</summary>
    public int ReadArrayLength(bool compact, int minElementSize) => compact ? ReadCompactArrayLength(minElementSize) : ReadArrayLength(minElementSize);

    /// <summary>The value of one tagged field (after its tag): a reader over exactly its bytes.</summary>
    public KafkaReader ReadTaggedField()
    {
        var size = AsSize(ReadUVarint());
        Take(size);
        return new KafkaReader(_buffer.Slice(_position - size, size));
    }

    /// <summary>A nullable byte field (int32 length): a slice of the frame.</summary>
    public ReadOnlyMemory<byte>? ReadNullableBytes()
    {
        var length = ReadInt32();
        if (length < 0) return null;
        Take(length);
        return _buffer.Slice(_position - length, length);
    }

    public ReadOnlyMemory<byte>? ReadCompactNullableBytes()
    {
        var lengthPlusOne = ReadUVarint();
        if (lengthPlusOne == 0) return null;
        var length = AsSize(lengthPlusOne - 1);
        Take(length);
        return _buffer.Slice(_position - length, length);
    }

    /// <summary>An array length (int32, -1 = null); checked against what remains so garbage cannot allocate gigabytes.</summary>
    public int ReadArrayLength(int minElementSize = 1)
    {
        var count = ReadInt32();
        CheckCount(count, minElementSize);
        return count;
    }

    /// <summary>A compact array length (uvarint N+1, 0 = null), returned as N or -1.</summary>
    public int ReadCompactArrayLength(int minElementSize = 1)
    {
        var countPlusOne = ReadUVarint();
        if (countPlusOne == 0) return -1;
        var count = AsSize(countPlusOne - 1);
        CheckCount(count, minElementSize);
        return count;
    }

    private readonly void CheckCount(int count, int minElementSize)
    {
        if (count < -1 || (long)count * minElementSize > Remaining)
            throw new MalformedRequestException($"array of {count} elements cannot fit in the {Remaining} bytes left");
    }

    /// <summary>Skips the tagged fields of a flexible structure whose schema has none we read.</summary>
    public void SkipTaggedFields()
    {
        var count = ReadUVarint();
        for (var i = 0; i < count; i++)
        {
            ReadUVarint(); // tag
            Take(AsSize(ReadUVarint()));
        }
    }
}
