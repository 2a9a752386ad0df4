using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Shop.EndToEnd.Tests;

/// <summary>
/// Keeps the last lines each resource logged (Aspire's testing host forwards them to loggers named
/// <c>….Resources.&lt;name&gt;</c>), so a fixture whose start times out can say what each service was doing.
/// </summary>
public sealed class RecentResourceLogs : ILoggerProvider
{
    private const int Kept = 30;
    private const string Marker = ".Resources.";
    private static readonly System.Text.RegularExpressions.Regex Colour = new(@"\x1b\[[0-9;]*m", System.Text.RegularExpressions.RegexOptions.Compiled);
    private readonly ConcurrentDictionary<string, Queue<string>> _lines = new();

    public IEnumerable<string> Of(string resource)
    {
        if (!_lines.TryGetValue(resource, out var lines)) return ["(no log lines)"];
        lock (lines) return [.. lines];
    }

    public ILogger CreateLogger(string categoryName)
    {
        var at = categoryName.LastIndexOf(Marker, StringComparison.Ordinal);
        return at < 0 ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance
            : new Recorder(_lines.GetOrAdd(categoryName[(at + Marker.Length)..], _ => new Queue<string>()));
    }

    public void Dispose() { }

    private sealed class Recorder(Queue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines)
            {
                lines.Enqueue(Colour.Replace(formatter(state, exception), ""));
                if (lines.Count > Kept) lines.Dequeue();
            }
        }
    }
}
