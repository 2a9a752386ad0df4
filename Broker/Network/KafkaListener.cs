using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using System.Net;

namespace Shop.Broker.Network;

public static class KafkaListener
{
    /// <summary>
    /// Listens for Kafka clients on <see cref="BrokerOptions.Port"/> and for HTTP (console, health)
    /// where <c>--urls</c> / <c>ASPNETCORE_URLS</c> say. Kestrel ignores <c>urls</c> once any endpoint
    /// is configured in code, so the HTTP addresses are bound here explicitly too.
    /// </summary>
    public static WebApplicationBuilder AddKafkaListener(this WebApplicationBuilder builder, BrokerOptions options)
    {
        var urls = builder.Configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls)) urls = "http://localhost:5081";

        // The addresses are bound below; clearing them stops Kestrel warning that it overrides them.
        builder.WebHost.UseUrls();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenAnyIP(options.Port, listen => listen.UseConnectionHandler<KafkaConnectionHandler>());
            foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                ListenHttp(kestrel, url);
            }
        });
        return builder;
    }

    private static void ListenHttp(KestrelServerOptions kestrel, string url)
    {
        var address = BindingAddress.Parse(url);
        if (address.Scheme != "http")
        {
            throw new InvalidOperationException($"The broker console serves plain http only; '{url}' is not supported.");
        }
        if (address.Host is "localhost")
        {
            kestrel.ListenLocalhost(address.Port);
        }
        else if (address.Host is "*" or "+" or "0.0.0.0" or "[::]")
        {
            kestrel.ListenAnyIP(address.Port);
        }
        else if (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, address.Port);
        }
        else
        {
            throw new InvalidOperationException($"Cannot listen on host '{address.Host}' of '{url}': use localhost, an IP address or *.");
        }
    }
}
