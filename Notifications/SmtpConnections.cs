using System.Diagnostics;
using MailKit.Net.Smtp;

namespace Shop.Notifications;

/// <summary>
/// SMTP connections kept open between the sender's rounds. A new connection per round cost the mail
/// catcher about twice the CPU per mail of a kept one (smtp4dev 3.15, 1,000 mails each way: 5–7 ms
/// against 2.4–3.7 ms), and at a few orders per second every round is a mail or two.
/// </summary>
/// <remarks>
/// A kept connection is checked with NOOP before a round uses it: the server may have closed it
/// (a restart, its idle timeout), and a mail must not fail for that. Connections idle for
/// <see cref="IdleLimit"/> are closed, and one that has carried <see cref="MailsPerConnection"/>
/// mails is retired, since a server keeps a log of each session.
/// </remarks>
public sealed class SmtpConnections : IAsyncDisposable
{
    public static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(5);
    public const int MailsPerConnection = 500;

    private readonly Stack<SmtpConnection> _idle = new();
    private readonly Lock _lock = new();

    /// <summary>A connection to <paramref name="server"/>: a kept one that still answers, or a new one.</summary>
    public async Task<SmtpConnection> RentAsync(Uri server, CancellationToken cancellationToken)
    {
        while (true)
        {
            var kept = TakeIdle(server, out var stale);
            if (stale is not null)
            {
                await stale.DisposeAsync();
                continue;
            }
            if (kept is null) break;
            try
            {
                await kept.Client.NoOpAsync(cancellationToken);
                return kept;
            }
            catch (Exception ex)
            {
                await kept.DisposeAsync(); // closed by the server meanwhile: try the next, or connect
                if (ex is OperationCanceledException) throw;
            }
        }
        var client = new SmtpClient();
        try
        {
            await client.ConnectAsync(server.Host, server.Port, MailKit.Security.SecureSocketOptions.None, cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        return new SmtpConnection(client, server);
    }

    /// <summary>Gives a connection back after a round: kept if all went well, closed otherwise.</summary>
    public async Task ReturnAsync(SmtpConnection connection, bool healthy)
    {
        if (healthy && connection.Mails < MailsPerConnection && connection.Client.IsConnected)
        {
            connection.IdleSince = Stopwatch.GetTimestamp();
            lock (_lock) _idle.Push(connection);
            return;
        }
        await connection.DisposeAsync();
    }

    /// <summary>Closes the connections nobody used for <see cref="IdleLimit"/>.</summary>
    public async Task CloseIdleAsync()
    {
        List<SmtpConnection> stale;
        lock (_lock)
        {
            stale = [.. _idle.Where(c => Stopwatch.GetElapsedTime(c.IdleSince) >= IdleLimit)];
            var fresh = _idle.Except(stale).Reverse().ToList();
            _idle.Clear();
            foreach (var connection in fresh) _idle.Push(connection);
        }
        foreach (var connection in stale) await connection.DisposeAsync();
    }

    /// <summary>The most recently used idle connection, if it may be used; else, in <paramref name="stale"/>, one to close.</summary>
    private SmtpConnection? TakeIdle(Uri server, out SmtpConnection? stale)
    {
        stale = null;
        lock (_lock)
        {
            if (!_idle.TryPop(out var connection)) return null;
            if (connection.Server == server && Stopwatch.GetElapsedTime(connection.IdleSince) < IdleLimit) return connection;
            stale = connection; // another server, or idle too long to trust
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<SmtpConnection> all;
        lock (_lock)
        {
            all = [.. _idle];
            _idle.Clear();
        }
        foreach (var connection in all) await connection.DisposeAsync();
    }
}

/// <summary>One open SMTP connection and how many mails it has carried.</summary>
public sealed class SmtpConnection(SmtpClient client, Uri server) : IAsyncDisposable
{
    public SmtpClient Client { get; } = client;

    public Uri Server { get; } = server;

    public int Mails { get; set; }

    internal long IdleSince { get; set; }

    /// <summary>Says QUIT if the connection still works; never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Client.DisconnectAsync(quit: true, timeout.Token);
            }
        }
        catch (Exception)
        {
            // Closing anyway: a server that does not answer QUIT has nothing left to say.
        }
        Client.Dispose();
    }
}
