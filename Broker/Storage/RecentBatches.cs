namespace Shop.Broker.Storage;

/// <summary>
/// Where the last batches appended to a segment lie, kept in memory, so that a fetch at the tail of
/// the log (nearly every consumer, on every fetch and on every wake of a long poll) finds its bytes
/// without reading batch headers back from the file: from the sparse index that is one pread per
/// batch passed over, and the profile of the shop showed them at ~9 % of the broker's CPU.
/// One writer (the partition's append lock); readers take a short lock of their own.
/// </summary>
internal sealed class RecentBatches
{
    private const int Capacity = 128;

    private readonly Lock _gate = new();
    private readonly BatchExtent[] _ring = new BatchExtent[Capacity];
    private int _count;
    private int _next; // where the next entry goes

    /// <summary>Called for each batch in file order, before the segment publishes its new size.</summary>
    public void Add(BatchExtent batch)
    {
        lock (_gate)
        {
            _ring[_next] = batch;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>
    /// What <see cref="BatchScan.Locate"/> gives from the file, when the batches it needs are all
    /// still here; false otherwise. Only bytes below <paramref name="size"/> (what the reader may see) count.
    /// </summary>
    public bool TryLocate(long offset, int maxBytes, long endOffset, bool minOneBatch, long size, out long start, out int length)
    {
        lock (_gate)
        {
            var oldest = (_next - _count + Capacity) % Capacity;
            // The ring ends where the segment does; it must also begin at or before the offset's batch.
            if (_count == 0 || (_ring[oldest].BaseOffset > offset && _ring[oldest].Position > 0))
            {
                (start, length) = (0, 0);
                return false;
            }
            var cursor = new Cursor(_ring, oldest, _count, FirstAtOrBefore(oldest, offset), size);
            (start, length) = BatchScan.Locate(ref cursor, offset, maxBytes, endOffset, minOneBatch);
            return true;
        }
    }

    /// <summary>How many entries after the oldest lies the newest batch starting at or before <paramref name="offset"/> (0 if none): where a scan for it starts.</summary>
    private int FirstAtOrBefore(int oldest, long offset)
    {
        int low = 0, high = _count - 1;
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (_ring[(oldest + middle) % Capacity].BaseOffset <= offset) low = middle;
            else high = middle - 1;
        }
        return low;
    }

    /// <summary>The ring's entries from the <paramref name="skip"/>-th after its oldest, while visible; used under the ring's lock.</summary>
    private ref struct Cursor(BatchExtent[] ring, int oldest, int count, int skip, long size) : IBatchCursor
    {
        private int _taken = skip;

        public bool Next(out BatchExtent batch)
        {
            batch = _taken < count ? ring[(oldest + _taken) % Capacity] : default;
            if (_taken == count || batch.Position >= size) return false;
            _taken++;
            return true;
        }
    }
}
