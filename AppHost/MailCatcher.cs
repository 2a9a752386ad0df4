using Aspire.Hosting.ApplicationModel;

namespace Shop.AppHost;

/// <summary>
/// Rnwood.Smtp4dev, run as the repo's dotnet local tool: an SMTP server that keeps every mail
/// and shows it in a web UI with an HTTP API. In memory: mails do not outlive a run.
/// </summary>
public static class MailCatcher
{
    public const string SmtpEndpointName = "smtp";

    public static IResourceBuilder<ExecutableResource> AddMailCatcher(
        this IDistributedApplicationBuilder builder, string name, string repoRoot, int? uiPort, int? smtpPort)
    {
        var mail = builder.AddExecutable(name, "dotnet", repoRoot, "tool", "run", "smtp4dev", "--")
            .WithHttpEndpoint(port: uiPort, name: "http")
            .WithEndpoint(SmtpEndpointName, endpoint =>
            {
                endpoint.UriScheme = "smtp";
                endpoint.Port = smtpPort;
            });
        var http = mail.GetEndpoint("http");
        var smtp = mail.GetEndpoint(SmtpEndpointName);
        return mail
            .WithArgs(context =>
            {
                context.Args.Add(ReferenceExpression.Create($"--urls=http://localhost:{http.Property(EndpointProperty.TargetPort)}"));
                context.Args.Add(ReferenceExpression.Create($"--smtpport={smtp.Property(EndpointProperty.TargetPort)}"));
                context.Args.Add("--imapport=0");
                context.Args.Add("--pop3port=0");
                context.Args.Add("--db=");
                context.Args.Add("--nousersettings");
                context.Args.Add("--hostname=localhost");
            })
            // Profile-guided tiering costs the catcher more CPU than it saves in a run of the shop: with it
            // off, its first 1,200 mails took 15 s of CPU instead of 22 s (startup included), and a mail
            // after the first 600 5-7 ms instead of 10-12 ms (two alternating runs each, 20 mails per connection).
            .WithEnvironment("DOTNET_TieredPGO", "0")
            .WithHttpHealthCheck("/api/server")
            .WithUrlForEndpoint("http", url => url.DisplayText = "Mail catcher");
    }
}
