using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Shop.ServiceDefaults.Messaging;

namespace Shop.Messaging.Tests;

/// <summary>A service's SQLite database in a temporary folder, with the tables a test creates; removed with the folder.</summary>
public sealed class TempServiceDatabase : IDisposable
{
    private readonly DirectoryInfo _dataDir;

    public TempServiceDatabase(string name, params string[] schema)
    {
        _dataDir = Directory.CreateTempSubdirectory($"{name}-");
        Database = new ServiceDatabase(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Shop:DataDir"] = _dataDir.FullName }).Build(), name);
        using var connection = Database.Open();
        foreach (var statement in schema) ServiceDatabase.Execute(connection, statement);
    }

    public ServiceDatabase Database { get; }

    /// <summary>The first column of each row of <paramref name="sql"/>, as text (null as <c>&lt;null&gt;</c>), read on a connection of its own.</summary>
    public List<string> Rows(string sql)
    {
        using var connection = Database.Open();
        using var command = ServiceDatabase.Command(connection, sql);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(reader.IsDBNull(0) ? "<null>" : Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        return rows;
    }

    public void Dispose()
    {
        Database.Dispose();
        SqliteConnection.ClearAllPools();
        _dataDir.Delete(recursive: true);
    }
}
