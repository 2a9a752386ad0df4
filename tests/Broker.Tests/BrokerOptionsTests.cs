namespace Shop.Broker.Tests;

public sealed class BrokerOptionsTests
{
    [Fact]
    public void A_port_out_of_range_is_refused_with_the_key_named()
    {
        var options = new BrokerOptions { Port = 70000 };
        var error = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("Broker:Port", error.Message);
    }
}
