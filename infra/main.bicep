// Every MCP server in servers/ becomes its own Flex Consumption Function app.
// The list of servers is infra/servers.json (`go tool mage new` keeps it in
// step with servers/, and `go tool mage test` checks it); each entry is
// deployed by app/server.bicep, so adding a server adds no Bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; used to name resources and to derive a unique token.')
param environmentName string

@minLength(1)
@description('Region for all resources: one where Flex Consumption is available (`az functionapp list-flexconsumption-locations`).')
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the principal running azd (azd passes AZURE_PRINCIPAL_ID), given blob access to each server\'s storage for debugging. Optional.')
param principalId string = ''

@description('Type of that principal: azd passes AZURE_PRINCIPAL_TYPE, which is ServicePrincipal under `azd auth login --client-id`.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('Put storage behind a private endpoint and integrate every app with a virtual network.')
param vnetEnabled bool = false

@description('Service or asset management reference for the Entra app registrations (required in some tenants, including Microsoft\'s).')
param serviceManagementReference string = ''

@description('Comma-separated client ids to pre-authorize for every server\'s user_impersonation scope, e.g. VS Code: aebc6443-996d-45c2-90f0-388ff96faa56.')
param preAuthorizedClientIds string = ''

@description('Audience of the managed identity\'s token exchange; only for sovereign clouds. Default api://AzureADTokenExchange.')
param tokenExchangeAudience string = ''

@description('"true" deploys every server without Easy Auth: anyone who knows the URL can call it. Wins over each server\'s "auth" and over serverAuth.')
param anonymousServerAuth string = ''

@description('Per-server auth modes that override the "auth" of infra/servers.json (azd env MCP_SERVER_AUTH): comma-separated name=mode pairs, mode entra, key or anonymous, e.g. "weather=key,userinfo=entra". Servers not named keep their "auth" (entra when absent).')
param serverAuth string = ''

@description('Comma-separated client (application) ids of app-only callers, e.g. a managed identity or an AI Foundry project\'s identity: every entra server\'s Easy Auth and shared/auth accept their tokens (which must carry the MCP.Invoke app role).')
param appCallerClientIds string = ''

@description('Flex Consumption runtime stack. "python" (3.12) is what every official MCP hosting sample runs: the EnableMcpCustomHandlerPreview flag switches its worker to the custom handler, so no Python runs. "custom" (1.0) is the custom-handler runtime itself, listed for Flex since 2026 but used by no official sample.')
@allowed([
  'python'
  'custom'
])
param functionsRuntime string = 'python'

@description('MCP_LOCALHOST_PROTECTION app setting of every server: "off" only if a deployed app answers 403 "invalid Host header".')
@allowed([
  'on'
  'off'
])
param localhostProtection string = 'on'

@description('MCP_REQUIRE_EASYAUTH_ENV app setting of every Easy Auth server: "off" only if a deployed app refuses to start because WEBSITE_AUTH_ENABLED is not True although Easy Auth is on (whether Flex sets it is unconfirmed); the token and principal checks apply either way.')
@allowed([
  'on'
  'off'
])
param requireEasyAuthEnv string = 'on'

@description('MCP_RESPONSE_MODE app setting of every server: "json" answers each MCP POST with one JSON message, as the official samples do; "sse" answers with an event stream that also carries the log and progress notifications a tool sends while it runs.')
@allowed([
  'json'
  'sse'
])
param responseMode string = 'json'

@description('Memory of each instance, in MB: 512 (0.25 vCPU), 2048 (1 vCPU) or 4096 (2 vCPU). A server needs 15 to 25 MiB at 16 calls in flight (README "Cost"), so 512; 2048 if the Functions host and server outgrow a quarter core.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

@description('Most concurrent HTTP requests one instance takes before Flex Consumption adds another (1 to 1000). Set explicitly: with runtime python the platform default is 1 request per instance. 16 uses about a quarter of a 512 MB instance\'s CPU; use 64 with 2048 MB.')
@minValue(1)
@maxValue(1000)
param perInstanceConcurrency int = 16

@description('Most instances each app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('The servers to deploy: [{name, graph, auth}], one per folder under servers/.')
param servers array = loadJsonContent('servers.json')

var runtimeVersions = {
  custom: '1.0'
  python: '3.12'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var allAnonymous = toLower(anonymousServerAuth) == 'true'
var preAuthorizedClientIdsArray = empty(preAuthorizedClientIds) ? [] : map(split(preAuthorizedClientIds, ','), id => trim(id))
var appCallerClientIdsArray = filter(map(split(appCallerClientIds, ','), id => trim(id)), id => !empty(id))

// Each server's auth mode: ANONYMOUS_SERVER_AUTH=true makes every server
// anonymous; otherwise its MCP_SERVER_AUTH pair, else its "auth" in
// servers.json, else entra. A pair naming no server, or a mode other than
// entra, key and anonymous (in the pairs or in servers.json), fails the
// deployment with a message saying which and what is allowed. So does a
// pair that makes a server key whose "auth" is not key: key needs host.json
// itself to say "function" (that the host applies the level app setting to
// customHandler is unconfirmed, and shared/auth refuses to start in key
// mode over an anonymous host.json).
var authModes = [
  'entra'
  'key'
  'anonymous'
]
var serverNames = map(servers, s => s.name)
var serverAuthPairs = filter(map(split(serverAuth, ','), p => trim(p)), p => !empty(p))
var serverAuthOverrides = toObject(
  serverAuthPairs,
  p => trim(split(p, '=')[0]),
  p => toLower(trim(join(skip(split(p, '='), 1), '=')))
)
var serverAuthErrors = concat(
  map(
    filter(serverAuthPairs, p => !contains(serverNames, trim(split(p, '=')[0]))),
    p => 'MCP_SERVER_AUTH: "${p}" names no server; the servers are ${join(serverNames, ', ')}'
  ),
  map(
    filter(serverAuthPairs, p => !contains(authModes, toLower(trim(join(skip(split(p, '='), 1), '='))))),
    p => 'MCP_SERVER_AUTH: "${p}" is not name=mode with mode ${join(authModes, ', ')}'
  ),
  map(
    filter(servers, s => (contains(serverAuthOverrides, s.name) ? serverAuthOverrides[s.name] : '') == 'key' && (s.?auth ?? 'entra') != 'key'),
    s => 'MCP_SERVER_AUTH: ${s.name}=key needs "auth": "key" for ${s.name} in infra/servers.json (then go tool mage sync, so that its host.json requires function keys), because an app setting alone may not make the Functions host check keys'
  ),
  map(
    filter(servers, s => !contains(authModes, s.?auth ?? 'entra')),
    s => 'infra/servers.json: server ${s.name} has "auth": "${s.auth}"; allowed values are ${join(authModes, ', ')}'
  )
)
var serverAuthModes = toObject(
  servers,
  s => s.name,
  s => allAnonymous ? 'anonymous' : (contains(serverAuthOverrides, s.name) ? serverAuthOverrides[s.name] : (s.?auth ?? 'entra'))
)

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module logAnalytics 'br/public:avm/res/operational-insights/workspace:0.7.0' = {
  name: 'logAnalytics'
  scope: rg
  params: {
    name: 'log-${resourceToken}'
    location: location
    tags: tags
    dataRetention: 30
  }
}

module monitoring 'br/public:avm/res/insights/component:0.4.1' = {
  name: 'monitoring'
  scope: rg
  params: {
    name: 'appi-${resourceToken}'
    location: location
    tags: tags
    workspaceResourceId: logAnalytics.outputs.resourceId
    disableLocalAuth: true
  }
}

module vnet 'app/vnet.bicep' = if (vnetEnabled) {
  name: 'vnet'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
    appSubnetCount: length(servers)
  }
}

// Each server gets its own identity, storage, plan, app and (in entra
// mode) app registration and Easy Auth from app/server.bicep, so adding a
// server adds no Bicep.
module serverApps 'app/server.bicep' = [
  for (s, i) in servers: {
    name: 'server-${s.name}'
    scope: rg
    params: {
      serverName: s.name
      resourceToken: resourceToken
      location: location
      tags: tags
      callsGraph: s.?graph ?? false
      runtimeName: functionsRuntime
      runtimeVersion: runtimeVersions[functionsRuntime]
      instanceMemoryMB: instanceMemoryMB
      maximumInstanceCount: maximumInstanceCount
      perInstanceConcurrency: perInstanceConcurrency
      applicationInsightsName: monitoring.outputs.name
      deployerPrincipalId: principalId
      deployerPrincipalType: principalType
      virtualNetworkSubnetId: vnetEnabled ? vnet.outputs.appSubnetIds[i] : ''
      privateEndpointSubnetId: vnetEnabled ? vnet.outputs.privateEndpointSubnetId : ''
      blobDnsZoneId: vnetEnabled ? vnet.outputs.blobDnsZoneId : ''
      // fail() (Bicep's flow-control function, evaluated only when the
      // list is not empty) stops the deployment with the messages before
      // any server is deployed. [UNCERTAIN] fail() needs a recent Bicep
      // CLI (azd 1.26 brings its own); an older one says "fail" is not a
      // function at `bicep build`, which `go tool mage up` runs first.
      authMode: empty(serverAuthErrors) ? serverAuthModes[s.name] : fail(join(serverAuthErrors, '; '))
      preAuthorizedClientIds: preAuthorizedClientIdsArray
      appCallerClientIds: appCallerClientIdsArray
      serviceManagementReference: serviceManagementReference
      tokenExchangeAudience: tokenExchangeAudience
      localhostProtection: localhostProtection
      responseMode: responseMode
      requireEasyAuthEnv: requireEasyAuthEnv
    }
  }
]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
@description('Whether any server signs callers in with Entra (auth mode entra).')
output AUTH_ENABLED bool = contains(map(servers, s => serverAuthModes[s.name]), 'entra')
output PRE_AUTHORIZED_CLIENT_IDS string = preAuthorizedClientIds
output ANONYMOUS_SERVER_AUTH string = anonymousServerAuth
@description('Each server\'s auth mode as deployed, {"<name>": "entra" | "key" | "anonymous"} (SERVERS[].auth has the same).')
output SERVER_AUTH_MODES object = serverAuthModes

@description('Per server: azd service name, Function app name, host name, MCP URL, auth mode, and (entra) the app registration, its service principal and the MCP.Invoke app role to grant app-only callers.')
output SERVERS array = [
  for (s, i) in servers: {
    name: s.name
    appName: serverApps[i].outputs.appName
    hostname: serverApps[i].outputs.hostname
    mcpUrl: serverApps[i].outputs.mcpUrl
    auth: serverApps[i].outputs.authMode
    applicationId: serverApps[i].outputs.applicationId
    identifierUri: serverApps[i].outputs.identifierUri
    servicePrincipalId: serverApps[i].outputs.servicePrincipalId
    appRole: serverApps[i].outputs.appRole
    appRoleId: serverApps[i].outputs.appRoleId
  }
]
