using System.Net;
using System.Net.Sockets;

namespace Shop.Testing;

/// <summary>A free TCP port on loopback, for a server a test or the bench starts (the tests, the bench and their brokers share this one).</summary>
/// <remarks>
/// The port comes from outside the kernel's ephemeral range (Linux: 32768–60999), never from a bind to
/// port 0: a port from that range is free only until some outgoing connection takes it as its local port,
/// and a server started seconds later (an AppHost's broker, a broker restarted on its old port) then fails
/// with "address already in use" — CI saw exactly that. Outgoing connections never use a port outside it.
/// </remarks>
public static class LoopbackPort
{
    private static readonly (int First, int Last) Range = OutsideEphemeral();

    // Ports handed out by this process are not handed out again soon; a random start keeps processes apart.
    private static int _next = Random.Shared.Next(Range.First, Range.Last + 1);
    private static readonly Lock Gate = new();

    public static int Free()
    {
        lock (Gate)
        {
            for (var tried = 0; tried <= Range.Last - Range.First; tried++)
            {
                var port = _next;
                _next = port == Range.Last ? Range.First : port + 1;
                if (IsFree(port)) return port;
            }
        }
        throw new InvalidOperationException($"No free TCP port on loopback between {Range.First} and {Range.Last}.");
    }

    /// <summary>Above the ephemeral range when there is room there (Linux's default leaves 61000–65535), else below it.</summary>
    private static (int First, int Last) OutsideEphemeral()
    {
        var (low, high) = (32768, 60999);
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            (low, high) = (int.Parse(parts[0]), int.Parse(parts[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or unreadable: keep Linux's default.
        }
        return 65535 - high >= 1000 ? (high + 1, 65535) : (Math.Min(10000, low - 1000), low - 1);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
