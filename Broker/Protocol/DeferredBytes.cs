using System.Buffers;

namespace Shop.Broker.Protocol;

/// <summary>
/// Bytes an answer carries without holding them: a range of a segment file, read straight into the
/// socket's memory when the answer is written (<see cref="KafkaWriter"/> leaves a gap for them,
/// <see cref="ResponseFrame"/> says where). Whoever asks for the bytes themselves (its
/// <see cref="Memory{T}.Span"/>: a trace-context scan, a test) gets them read into a pooled buffer first.
/// Not thread-safe: one answer, one writer.
/// </summary>
public abstract class DeferredBytes(int length) : MemoryManager<byte>
{
    private byte[]? _read;
    private bool _disposed;

    public int Length { get; } = length;

    /// <summary>The deferred bytes <paramref name="memory"/> is, when it is all of them (not a slice of them).</summary>
    public static bool TryGetWhole(ReadOnlyMemory<byte> memory, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DeferredBytes? deferred) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetMemoryManager(memory, out deferred, out var start, out var length)
        && start == 0 && length == deferred.Length;

    /// <summary>Copies the bytes from <paramref name="offset"/> on into all of <paramref name="destination"/>.</summary>
    public void CopyTo(int offset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_read is { } read) read.AsSpan(offset, destination.Length).CopyTo(destination);
        else Read(offset, destination);
    }

    /// <summary>Reads the bytes from <paramref name="offset"/> on into all of <paramref name="destination"/>.</summary>
    protected abstract void Read(long offset, Span<byte> destination);

    /// <summary>Lets go of what the bytes are read from (once, on dispose).</summary>
    protected abstract void Release();

    /// <summary>The base class's would read the bytes (it asks <see cref="GetSpan"/> for the length).</summary>
    public override Memory<byte> Memory => CreateMemory(Length);

    public override Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_read is null)
        {
            var buffer = FrameBuffers.Pool.Rent(Length);
            Read(0, buffer.AsSpan(0, Length));
            _read = buffer;
        }
        return _read.AsSpan(0, Length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) =>
        throw new NotSupportedException("deferred bytes are copied into the socket's memory, never pinned");

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (_read is { } read) FrameBuffers.Pool.Return(read);
        _read = null;
        Release();
    }
}

/// <summary>A finished answer: its bytes (size prefix included), with deferred ranges to be written at given positions of them.</summary>
public readonly record struct ResponseFrame(ReadOnlyMemory<byte> Bytes, IReadOnlyList<(int At, DeferredBytes Bytes)> Deferred)
{
    /// <summary>The frame's length on the wire.</summary>
    public long Length => Bytes.Length + Deferred.Sum(d => (long)d.Bytes.Length);
}
