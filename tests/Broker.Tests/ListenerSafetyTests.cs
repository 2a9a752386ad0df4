using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Shop.Broker.Tests;

/// <summary>Nothing authenticates clients yet, so the broker listens on loopback unless told otherwise, and says so loudly when it is.</summary>
public sealed class ListenerSafetyTests
{
    /// <summary>An address of this machine that other machines could reach.</summary>
    private static IPAddress? ExternalAddress() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses)
        .Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    private static async Task<bool> AcceptsAsync(IPAddress address, int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task By_default_the_Kafka_port_is_reachable_on_loopback_only()
    {
        var external = ExternalAddress();
        Assert.True(external is not null, "this test needs a network interface besides loopback");
        await using var broker = await BrokerProcess.StartAsync();

        Assert.True(await AcceptsAsync(IPAddress.Loopback, broker.Port));
        Assert.False(await AcceptsAsync(external, broker.Port), $"the Kafka port answered on {external}");
    }

    [Fact]
    public async Task Listening_on_every_interface_without_authentication_is_refused_unless_opted_into_and_then_warned_about()
    {
        var refused = await ExternalTool.RunAsync("dotnet", [BrokerProcess.BrokerDll, "--Broker:Host=*", "--Broker:Port=0",
            $"--Broker:DataDir={Path.Combine(Path.GetTempPath(), $"refused-{Guid.NewGuid():N}")}"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Broker:AllowUnauthenticatedRemoteClients=true", refused.Stdout + refused.Stderr);

        var external = ExternalAddress()!;
        await using var broker = await BrokerProcess.StartAsync("--Broker:Host=*", "--Broker:AllowUnauthenticatedRemoteClients=true");
        await broker.WaitForOutputAsync("WITHOUT authentication");
        Assert.True(await AcceptsAsync(external, broker.Port));
    }

    [Fact]
    public async Task A_console_url_beyond_loopback_needs_the_same_opt_in()
    {
        var refused = await ExternalTool.RunAsync("dotnet", [BrokerProcess.BrokerDll, "--urls=http://0.0.0.0:0", "--Broker:Port=0",
            $"--Broker:DataDir={Path.Combine(Path.GetTempPath(), $"refused-{Guid.NewGuid():N}")}"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("http://0.0.0.0:0", refused.Stdout + refused.Stderr);
    }
}
