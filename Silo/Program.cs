using Switchboard.Silo.Hosting;

// Settings files sit beside the binary, wherever it is started from (dotnet run, a unit file, a test).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSwitchboardSilo();

var app = builder.Build();
app.MapSwitchboard();
app.Run();

namespace Switchboard.Silo
{
    /// <summary>The silo host's entry type, named so a test project can reference several hosts.</summary>
    public partial class SiloProgram;
}
