namespace Shop.Broker.Storage;

internal static class Atomic
{
    /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> unless it is already higher: a mark that only moves forward, whatever order its writers finish in.</summary>
    public static void Max(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }
}
