using System.Security.Cryptography;

namespace Shop.Broker.Security;

/// <summary>
/// A SCRAM mechanism (RFC 5802, RFC 7677): its SASL name, its hash, and Kafka's id for it in the
/// user SCRAM credential APIs. Kafka refuses fewer than 4096 iterations; so do we.
/// </summary>
public sealed record ScramMechanism(string Name, sbyte KafkaType, HashAlgorithmName Hash, int HashBytes)
{
    public const int MinIterations = 4096;
    public const int MaxIterations = 16384;

    public static readonly ScramMechanism Sha256 = new("SCRAM-SHA-256", 1, HashAlgorithmName.SHA256, 32);
    public static readonly ScramMechanism Sha512 = new("SCRAM-SHA-512", 2, HashAlgorithmName.SHA512, 64);

    public static readonly IReadOnlyList<ScramMechanism> All = [Sha256, Sha512];

    public static ScramMechanism? ByName(string name) => All.FirstOrDefault(m => m.Name == name);

    public static ScramMechanism? ByKafkaType(sbyte type) => All.FirstOrDefault(m => m.KafkaType == type);

    public byte[] SaltedPassword(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(System.Text.Encoding.UTF8.GetBytes(password), salt, iterations, Hash, HashBytes);

    public byte[] Hmac(byte[] key, byte[] data) => CryptographicOperations.HmacData(Hash, key, data);

    public byte[] Digest(byte[] data) => CryptographicOperations.HashData(Hash, data);

    /// <summary>What the broker keeps of a password: never the password nor the salted password itself.</summary>
    public ScramCredential CredentialFrom(byte[] saltedPassword, byte[] salt, int iterations)
    {
        var clientKey = Hmac(saltedPassword, "Client Key"u8.ToArray());
        var serverKey = Hmac(saltedPassword, "Server Key"u8.ToArray());
        return new ScramCredential(salt, Digest(clientKey), serverKey, iterations);
    }

    public ScramCredential CredentialFor(string password, int iterations = MinIterations)
    {
        var salt = RandomNumberGenerator.GetBytes(HashBytes);
        return CredentialFrom(SaltedPassword(password, salt, iterations), salt, iterations);
    }

    /// <summary>Whether <paramref name="password"/> is the one the credential was made from (for PLAIN, which sends it as is).</summary>
    public bool Matches(ScramCredential credential, string password)
    {
        var candidate = CredentialFrom(SaltedPassword(password, credential.Salt, credential.Iterations), credential.Salt, credential.Iterations);
        return CryptographicOperations.FixedTimeEquals(candidate.StoredKey, credential.StoredKey);
    }
}

/// <summary>A user's SCRAM credential for one mechanism: salt, iterations, StoredKey = H(ClientKey), ServerKey.</summary>
public sealed record ScramCredential(byte[] Salt, byte[] StoredKey, byte[] ServerKey, int Iterations);
