using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Shop.ServiceDefaults.Messaging;

/// <summary>
/// The service's own SQLite file (<c>&lt;Shop:DataDir&gt;/&lt;service&gt;.db</c>), with the outbox and
/// inbox tables beside the service's tables, so that a state change, the events it causes and the
/// record of the message that caused it commit in one transaction. Its tables are created and
/// migrated by <see cref="DatabaseMigrator"/> before the service serves.
/// </summary>
public sealed class ServiceDatabase : IDisposable
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutSeconds;

    /// <summary>One writer at a time in this process (SQLite has one writer per file anyway).</summary>
    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>The writers' connection, kept open with its prepared statements; opened again after a failure. Used only in the writer turn.</summary>
    private (SqliteConnection Connection, StatementCache Statements)? _writeConnection;

    public ServiceDatabase(IConfiguration configuration, string serviceName)
    {
        var dataDir = configuration["Shop:DataDir"] ?? Path.Combine(AppContext.BaseDirectory, "data");
        Directory.CreateDirectory(dataDir);
        FilePath = Path.Combine(dataDir, $"{serviceName}.db");
        // How long a writer waits for another process's lock (a backup, a maintenance job, a test)
        // before its transaction fails: Shop:Database:BusyTimeoutSeconds, 30 s by default.
        _busyTimeoutSeconds = int.TryParse(configuration["Shop:Database:BusyTimeoutSeconds"], out var seconds) && seconds > 0 ? seconds : 30;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = FilePath, Pooling = true, DefaultTimeout = _busyTimeoutSeconds }.ToString();
    }

    public string FilePath { get; }

    /// <summary>
    /// A write transaction. Writers of this service (consumers, the outbox relay, HTTP handlers) queue
    /// here instead of colliding inside SQLite, where a busy writer backs off with sleeps of up to
    /// 100 ms: measured as the orders' p50 going from ~50 ms unloaded to 300 ms at 100 orders/s.
    /// </summary>
    /// <param name="syncOnCommit">
    /// False for a write whose loss in a power cut only repeats work the shop already tolerates (the
    /// relay's "sent" marks: the rows go out again and the inboxes drop them): its commit is not
    /// fsynced by itself (<c>synchronous=NORMAL</c> for this transaction), and the next synced commit
    /// makes it durable too, since SQLite's WAL is synced in order. A kill -9 loses nothing either way.
    /// </param>
    public async Task<WriteTransaction> BeginWriteAsync(CancellationToken cancellationToken, bool syncOnCommit = true)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            if (_writeConnection is null)
            {
                var connection = Open();
                _writeConnection = (connection, new StatementCache(connection));
            }
            var (open, statements) = _writeConnection.Value;
            return new WriteTransaction(open, statements, this, syncOnCommit);
        }
        catch
        {
            DropWriteConnection();
            _writer.Release();
            throw;
        }
    }

    /// <summary>Ends a writer turn; a connection whose transaction could not be ended is closed, and the next writer opens another.</summary>
    internal void EndWrite(bool connectionFailed)
    {
        if (connectionFailed) DropWriteConnection();
        _writer.Release();
    }

    private void DropWriteConnection()
    {
        if (_writeConnection is not { } open) return;
        _writeConnection = null;
        open.Statements.Dispose();
        open.Connection.Dispose();
    }

    /// <summary>Closes the writers' connection once the writer in its turn, if any, is done (at most 5 s).</summary>
    public void Dispose()
    {
        if (!_writer.Wait(TimeSpan.FromSeconds(5))) return;
        DropWriteConnection();
        _writer.Release();
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Writers of one file take turns (consumers, the outbox relay, HTTP handlers). Without a busy
        // timeout SQLite answers "busy" at once and Microsoft.Data.Sqlite retries after 150 ms sleeps:
        // measured as 150-300 ms gaps in an order's trace. SQLite's own handler retries within 1-2 ms.
        // Set through the C API: a PRAGMA statement would be parsed on every Open.
        var result = SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, _busyTimeoutSeconds * 1000);
        if (result != SQLitePCL.raw.SQLITE_OK)
        {
            connection.Dispose();
            throw new InvalidOperationException($"{FilePath}: setting the busy timeout failed with SQLite error {result}.");
        }
        return connection;
    }

    public static int Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, sql, transaction, parameters);
        return command.ExecuteNonQuery();
    }

    public static SqliteCommand Command(SqliteConnection connection, string sql, SqliteTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }
}

/// <summary>
/// The writers' connection with its transaction, holding the service's writer turn until disposed.
/// <see cref="CommitAsync"/> is the one commit call: it commits, then runs what was registered with
/// <see cref="OnCommitted"/> (the outbox's hand-off to its relay, a wake-up of the mail sender, a
/// push to the storefront's pages), still in the writer turn, so hand-offs arrive in commit order.
/// Its commands are prepared once and kept (<see cref="StatementCache"/>).
/// </summary>
public sealed class WriteTransaction : IAsyncDisposable
{
    private readonly StatementCache _statements;
    private readonly ServiceDatabase _database;
    private readonly List<Action> _onCommitted = [];
    private readonly bool _syncOnCommit;
    private bool _disposed;

    // SQLite's default in WAL mode here: every commit fsyncs the WAL. Set outside a transaction only.
    private const string SyncEachCommit = "PRAGMA synchronous = FULL";
    private const string SyncAtNextSyncedCommit = "PRAGMA synchronous = NORMAL";

    internal WriteTransaction(SqliteConnection connection, StatementCache statements, ServiceDatabase database, bool syncOnCommit)
    {
        _statements = statements;
        _database = database;
        _syncOnCommit = syncOnCommit;
        Connection = connection;
        if (!syncOnCommit) statements.Get(SyncAtNextSyncedCommit, null, []).ExecuteNonQuery();
        Transaction = connection.BeginTransaction();
    }

    public SqliteConnection Connection { get; }

    public SqliteTransaction Transaction { get; }

    /// <summary>Runs <paramref name="action"/> once this transaction has committed; never if it rolls back.</summary>
    public void OnCommitted(Action action) => _onCommitted.Add(action);

    /// <summary>How many actions are registered: a mark to roll back to with a savepoint (<see cref="SharedCommit"/>).</summary>
    internal int OnCommittedCount => _onCommitted.Count;

    /// <summary>Forgets the actions registered after <paramref name="mark"/>: their writes were rolled back to a savepoint.</summary>
    internal void ForgetOnCommittedAfter(int mark) => _onCommitted.RemoveRange(mark, _onCommitted.Count - mark);

    public async Task CommitAsync()
    {
        await Transaction.CommitAsync();
        foreach (var action in _onCommitted) action();
        _onCommitted.Clear();
    }

    public int Execute(string sql, params (string Name, object? Value)[] parameters) => Command(sql, parameters).ExecuteNonQuery();

    /// <summary>The first column of the first row, or null.</summary>
    public object? Scalar(string sql, params (string Name, object? Value)[] parameters) => Command(sql, parameters).ExecuteScalar();

    /// <summary>A prepared command of this transaction, for a reader. Kept for the next writer: do not dispose it.</summary>
    public SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters) => _statements.Get(sql, Transaction, parameters);

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _onCommitted.Clear();
        var failed = true;
        try
        {
            await Transaction.DisposeAsync(); // rolls back what was not committed
            if (!_syncOnCommit) _statements.Get(SyncEachCommit, null, []).ExecuteNonQuery(); // the next writer's commit is synced again
            failed = false;
        }
        finally
        {
            _database.EndWrite(connectionFailed: failed);
        }
    }
}
