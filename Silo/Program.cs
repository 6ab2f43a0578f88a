using Switchboard.Silo.Endpoints;
using Switchboard.Silo.Hosting;

// Settings files sit beside the binary, wherever it is started from (dotnet run, a unit file, a test).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSwitchboardDiagnostics();
builder.AddSwitchboardEdge();
builder.AddSwitchboardOrleans();
builder.AddSwitchboardSockets();
builder.AddSwitchboardApi();
builder.AddSwitchboardWarmUp();

var app = builder.Build();
app.UseForwardedHeaders();
app.UseLogEpochHeader();
app.UseWebSocketEndpoint(); // before errors and auth: an open socket keeps every middleware frame it passed
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter(); // after authentication: REST is limited per user (the token's sub)

app.MapHealthEndpoints();
app.MapChatPage();
app.MapDevTokenApi();
app.MapMessagingApi();
app.MapGroupsApi();
app.MapUsersApi();
app.MapReceiptsApi();
app.MapClusterApi();
app.MapDashboard();
app.MapMetricsEndpoint();
app.Run();

namespace Switchboard.Silo
{
    /// <summary>The silo host's entry type, named so a test project can reference several hosts.</summary>
    public partial class SiloProgram;
}
