using System.Diagnostics;

namespace Shop.Testing;

/// <summary>
/// Waits for a state that another process or thread reaches in its own time and that nothing
/// announces: an order's status behind an HTTP API, a group's assignment in the broker console, a
/// metric the OTLP receiver got. Polls it, and on timeout fails with what it saw last, so the failure
/// says how far things got. The one such loop of the test projects.
/// </summary>
public static class Eventually
{
    /// <summary>Long enough for a busy two-core CI machine, short enough that a hang fails the run.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Reads <paramref name="probe"/> until <paramref name="done"/> holds for what it returned, and returns that.
    /// Throws <see cref="TimeoutException"/> with <paramref name="failure"/> of the last value read.
    /// </summary>
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, Func<T, string> failure,
        TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (clock.Elapsed >= limit) throw new TimeoutException($"Not within {limit.TotalSeconds:0} s: {failure(value)}");
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary><see cref="GetAsync{T}(Func{Task{T}}, Func{T, bool}, Func{T, string}, TimeSpan?, TimeSpan?)"/> for a probe that does not wait.</summary>
    public static Task<T> GetAsync<T>(Func<T> probe, Func<T, bool> done, Func<T, string> failure,
        TimeSpan? timeout = null, TimeSpan? interval = null) =>
        GetAsync(() => Task.FromResult(probe()), done, failure, timeout, interval);

    /// <summary>Until <paramref name="condition"/> holds; <paramref name="what"/> says what was awaited.</summary>
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        GetAsync(condition, held => held, _ => what, timeout, interval);

    /// <summary>Until <paramref name="condition"/> holds; <paramref name="what"/> says what was awaited.</summary>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        GetAsync(condition, held => held, _ => what, timeout, interval);
}
