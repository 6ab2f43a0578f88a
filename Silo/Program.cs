using Switchboard.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSwitchboardSilo();

var app = builder.Build();
app.MapSwitchboard();
app.Run();

namespace Switchboard.Silo
{
    /// <summary>The silo host's entry type, named so a test project can reference several hosts.</summary>
    public partial class SiloProgram;
}
