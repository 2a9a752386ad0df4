using System.Buffers;

namespace Shop.Broker.Protocol;

/// <summary>
/// The pool every large broker buffer comes from: request frames, answers, fetched records. Not the
/// shared pool: that one gives its arrays up on every gen2 collection and keeps them per core, and
/// a miss here is an array of megabytes on the large-object heap, whose allocations cause the
/// next gen2 (measured with the wire bench's consume: one fetch in twenty allocated its 16 MiB
/// answer anew). This pool keeps what it was given back, up to <see cref="PerSize"/> arrays of each
/// power-of-two size, so what it holds is bounded by the most requests ever in flight at once.
/// </summary>
public static class FrameBuffers
{
    /// <summary>Arrays kept per size.</summary>
    public const int PerSize = 16;

    /// <summary>Arrays up to 1 GiB are pooled (larger ones are allocated and dropped, as the shared pool does).</summary>
    public static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 1 << 30, maxArraysPerBucket: PerSize);
}
