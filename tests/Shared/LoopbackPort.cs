using System.Net;
using System.Net.Sockets;

namespace Shop.Testing;

/// <summary>A free TCP port on loopback, for a server a test or the bench starts (the tests, the bench and their brokers share this one).</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
