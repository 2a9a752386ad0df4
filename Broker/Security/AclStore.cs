using System.Text.Json;
using System.Text.Json.Serialization;
using Shop.Broker.Storage;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Security;

/// <summary>
/// Every ACL: those created through the Kafka API, kept in <c>acls.json</c> in the data folder and
/// replaced atomically on each change (so they survive restarts and power cuts), and those of the
/// configuration (<c>Broker:Acls</c>, as the AppHost sets them), always in force and changed only
/// by changing the configuration.
/// </summary>
public sealed class AclStore
{
    public const string FileName = "acls.json";

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() }, WriteIndented = true };

    private readonly IDisk _disk;
    private readonly string _path;
    private readonly Lock _lock = new();
    private volatile IReadOnlyList<AclBinding> _acls;
    private volatile IReadOnlyList<AclBinding> _all;

    public AclStore(LogContext context)
    {
        _disk = context.Disk;
        _path = Path.Combine(context.Options.DataDir, FileName);
        Configured = context.Options.Acls.Select(line =>
        {
            try
            {
                return AclBinding.Parse(line);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"Broker:Acls: {ex.Message}", ex);
            }
        }).Distinct().ToList();
        _acls = Load();
        _all = Configured.Union(_acls).ToList();
    }

    /// <summary>The ACLs of <c>Broker:Acls</c>.</summary>
    public IReadOnlyList<AclBinding> Configured { get; }

    private IReadOnlyList<AclBinding> Load()
    {
        if (!_disk.FileExists(_path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<AclBinding>>(_disk.ReadAllBytes(_path), Json) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{Path.GetFullPath(_path)} is unreadable ({ex.Message}): fix it, or remove it and create the ACLs again", ex);
        }
    }

    public IReadOnlyList<AclBinding> All => _all;

    /// <summary>Adds the ACLs not there yet (creating one twice is not an error, as in Kafka).</summary>
    public void Add(IReadOnlyCollection<AclBinding> acls) => Change(current => current.Union(acls).ToList());

    /// <summary>Removes the stored ACLs each filter matches; returns them, per filter (configured ones stay).</summary>
    public IReadOnlyList<IReadOnlyList<AclBinding>> Remove(IReadOnlyList<AclFilter> filters)
    {
        var removed = new List<IReadOnlyList<AclBinding>>();
        Change(current =>
        {
            removed.Clear();
            removed.AddRange(filters.Select(f => (IReadOnlyList<AclBinding>)current.Where(f.Matches).ToList()));
            return current.Where(acl => !filters.Any(f => f.Matches(acl))).ToList();
        });
        return removed;
    }

    private void Change(Func<IReadOnlyList<AclBinding>, List<AclBinding>> change)
    {
        lock (_lock)
        {
            var next = change(_acls);
            _disk.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(next, Json));
            _acls = next;
            _all = Configured.Union(next).ToList();
        }
    }
}
