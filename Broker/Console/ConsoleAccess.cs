using System.Net.Http.Headers;
using System.Text;
using Shop.Broker.Network;
using Shop.Broker.Security;

namespace Shop.Broker.Console;

/// <summary>
/// Who uses the console, and what they may do there. When the Kafka port asks for SASL, the
/// console asks too: HTTP Basic, checked against the same SCRAM credentials, over the same loopback
/// the console listens on. The principal then needs the ACLs Kafka would ask of it for the same
/// act (READ a topic to browse it, WRITE to produce, DELETE to delete, …); super users may do
/// everything. Without SASL everyone is <c>User:ANONYMOUS</c>, as on the Kafka port.
/// </summary>
public sealed class ConsoleAccess(BrokerOptions options, CredentialStore credentials, Authorizer authorizer)
{
    private const string PrincipalItem = "console.principal";

    /// <summary>Whether the console asks who you are: when any Kafka listener does.</summary>
    public bool Required { get; } = KafkaEndpoint.From(options).Any(e => e.UsesSasl);

    /// <summary>Authenticates every request but the health probes; a 401 with a Basic challenge when it must and cannot.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!Required || context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/alive"))
        {
            context.Items[PrincipalItem] = KafkaSession.Anonymous;
            await next(context);
            return;
        }
        if (Authenticate(context.Request.Headers.Authorization) is not { } user)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"broker console\", charset=\"UTF-8\"";
            await context.Response.WriteAsync("Sign in with a broker user (SCRAM credentials), e.g. admin.");
            return;
        }
        context.Items[PrincipalItem] = $"User:{user}";
        await next(context);
    }

    private string? Authenticate(string? authorization)
    {
        if (!AuthenticationHeaderValue.TryParse(authorization, out var header) || !"Basic".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
            return null;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon <= 0) return null;
        var (user, password) = (decoded[..colon], decoded[(colon + 1)..]);
        return credentials.Verify(user, password) ? user : null;
    }

    public static string Principal(HttpContext context) => context.Items[PrincipalItem] as string ?? KafkaSession.Anonymous;

    public bool Allows(HttpContext context, AclOperation operation, ResourceType type, string name) =>
        authorizer.IsAllowed(Principal(context), context.Connection.RemoteIpAddress?.ToString() ?? "", operation, type, name);

    /// <summary>Throws the 403 the console answers when the principal may not do this.</summary>
    public void Demand(HttpContext context, AclOperation operation, ResourceType type, string name)
    {
        if (!Allows(context, operation, type, name))
            throw new ConsoleForbiddenException($"{Principal(context)} may not {operation.ToString().ToUpperInvariant()} {type.ToString().ToUpperInvariant()} '{name}'.");
    }
}

/// <summary>The principal lacks the ACL for what it asked: a 403 with this message.</summary>
public sealed class ConsoleForbiddenException(string message) : Exception(message);
