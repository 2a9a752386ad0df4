using System.Text.Json;
using Shop.Broker.Protocol;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>A batch with a producer sequence that is neither the next one nor a recent duplicate: Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER.</summary>
public sealed class OutOfOrderSequenceException(string message) : Exception(message);

/// <summary>A batch from an older epoch of a producer id than one already seen: Kafka's INVALID_PRODUCER_EPOCH.</summary>
public sealed class InvalidProducerEpochException(string message) : Exception(message);

/// <summary>
/// What one partition knows of each idempotent producer: its epoch and its last five batches
/// (first and last sequence, offsets), as Kafka keeps. A retried batch that matches one of them
/// is a duplicate: acknowledged with its original offset, not written again. Rebuilt from the
/// batch headers in the log after a crash; saved as <c>producer-state.json</c> on a clean stop.
/// A producer idle longer than <c>producer.id.expiration.ms</c> is forgotten, as in Kafka, so the
/// table does not grow with every producer that ever wrote.
/// </summary>
internal sealed class ProducerStateTable
{
    public const string FileName = "producer-state.json";
    private const int RememberedBatches = 5;

    public sealed record BatchRecord(int FirstSequence, int LastSequence, long BaseOffset, long LastOffset);

    public sealed class ProducerEntry
    {
        public short Epoch { get; set; }

        public List<BatchRecord> Batches { get; set; } = [];

        /// <summary>When it last wrote (ms since the epoch): the batch's timestamp when rebuilt from the log.</summary>
        public long LastWriteMs { get; set; }
    }

    private Dictionary<long, ProducerEntry> _producers = [];

    public int Count => _producers.Count;

    /// <summary>
    /// Checks an incoming batch against the producer's state. Returns the original batch when it is
    /// a duplicate, null when it is new and in order; throws when it is out of order or fenced.
    /// </summary>
    public BatchRecord? Check(RecordBatchHeader batch)
    {
        if (batch.ProducerId < 0) return null; // not an idempotent producer
        if (!_producers.TryGetValue(batch.ProducerId, out var entry)) return null; // first batch we see of it
        if (batch.ProducerEpoch < entry.Epoch)
            throw new InvalidProducerEpochException($"producer {batch.ProducerId} epoch {batch.ProducerEpoch} is older than {entry.Epoch}");
        if (batch.ProducerEpoch > entry.Epoch)
        {
            if (batch.BaseSequence != 0)
                throw new OutOfOrderSequenceException($"producer {batch.ProducerId} started epoch {batch.ProducerEpoch} at sequence {batch.BaseSequence}, not 0");
            return null;
        }
        var lastSequence = LastSequence(batch);
        var duplicate = entry.Batches.FirstOrDefault(b => b.FirstSequence == batch.BaseSequence && b.LastSequence == lastSequence);
        if (duplicate is not null) return duplicate;
        var expected = NextSequence(entry.Batches[^1].LastSequence);
        if (batch.BaseSequence != expected)
            throw new OutOfOrderSequenceException($"producer {batch.ProducerId} sent sequence {batch.BaseSequence}, expected {expected}");
        return null;
    }

    /// <summary>Records a batch that was written (with its assigned offsets) at <paramref name="nowMs"/>.</summary>
    public void Record(RecordBatchHeader batch, long nowMs)
    {
        if (batch.ProducerId < 0) return;
        if (!_producers.TryGetValue(batch.ProducerId, out var entry) || batch.ProducerEpoch != entry.Epoch)
        {
            entry = new ProducerEntry { Epoch = batch.ProducerEpoch };
            _producers[batch.ProducerId] = entry;
        }
        entry.Batches.Add(new BatchRecord(batch.BaseSequence, LastSequence(batch), batch.BaseOffset, batch.LastOffset));
        if (entry.Batches.Count > RememberedBatches) entry.Batches.RemoveAt(0);
        entry.LastWriteMs = Math.Max(entry.LastWriteMs, nowMs);
    }

    /// <summary>Forgets producers that have not written for <paramref name="expirationMs"/>. Returns how many.</summary>
    public int Expire(long nowMs, long expirationMs)
    {
        var idle = _producers.Where(p => nowMs - p.Value.LastWriteMs > expirationMs).Select(p => p.Key).ToList();
        foreach (var producerId in idle) _producers.Remove(producerId);
        return idle.Count;
    }

    /// <summary>The highest producer id seen, or -1: new ids must start above it.</summary>
    public long MaxProducerId => _producers.Count == 0 ? -1 : _producers.Keys.Max();

    private static int LastSequence(RecordBatchHeader batch) => (int)((batch.BaseSequence + (long)batch.LastOffsetDelta) % ((long)int.MaxValue + 1));

    private static int NextSequence(int sequence) => sequence == int.MaxValue ? 0 : sequence + 1;

    public void Save(IDisk disk, string directory) =>
        disk.WriteAtomically(Path.Combine(directory, FileName), JsonSerializer.SerializeToUtf8Bytes(_producers));

    /// <summary>
    /// Loads the clean-stop snapshot, and deletes it: after a later crash it would be stale. (Its
    /// deletion need not be durable: a snapshot is only trusted beside the clean-shutdown marker,
    /// whose removal on start is.)
    /// </summary>
    public bool TryLoad(IDisk disk, string directory, long nowMs)
    {
        var path = Path.Combine(directory, FileName);
        if (!disk.FileExists(path)) return false;
        try
        {
            _producers = JsonSerializer.Deserialize<Dictionary<long, ProducerEntry>>(disk.ReadAllBytes(path)) ?? [];
            // Snapshots from before expiry existed carry no last write: count from now, not from 1970.
            foreach (var entry in _producers.Values.Where(e => e.LastWriteMs == 0)) entry.LastWriteMs = nowMs;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            disk.DeleteFile(path);
        }
    }
}
