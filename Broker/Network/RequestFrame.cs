using System.Buffers;
using System.Buffers.Binary;
using Shop.Broker.Apis;
using Shop.Broker.Protocol;

namespace Shop.Broker.Network;

/// <summary>
/// One request frame (without its size prefix), owned by the connection until its answer is written,
/// together with its share of <see cref="RequestMemory"/>. A Produce frame is copied once, into a
/// pooled buffer: that copy is the only one its records get before the log (the append rewrites
/// their offsets in place), no frame lands on the large-object heap, and nothing keeps it after the
/// answer. Other frames get an array of their own, because their handlers may keep slices of it
/// (a group keeps its members' metadata).
/// </summary>
internal sealed class RequestFrame : IDisposable
{
    private readonly RequestMemory.Reservation _reservation;
    private byte[]? _pooled;

    private RequestFrame(byte[] buffer, int length, bool pooled, RequestMemory.Reservation reservation)
    {
        Memory = buffer.AsMemory(0, length);
        _pooled = pooled ? buffer : null;
        _reservation = reservation;
    }

    public ReadOnlyMemory<byte> Memory { get; }

    public short ApiKey => BinaryPrimitives.ReadInt16BigEndian(Memory.Span);

    public static RequestFrame CopyFrom(ReadOnlySequence<byte> frame, RequestMemory.Reservation reservation)
    {
        var length = checked((int)frame.Length);
        Span<byte> key = stackalloc byte[2];
        frame.Slice(0, 2).CopyTo(key);
        var pooled = BinaryPrimitives.ReadInt16BigEndian(key) == ApiKeys.Produce;
        var buffer = pooled ? FrameBuffers.Pool.Rent(length) : new byte[length];
        frame.CopyTo(buffer);
        return new RequestFrame(buffer, length, pooled, reservation);
    }

    /// <summary>Only once the request's handler has finished with it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _pooled, null) is { } buffer) FrameBuffers.Pool.Return(buffer);
        _reservation.Dispose();
    }
}
