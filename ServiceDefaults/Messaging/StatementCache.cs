using Microsoft.Data.Sqlite;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The writer connection's commands, by SQL text. Microsoft.Data.Sqlite keeps a command's prepared
/// statements for as long as the command object lives, so a command made per use parses and plans
/// its SQL every time: SQLite's parser showed in WebShop's CPU profile at 200 orders/s. The
/// <see cref="Capacity"/> most recently used are kept; the least recently used is disposed first.
/// </summary>
internal sealed class StatementCache(SqliteConnection connection) : IDisposable
{
    public const int Capacity = 64;

    private readonly Dictionary<string, LinkedListNode<(string Sql, SqliteCommand Command)>> _bySql = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Sql, SqliteCommand Command)> _recent = new();

    public int Count => _bySql.Count;

    /// <summary>The command for <paramref name="sql"/>, in <paramref name="transaction"/>, with <paramref name="parameters"/> bound. Owned by the cache: never disposed by the caller.</summary>
    public SqliteCommand Get(string sql, SqliteTransaction? transaction, (string Name, object? Value)[] parameters)
    {
        if (_bySql.TryGetValue(sql, out var node))
        {
            _recent.Remove(node);
            _recent.AddFirst(node);
        }
        else
        {
            if (_bySql.Count >= Capacity)
            {
                var oldest = _recent.Last!;
                _recent.RemoveLast();
                _bySql.Remove(oldest.Value.Sql);
                oldest.Value.Command.Dispose();
            }
            var created = connection.CreateCommand();
            created.CommandText = sql;
            node = _recent.AddFirst((sql, created));
            _bySql[sql] = node;
        }
        var command = node.Value.Command;
        command.Transaction = transaction;
        Bind(command.Parameters, parameters);
        return command;
    }

    private static void Bind(SqliteParameterCollection bound, (string Name, object? Value)[] parameters)
    {
        var same = bound.Count == parameters.Length;
        for (var i = 0; same && i < parameters.Length; i++) same = bound[i].ParameterName == parameters[i].Name;
        if (!same)
        {
            bound.Clear();
            foreach (var (name, value) in parameters) bound.AddWithValue(name, value ?? DBNull.Value);
            return;
        }
        // Their SQLite type is inferred from the value at each execution (none is set explicitly).
        for (var i = 0; i < parameters.Length; i++) bound[i].Value = parameters[i].Value ?? DBNull.Value;
    }

    public void Dispose()
    {
        foreach (var (_, command) in _recent) command.Dispose();
        _recent.Clear();
        _bySql.Clear();
    }
}
