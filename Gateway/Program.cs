using Switchboard.Gateway.Hosting;

// Settings files sit beside the binary, wherever it is started from (dotnet run, a unit file, a test).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSwitchboardGateway();

var app = builder.Build();
app.MapSwitchboardGateway();
app.Run();

namespace Switchboard.Gateway
{
    /// <summary>The gateway host's entry type, named so a test project can reference several hosts.</summary>
    public partial class GatewayProgram;
}
