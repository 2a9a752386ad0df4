using Shop.Broker.Protocol;

namespace Shop.Broker.Storage;

/// <summary>
/// Fetched batches still in their segment file: read (pread) straight into the socket's memory as
/// the answer is written, instead of into a buffer and then copied twice. Holds a reference to the
/// segment, so a segment retired meanwhile (retention, compaction) stays open, and readable, until
/// the answer is out.
/// </summary>
internal sealed class SegmentSlice : DeferredBytes
{
    private readonly LogSegment _segment;
    private readonly long _start;

    /// <param name="segment">Already acquired for this slice; released when it is disposed.</param>
    internal SegmentSlice(LogSegment segment, long start, int length) : base(length)
    {
        _segment = segment;
        _start = start;
    }

    protected override void Read(long offset, Span<byte> destination) => _segment.ReadAt(_start + offset, destination);

    protected override void Release() => _segment.Release();
}
