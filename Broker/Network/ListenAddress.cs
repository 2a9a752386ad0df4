using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Shop.Broker.Network;

/// <summary>
/// One address to listen on, as configured: <c>localhost</c>, an IP address, or every interface
/// (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>). Knows whether it is reachable from other machines.
/// </summary>
public sealed record ListenAddress(string Host, IPAddress? Ip, bool AnyInterface)
{
    public static ListenAddress Parse(string host, string setting)
    {
        var trimmed = host.Trim();
        if (trimmed is "localhost") return new(trimmed, null, AnyInterface: false);
        if (trimmed is "*" or "+" or "0.0.0.0" or "[::]" or "::") return new(trimmed, null, AnyInterface: true);
        if (IPAddress.TryParse(trimmed.Trim('[', ']'), out var ip)) return new(trimmed, ip, AnyInterface: false);
        throw new InvalidOperationException($"Cannot listen on host '{host}' ({setting}): use localhost, an IP address or *.");
    }

    /// <summary>Only this machine can connect.</summary>
    public bool IsLoopback => !AnyInterface && (Ip is null || IPAddress.IsLoopback(Ip));

    public void Bind(KestrelServerOptions kestrel, int port, Action<ListenOptions>? configure = null)
    {
        configure ??= _ => { };
        if (AnyInterface) kestrel.ListenAnyIP(port, configure);
        else if (Ip is null) kestrel.ListenLocalhost(port, configure);
        else kestrel.Listen(Ip, port, configure);
    }
}
