using System.Text.Json;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Storage;

/// <summary>
/// Hands out idempotent producer ids that are never reused, whatever the clock does: ids come from
/// blocks whose end is persisted (<c>producer-ids.json</c>, written atomically) before the first id
/// of the block is handed out, as Kafka's controller does. A restart starts a fresh block, and above
/// every producer id the logs remember (data written before this file existed).
/// </summary>
public sealed class ProducerIdBlocks
{
    public const string FileName = "producer-ids.json";
    public const long BlockSize = 1000;

    private readonly IDisk _disk;
    private readonly string _path;
    private readonly Lock _lock = new();
    private long _next;
    private long _blockEnd;

    private sealed record State(long NextBlockStart);

    public ProducerIdBlocks(IDisk disk, string dataDir, long aboveLogged)
    {
        _disk = disk;
        _path = Path.Combine(dataDir, FileName);
        long persisted = 0;
        if (disk.FileExists(_path))
        {
            try
            {
                persisted = JsonSerializer.Deserialize<State>(disk.ReadAllBytes(_path))?.NextBlockStart ?? 0;
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{Path.GetFullPath(_path)} is unreadable ({ex.Message}): producer ids could be reused; fix or remove it (ids then start above those in the logs)", ex);
            }
        }
        _next = _blockEnd = Math.Max(persisted, aboveLogged + 1);
    }

    public long Allocate()
    {
        lock (_lock)
        {
            if (_next == _blockEnd)
            {
                var end = _blockEnd + BlockSize;
                _disk.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(new State(end)));
                _blockEnd = end;
            }
            return _next++;
        }
    }
}
