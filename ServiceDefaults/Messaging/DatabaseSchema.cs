using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>One numbered step of a schema: applied once per file, in order, in one transaction with the version bump.</summary>
public sealed record Migration(int Version, string Description, Func<WriteTransaction, Task> Apply)
{
    public static Migration Sql(int version, string description, string sql) =>
        new(version, description, write => { write.Execute(sql); return Task.CompletedTask; });
}

/// <summary>
/// The tables of one part of a service (the messaging tables, the orders, the stock…) as numbered
/// migrations, and an optional step run at every start after them (say, seeding new products).
/// A file written by an older version is brought up to date; one written by a newer version is refused.
/// </summary>
public sealed record DatabaseSchema(string Component, IReadOnlyList<Migration> Migrations, Func<WriteTransaction, Task>? OnStart = null)
{
    public int Version => Migrations.Count == 0 ? 0 : Migrations.Max(m => m.Version);
}

public static class DatabaseSchemaExtensions
{
    public static IServiceCollection AddDatabaseSchema(this IServiceCollection services, DatabaseSchema schema) => services.AddSingleton(schema);

    /// <summary>A schema whose start-up step needs services (the outbox, say).</summary>
    public static IServiceCollection AddDatabaseSchema(this IServiceCollection services, Func<IServiceProvider, DatabaseSchema> schema) => services.AddSingleton(schema);
}

/// <summary>
/// Creates and migrates every registered <see cref="DatabaseSchema"/> in one start-up step, before any
/// hosted service starts (consumers, the relay) and before the service serves HTTP.
/// </summary>
public sealed class DatabaseMigrator(ServiceDatabase database, IEnumerable<DatabaseSchema> schemas, ILogger<DatabaseMigrator> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        using (var connection = database.Open())
        {
            ServiceDatabase.Execute(connection, "PRAGMA journal_mode = WAL");
            ServiceDatabase.Execute(connection, "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)");
        }
        foreach (var schema in schemas) await MigrateAsync(schema, cancellationToken);
    }

    private async Task MigrateAsync(DatabaseSchema schema, CancellationToken cancellationToken)
    {
        await using var write = await database.BeginWriteAsync(cancellationToken);
        var current = write.Scalar("SELECT version FROM schema_versions WHERE component = $component", ("$component", schema.Component)) is long version ? (int)version : 0;
        if (current > schema.Version)
        {
            throw new InvalidOperationException(
                $"{database.FilePath}: its '{schema.Component}' tables are at version {current}, written by a newer version of this service; this one knows up to {schema.Version}.");
        }
        foreach (var migration in schema.Migrations.Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            try
            {
                await migration.Apply(write);
            }
            catch (SqliteException ex)
            {
                throw new InvalidOperationException($"{database.FilePath}: migrating '{schema.Component}' to version {migration.Version} ({migration.Description}) failed: {ex.Message}", ex);
            }
            write.Execute("INSERT INTO schema_versions (component, version) VALUES ($component, $version) ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                ("$component", schema.Component), ("$version", migration.Version));
            logger.LogInformation("{File}: {Component} tables at version {Version}: {Description}", database.FilePath, schema.Component, migration.Version, migration.Description);
        }
        if (schema.OnStart is { } onStart) await onStart(write);
        await write.CommitAsync();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
