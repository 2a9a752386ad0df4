using System.Net;

namespace Shop.Broker.Network;

/// <summary>
/// Caps on Kafka connections, total (<c>Broker:MaxConnections</c>, Kafka's max.connections) and per
/// client address (<c>Broker:MaxConnectionsPerIp</c>, Kafka's max.connections.per.ip). A connection
/// over a cap is closed at once; the ones already open are not disturbed.
/// </summary>
public sealed class ConnectionLimits(BrokerOptions options)
{
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly Lock _lock = new();
    private int _total;

    public int Open { get { lock (_lock) return _total; } }

    /// <summary>Counts the connection in, or says why not.</summary>
    public bool TryAdmit(IPAddress? address, out string? refusal)
    {
        lock (_lock)
        {
            var fromAddress = address is null ? 0 : _perAddress.GetValueOrDefault(address);
            if (_total >= options.MaxConnections)
                refusal = $"the broker has {_total} connections, its cap (Broker:MaxConnections)";
            else if (address is not null && fromAddress >= options.MaxConnectionsPerIp)
                refusal = $"{address} has {fromAddress} connections, the cap per address (Broker:MaxConnectionsPerIp)";
            else
                refusal = null;
            if (refusal is not null) return false;
            _total++;
            if (address is not null) _perAddress[address] = fromAddress + 1;
            return true;
        }
    }

    public void Release(IPAddress? address)
    {
        lock (_lock)
        {
            _total--;
            if (address is null) return;
            if (_perAddress[address] == 1) _perAddress.Remove(address);
            else _perAddress[address]--;
        }
    }
}
