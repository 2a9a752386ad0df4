using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Shop.Broker.Network;

public static class KafkaListener
{
    /// <summary>
    /// Binds every Kafka listener (<see cref="KafkaEndpoint.From"/>; TLS through Kestrel's own TLS
    /// connection middleware) and HTTP (console, health) where <c>--urls</c> / <c>ASPNETCORE_URLS</c>
    /// say. Kestrel ignores <c>urls</c> once any endpoint is configured in code, so the HTTP addresses
    /// are bound here explicitly too. Everything defaults to loopback: a listener reachable from
    /// other machines that does not authenticate (PLAINTEXT, SSL, the console) is refused unless
    /// <see cref="BrokerOptions.AllowUnauthenticatedRemoteClients"/> says so.
    /// </summary>
    /// <returns>The unauthenticated addresses reachable from other machines (empty by default), for a warning at start.</returns>
    public static IReadOnlyList<string> AddKafkaListener(this WebApplicationBuilder builder, BrokerOptions options)
    {
        var urls = builder.Configuration["urls"];
        if (string.IsNullOrWhiteSpace(urls)) urls = "http://localhost:5081";

        var endpoints = KafkaEndpoint.From(options);
        var http = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseHttp).ToList();
        var remote = endpoints.Where(e => !e.Address.IsLoopback && !e.UsesSasl).Select(e => $"Kafka {e}")
            .Concat(http.Where(h => !h.Address.IsLoopback).Select(h => $"console {h.Url}"))
            .ToList();
        if (remote.Count > 0 && !options.AllowUnauthenticatedRemoteClients)
        {
            throw new InvalidOperationException(
                $"Refusing to listen beyond this machine without authentication ({string.Join(", ", remote)}): anyone who reaches it could "
                + "produce, read and delete every topic. Listen on localhost (Broker:Host, --urls), use SASL_PLAINTEXT or SASL_SSL, "
                + "or opt in with Broker:AllowUnauthenticatedRemoteClients=true.");
        }
        var certificate = endpoints.Any(e => e.UsesTls) ? LoadCertificate(options) : null;

        // The addresses are bound below; clearing them stops Kestrel warning that it overrides them.
        builder.WebHost.UseUrls();
        // Measured with the wire bench: a 1 MB-batch producer cost the broker 124 % of a core, 74 % with
        // these; 100 B records 2.8 -> 4.2 M/s. By default every read is preceded by a 1-byte peek (a
        // syscall per 4 KB read), and each read and write hops through Kestrel's I/O queues. Inline
        // is safe here: socket completions still run on pool threads, and a handler that waits (an
        // fsync, a long poll) awaits instead of blocking one.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, SocketBlocks.Factory>();
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.WaitForDataBeforeAllocatingBuffer = false;
            sockets.UnsafePreferInlineScheduling = true;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var endpoint in endpoints)
            {
                endpoint.Address.Bind(kestrel, endpoint.Port, listen =>
                {
                    // Tells the connection handler which listener a connection came through.
                    listen.Use(next => connection =>
                    {
                        connection.Items[typeof(KafkaEndpoint)] = endpoint;
                        return next(connection);
                    });
                    if (endpoint.UsesTls) listen.UseHttps(certificate!);
                    listen.UseConnectionHandler<KafkaConnectionHandler>();
                });
            }
            foreach (var (_, address, port) in http) address.Bind(kestrel, port);
        });
        return remote;
    }

    private static X509Certificate2 LoadCertificate(BrokerOptions options)
    {
        var path = options.TlsCertificate!;
        try
        {
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
                return X509CertificateLoader.LoadPkcs12FromFile(path, options.TlsCertificatePassword);
            var pem = options.TlsCertificatePassword is { Length: > 0 } password
                ? X509Certificate2.CreateFromEncryptedPemFile(path, password, options.TlsKey)
                : X509Certificate2.CreateFromPemFile(path, options.TlsKey);
            // Kestrel's TLS needs the key in a form the platform's TLS can use: exported and re-imported.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or IOException or ArgumentException)
        {
            throw new InvalidOperationException($"Broker:TlsCertificate '{path}' (key: '{options.TlsKey ?? "in the same file"}') cannot be loaded: {ex.Message}", ex);
        }
    }

    private static (string Url, ListenAddress Address, int Port) ParseHttp(string url)
    {
        var address = BindingAddress.Parse(url);
        if (address.Scheme != "http")
        {
            throw new InvalidOperationException($"The broker console serves plain http only; '{url}' is not supported.");
        }
        return (url, ListenAddress.Parse(address.Host, $"--urls {url}"), address.Port);
    }
}
