using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Shop.Broker.Security;
using Shop.Broker.Storage;
using Shop.Broker.Storage.Disk;

namespace Shop.Broker.Tests.Security;

/// <summary>The SASL mechanisms in process: SCRAM against RFC 7677's own example, PLAIN, and the credential file.</summary>
public sealed class SaslExchangeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "shop-sasl-" + Guid.NewGuid().ToString("N")[..8]);

    public SaslExchangeTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CredentialStore OpenStore(Dictionary<string, string>? users = null) =>
        new(new LogContext(new PhysicalDisk(), new BrokerOptions { DataDir = _dir, Users = users ?? [] }, TimeProvider.System, StorageScheduler.Default,
            NullLoggerFactory.Instance), NullLogger<CredentialStore>.Instance);

    private static string Step(ISaslExchange exchange, string message)
    {
        var step = exchange.Evaluate(Encoding.UTF8.GetBytes(message));
        Assert.True(step.Refusal is null, step.Refusal);
        return Encoding.UTF8.GetString(step.Challenge);
    }

    [Fact]
    public void Scram_sha_256_answers_the_example_of_rfc_7677_byte_for_byte()
    {
        var store = OpenStore();
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        store.Upsert("user", ScramMechanism.Sha256, ScramMechanism.Sha256.CredentialFrom(ScramMechanism.Sha256.SaltedPassword("pencil", salt, 4096), salt, 4096));
        var exchange = new ScramExchange(ScramMechanism.Sha256, store, serverNonce: () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            Step(exchange, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
        var final = exchange.Evaluate(Encoding.UTF8.GetBytes(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));

        Assert.Equal(("user", true), (final.User, final.Done));
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Encoding.UTF8.GetString(final.Challenge));
    }

    [Fact]
    public void A_wrong_proof_and_an_unknown_user_are_refused_alike()
    {
        var store = OpenStore(new() { ["alice"] = "wonderland" });
        var exchange = new ScramExchange(ScramMechanism.Sha512, store);
        var serverFirst = Step(exchange, "n,,n=alice,r=abc");
        var nonce = serverFirst.Split(',')[0][2..];
        var wrong = exchange.Evaluate(Encoding.UTF8.GetBytes($"c=biws,r={nonce},p={Convert.ToBase64String(new byte[64])}"));
        var unknown = new ScramExchange(ScramMechanism.Sha512, store).Evaluate("n,,n=mallory,r=abc"u8);

        Assert.Equal(CredentialStore.InvalidCredentials, wrong.Refusal);
        Assert.Equal(CredentialStore.InvalidCredentials, unknown.Refusal);
        Assert.Null(wrong.User);
    }

    [Fact]
    public void Plain_checks_the_password_against_the_salted_credential()
    {
        var store = OpenStore(new() { ["alice"] = "wonderland" });
        Assert.Equal("alice", new PlainExchange(store).Evaluate("\0alice\0wonderland"u8).User);
        Assert.Equal(CredentialStore.InvalidCredentials, new PlainExchange(store).Evaluate("\0alice\0looking-glass"u8).Refusal);
        Assert.NotNull(new PlainExchange(store).Evaluate("bob\0alice\0wonderland"u8).Refusal); // no acting as someone else
        Assert.NotNull(new PlainExchange(store).Evaluate("garbage"u8).Refusal);
    }

    [Fact]
    public void Credentials_survive_a_restart_keep_no_password_and_change_only_when_the_configured_password_does()
    {
        var first = OpenStore(new() { ["alice"] = "wonderland" });
        var salt = first.Find("alice", ScramMechanism.Sha512)!.Salt;

        var again = OpenStore(new() { ["alice"] = "wonderland" });
        Assert.Equal(salt, again.Find("alice", ScramMechanism.Sha512)!.Salt); // same password: kept as it was
        Assert.True(again.Verify("alice", "wonderland"));

        var changed = OpenStore(new() { ["alice"] = "looking-glass" });
        Assert.False(changed.Verify("alice", "wonderland"));
        Assert.True(OpenStore().Verify("alice", "looking-glass")); // from the file alone

        var file = File.ReadAllText(Path.Combine(_dir, CredentialStore.FileName));
        Assert.DoesNotContain("looking-glass", file);
        Assert.DoesNotContain(Convert.ToBase64String("looking-glass"u8.ToArray()), file);
    }
}
