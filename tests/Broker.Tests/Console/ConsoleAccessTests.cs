using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Shop.Broker.Tests.Console;

/// <summary>When the Kafka port asks for SASL, so does the console: the same users, the same ACLs.</summary>
public sealed class ConsoleAccessTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync(
        "--Broker:SecurityProtocol=SASL_PLAINTEXT", "--Broker:AclsEnabled=true", "--Broker:SuperUsers=User:admin",
        "--Broker:Users:admin=admin-secret", "--Broker:Users:alice=wonderland",
        "--Broker:Acls:0=ALLOW User:alice READ TOPIC watched", "--Broker:Acls:1=ALLOW User:alice DESCRIBE TOPIC watched");

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private HttpClient As(string? user, string? password)
    {
        var http = new HttpClient { BaseAddress = new Uri(_broker.ConsoleUrl) };
        if (user is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    [Fact]
    public async Task The_console_asks_for_a_broker_user_and_lets_each_do_what_its_acls_allow()
    {
        using var anonymous = As(null, null);
        var challenge = await anonymous.GetAsync("/api/topics");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        Assert.StartsWith("Basic", challenge.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
        using var wrong = As("admin", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/topics")).StatusCode);

        using var admin = As("admin", "admin-secret");
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/topics", new { name = "watched", partitions = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/topics", new { name = "hidden", partitions = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/topics/watched/messages", new { key = "k", value = new { n = 1 } })).StatusCode);
        Assert.Contains("User:admin", await admin.GetStringAsync("/api/info"));

        using var alice = As("alice", "wonderland");
        var visible = await alice.GetStringAsync("/api/topics");
        Assert.Contains("\"watched\"", visible);
        Assert.DoesNotContain("\"hidden\"", visible);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/topics/watched/messages?from=oldest")).StatusCode);
        var produce = await alice.PostAsJsonAsync("/api/topics/watched/messages", new { key = "k", value = new { n = 2 } });
        Assert.Equal(HttpStatusCode.Forbidden, produce.StatusCode);
        Assert.Contains("User:alice may not WRITE TOPIC 'watched'", await produce.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.DeleteAsync("/api/topics/watched")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/api/topics/hidden/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/api/runtime")).StatusCode); // needs DESCRIBE on the cluster
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/runtime")).StatusCode);
    }
}
