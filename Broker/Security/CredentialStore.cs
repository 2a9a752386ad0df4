using System.Text.Json;
using Shop.Broker.Storage;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Security;

/// <summary>
/// Users' SCRAM credentials (salt, iterations, StoredKey, ServerKey: never a password), one per user
/// and mechanism, kept in <c>scram-credentials.json</c> in the data folder and replaced atomically
/// on every change, so they survive restarts and power cuts. Users named in configuration
/// (<c>Broker:Users:&lt;name&gt;=&lt;password&gt;</c>) get credentials for both mechanisms at start;
/// a changed password replaces them, an unchanged one keeps them.
/// </summary>
public sealed class CredentialStore
{
    public const string FileName = "scram-credentials.json";

    /// <summary>Kafka's words for a failed authentication: the same for an unknown user and a wrong password.</summary>
    public const string InvalidCredentials = "invalid credentials";

    private readonly IDisk _disk;
    private readonly string _path;
    private readonly Lock _lock = new();
    private Dictionary<(string User, string Mechanism), ScramCredential> _credentials;

    private sealed record StoredCredential(string User, string Mechanism, string Salt, string StoredKey, string ServerKey, int Iterations);

    public CredentialStore(LogContext context, ILogger<CredentialStore> logger)
    {
        _disk = context.Disk;
        _path = Path.Combine(context.Options.DataDir, FileName);
        _credentials = Load();
        var configured = context.Options.Users;
        if (configured.Count > 0)
        {
            foreach (var (user, password) in configured)
            {
                foreach (var mechanism in ScramMechanism.All)
                {
                    if (Find(user, mechanism) is { } existing && mechanism.Matches(existing, password)) continue;
                    Upsert(user, mechanism, mechanism.CredentialFor(password));
                    logger.LogInformation("Stored {Mechanism} credentials of configured user {User}", mechanism.Name, user);
                }
            }
        }
    }

    private Dictionary<(string, string), ScramCredential> Load()
    {
        if (!_disk.FileExists(_path)) return [];
        try
        {
            var stored = JsonSerializer.Deserialize<List<StoredCredential>>(_disk.ReadAllBytes(_path)) ?? [];
            return stored.ToDictionary(s => (s.User, s.Mechanism),
                s => new ScramCredential(Convert.FromBase64String(s.Salt), Convert.FromBase64String(s.StoredKey), Convert.FromBase64String(s.ServerKey), s.Iterations));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{Path.GetFullPath(_path)} is unreadable ({ex.Message}): fix it, or remove it and set the users again", ex);
        }
    }

    public ScramCredential? Find(string user, ScramMechanism mechanism)
    {
        lock (_lock) return _credentials.GetValueOrDefault((user, mechanism.Name));
    }

    /// <summary>PLAIN's check: the password against the user's strongest stored credential.</summary>
    public bool Verify(string user, string password)
    {
        foreach (var mechanism in ScramMechanism.All.Reverse())
        {
            if (Find(user, mechanism) is { } credential) return mechanism.Matches(credential, password);
        }
        return false;
    }

    /// <summary>Every user with the mechanisms and iterations of their credentials.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(ScramMechanism Mechanism, int Iterations)>> Describe()
    {
        lock (_lock)
        {
            return _credentials.GroupBy(c => c.Key.User).ToDictionary(g => g.Key,
                g => (IReadOnlyList<(ScramMechanism, int)>)g.Select(c => (ScramMechanism.ByName(c.Key.Mechanism)!, c.Value.Iterations)).ToList());
        }
    }

    public void Upsert(string user, ScramMechanism mechanism, ScramCredential credential) =>
        Change(all => all[(user, mechanism.Name)] = credential);

    /// <summary>False when the user had no credential for that mechanism.</summary>
    public bool Delete(string user, ScramMechanism mechanism)
    {
        var removed = false;
        Change(all => removed = all.Remove((user, mechanism.Name)));
        return removed;
    }

    /// <summary>Applies a change to a copy, writes the copy durably, and only then makes it the one in use.</summary>
    private void Change(Action<Dictionary<(string, string), ScramCredential>> change)
    {
        lock (_lock)
        {
            var next = new Dictionary<(string, string), ScramCredential>(_credentials);
            change(next);
            var stored = next.Select(c => new StoredCredential(c.Key.Item1, c.Key.Item2, Convert.ToBase64String(c.Value.Salt),
                Convert.ToBase64String(c.Value.StoredKey), Convert.ToBase64String(c.Value.ServerKey), c.Value.Iterations)).ToList();
            _disk.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(stored));
            _credentials = next;
        }
    }
}
