using Microsoft.Extensions.FileProviders;
using Shop.Broker.Storage;

namespace Shop.Broker.Console;

/// <summary>
/// The broker console: a page of static files (embedded in the broker, no CDN) over a JSON admin
/// API in snake_case like every API of the shop: topics, messages (browse, tail, produce), consumer groups (lag, reset,
/// delete), dead letters (replay) and security. Failures are problem details naming the cause.
/// </summary>
public static class ConsoleApi
{
    public static IServiceCollection AddConsole(this IServiceCollection services) => services
        .AddSingleton<ConsoleAccess>()
        .AddSingleton<MessageBrowser>()
        .AddSingleton<ConsoleProducer>()
        .AddSingleton<DeadLetters>();

    public static WebApplication MapConsoleApi(this WebApplication app)
    {
        var access = app.Services.GetRequiredService<ConsoleAccess>();
        app.Use(access.InvokeAsync);
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleApi).Assembly, "Console/wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });

        var api = app.MapGroup("/api").AddEndpointFilter(ProblemsFilter.InvokeAsync);
        api.MapGet("/info", (HttpContext context, BrokerOptions options) => TypedResults.Ok(new
        {
            principal = ConsoleAccess.Principal(context),
            signInRequired = access.Required,
            dashboardUrl = options.DashboardUrl,
            deadLetterReplayGroup = DeadLetters.ReplayGroup,
        }));
        api.MapTopicEndpoints();
        api.MapMessageEndpoints();
        api.MapGroupEndpoints();
        api.MapDeadLetterEndpoints();
        api.MapSecurityEndpoints();
        api.MapRuntimeEndpoints();
        return app;
    }
}

/// <summary>Turns the console's and the log's refusals into problem details with the reason.</summary>
internal static class ProblemsFilter
{
    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (Status(ex) is { } status)
        {
            return TypedResults.Problem(statusCode: status, title: Title(status), detail: ex.Message);
        }
    }

    private static int? Status(Exception ex) => ex switch
    {
        ConsoleNotFoundException => StatusCodes.Status404NotFound,
        ConsoleForbiddenException => StatusCodes.Status403Forbidden,
        ConsoleConflictException or TopicExistsException => StatusCodes.Status409Conflict,
        InvalidTopicException or InvalidConfigException or InvalidPartitionsException or InternalTopicException
            or RecordTooLargeException or ArgumentException => StatusCodes.Status400BadRequest,
        _ => null,
    };

    private static string Title(int status) => status switch
    {
        404 => "Not found",
        403 => "Not allowed",
        409 => "Refused",
        _ => "Invalid request",
    };
}
