using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Shop.Broker.Protocol;

/// <summary>
/// Builds one response frame: reserves the 4-byte size prefix, then Kafka's big-endian primitives,
/// classic and compact. <see cref="ToFrame"/> patches the size in. A response frame is built in a
/// buffer from <see cref="FrameBuffers"/> (<see cref="Pooled"/>), given back once it is written to the socket,
/// so that answers of megabytes (fetches) do not each land on the large-object heap. Records that
/// come as <see cref="DeferredBytes"/> are not copied in: the writer leaves their place in the frame
/// to be filled as it goes to the socket (<see cref="ToResponse"/>).
/// </summary>
public sealed class KafkaWriter : IDisposable
{
    private readonly bool _pooled;
    private byte[] _buffer;
    private int _length;
    private List<(int At, DeferredBytes Bytes)>? _deferred;
    private List<IDisposable>? _owned;

    public KafkaWriter(int initialCapacity = 256)
    {
        _buffer = new byte[Math.Max(initialCapacity, 16)];
        _length = 4; // the frame size, patched in ToFrame
    }

    private KafkaWriter(byte[] rented)
    {
        _pooled = true;
        _buffer = rented;
        _length = 4;
    }

    /// <summary>A writer whose buffer comes from, and goes back to (<see cref="Dispose"/>), <see cref="FrameBuffers"/>.</summary>
    public static KafkaWriter Pooled(int initialCapacity = 4096) => new(FrameBuffers.Pool.Rent(initialCapacity));

    /// <summary>Bytes written after the size prefix.</summary>
    public int BodyLength => _length - 4;

    private Span<byte> Grow(int count)
    {
        if (_length + count > _buffer.Length) Resize(Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    private void Resize(int capacity)
    {
        if (!_pooled)
        {
            Array.Resize(ref _buffer, capacity);
            return;
        }
        var larger = FrameBuffers.Pool.Rent(capacity);
        _buffer.AsSpan(0, _length).CopyTo(larger);
        FrameBuffers.Pool.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>Keeps <paramref name="resource"/> (what deferred bytes are read from) until the answer is written: disposed with the writer.</summary>
    public void Own(IDisposable resource) => (_owned ??= []).Add(resource);

    /// <summary>Gives a pooled buffer back, and what the writer owns: the frame from <see cref="ToFrame"/> is invalid from here on.</summary>
    public void Dispose()
    {
        if (_owned is { } owned)
        {
            _owned = null;
            foreach (var resource in owned) resource.Dispose();
        }
        if (!_pooled || _buffer.Length == 0) return;
        FrameBuffers.Pool.Return(_buffer);
        _buffer = [];
    }

    public void WriteInt8(sbyte value) => Grow(1)[0] = (byte)value;

    public void WriteBool(bool value) => Grow(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Grow(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Grow(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Grow(8), value);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Grow(2), value);

    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleBigEndian(Grow(8), value);

    public void WriteUuid(Guid value) => value.TryWriteBytes(Grow(16), bigEndian: true, out _);

    public void WriteUVarint(uint value)
    {
        while (value >= 0x80)
        {
            Grow(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }
        Grow(1)[0] = (byte)value;
    }

    public void WriteString(string value) => WriteNullableString(value);

    public void WriteNullableString(string? value)
    {
        if (value is null) { WriteInt16(-1); return; }
        var count = Encoding.UTF8.GetByteCount(value);
        WriteInt16(checked((short)count));
        Encoding.UTF8.GetBytes(value, Grow(count));
    }

    public void WriteCompactString(string value) => WriteCompactNullableString(value);

    public void WriteCompactNullableString(string? value)
    {
        if (value is null) { WriteUVarint(0); return; }
        var count = Encoding.UTF8.GetByteCount(value);
        WriteUVarint((uint)count + 1);
        Encoding.UTF8.GetBytes(value, Grow(count));
    }

    /// <summary>A byte field with int32 length; records are never null for clients, so empty stays empty.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(Grow(value.Length));
    }

    /// <summary>A string, compact (flexible versions) or classic.</summary>
    public void WriteString(string value, bool compact) => WriteNullableString(value, compact);

    public void WriteNullableString(string? value, bool compact)
    {
        if (compact) WriteCompactNullableString(value); else WriteNullableString(value);
    }

    public void WriteBytes(ReadOnlySpan<byte> value, bool compact)
    {
        if (!compact) { WriteBytes(value); return; }
        WriteUVarint((uint)value.Length + 1);
        value.CopyTo(Grow(value.Length));
    }

    public void WriteNullableBytes(ReadOnlyMemory<byte>? value, bool compact)
    {
        if (value is { } whole && DeferredBytes.TryGetWhole(whole, out var deferred))
        {
            if (compact) WriteUVarint((uint)deferred.Length + 1); else WriteInt32(deferred.Length);
            (_deferred ??= []).Add((_length, deferred));
        }
        else if (value is { } bytes) WriteBytes(bytes.Span, compact);
        else if (compact) WriteUVarint(0);
        else WriteInt32(-1);
    }

    /// <summary>An array length, compact or classic; -1 = null.</summary>
    public void WriteArrayLength(int count, bool compact)
    {
        if (compact) WriteCompactArrayLength(count); else WriteArrayLength(count);
    }

    /// <summary>One tagged field: its tag, its size, then the value written into <paramref name="value"/>.</summary>
    public void WriteTaggedField(int tag, KafkaWriter value)
    {
        WriteUVarint((uint)tag);
        WriteUVarint((uint)value.BodyLength);
        value._buffer.AsSpan(4, value.BodyLength).CopyTo(Grow(value.BodyLength));
    }

    /// <summary>What a generated Write throws when a handler leaves null a field the version cannot carry as null.</summary>
    public static InvalidOperationException NotNullable(string field, short version) =>
        new($"{field} must not be null in version {version}");

    public void WriteArrayLength(int count) => WriteInt32(count);

    public void WriteCompactArrayLength(int count) => WriteUVarint((uint)(count + 1));

    public void WriteEmptyTaggedFields() => WriteUVarint(0);

    /// <summary>The finished frame, size prefix included; only for a frame without deferred bytes.</summary>
    public ReadOnlyMemory<byte> ToFrame()
    {
        if (_deferred is not null) throw new InvalidOperationException("the frame has deferred bytes: use ToResponse");
        return ToResponse().Bytes;
    }

    /// <summary>The finished frame, size prefix included (it counts the deferred bytes), and where the deferred bytes go.</summary>
    public ResponseFrame ToResponse()
    {
        var frame = new ResponseFrame(_buffer.AsMemory(0, _length), _deferred ?? (IReadOnlyList<(int, DeferredBytes)>)[]);
        BinaryPrimitives.WriteInt32BigEndian(_buffer, checked((int)(frame.Length - 4)));
        return frame;
    }
}
