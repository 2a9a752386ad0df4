namespace Shop.Broker.Storage;

/// <summary>Where one batch lies in a segment's file, and the offsets it holds.</summary>
internal readonly record struct BatchExtent(long BaseOffset, long LastOffset, long Position, int Size);

/// <summary>The visible batches of a segment in file order, from some batch at or before the one a read wants.</summary>
internal interface IBatchCursor
{
    bool Next(out BatchExtent batch);
}

/// <summary>
/// Which bytes a fetch gets: the one decision, whether the batches come from the file's headers
/// (<see cref="LogSegment"/>) or from memory (<see cref="RecentBatches"/>).
/// </summary>
internal static class BatchScan
{
    /// <summary>
    /// Whole batches below <paramref name="endOffset"/> from the one containing <paramref name="offset"/>,
    /// up to <paramref name="maxBytes"/>; the first batch even when larger, if <paramref name="minOneBatch"/>.
    /// Length 0 when no batch reaches the offset.
    /// </summary>
    public static (long Start, int Length) Locate<TCursor>(ref TCursor batches, long offset, int maxBytes, long endOffset, bool minOneBatch)
        where TCursor : IBatchCursor, allows ref struct
    {
        BatchExtent batch;
        do
        {
            if (!batches.Next(out batch)) return (0, 0);
        }
        while (batch.LastOffset < offset);
        var start = batch.Position;
        var end = start;
        do
        {
            // A batch beyond what the caller may see (the high watermark) is left for a later read.
            if (batch.BaseOffset >= endOffset) break;
            if ((end > start || !minOneBatch) && end - start + batch.Size > maxBytes) break;
            end += batch.Size;
        }
        while (batches.Next(out batch));
        return (start, (int)(end - start));
    }
}
