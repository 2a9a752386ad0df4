using Microsoft.AspNetCore.Connections;

namespace Shop.Broker.Network;

/// <summary>One Kafka client connection: frames in, responses out in request order.</summary>
public sealed class KafkaConnectionHandler(ILogger<KafkaConnectionHandler> logger) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        logger.LogDebug("Kafka connection {ConnectionId} from {Remote}", connection.ConnectionId, connection.RemoteEndPoint);
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(connection.ConnectionClosed);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }
    }
}
