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
@description('Region for all resources. Flex Consumption must be available there.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the user running azd, for data-plane access to storage and Application Insights while debugging. Optional.')
param principalId string = ''

@description('Put storage behind a private endpoint and integrate every app with a virtual network.')
param vnetEnabled bool = false

@description('Service or asset management reference for the Entra app registrations (required in some tenants, including Microsoft\'s).')
param serviceManagementReference string = ''

@description('Comma-separated client ids to pre-authorize for every server\'s user_impersonation scope, e.g. VS Code: aebc6443-996d-45c2-90f0-388ff96faa56.')
param preAuthorizedClientIds string = ''

@description('Audience of the managed identity\'s token exchange; only for sovereign clouds. Default api://AzureADTokenExchange.')
param tokenExchangeAudience string = ''

@description('"true" deploys every server without Easy Auth: anyone who knows the URL can call it.')
param anonymousServerAuth string = ''

@description('Flex Consumption runtime stack. "custom" is the custom-handler runtime; "python" is the fallback the official samples use, where the EnableMcpCustomHandlerPreview flag switches the worker to custom.')
@allowed([
  'custom'
  'python'
])
param functionsRuntime string = 'custom'

@description('MCP_LOCALHOST_PROTECTION app setting of every server: "off" only if a deployed app answers 403 "invalid Host header".')
@allowed([
  'on'
  'off'
])
param localhostProtection string = 'on'

@description('MCP_RESPONSE_MODE app setting of every server: "json" answers each MCP POST with one JSON message, as the official samples do; "sse" answers with an event stream that also carries the log and progress notifications a tool sends while it runs.')
@allowed([
  'json'
  'sse'
])
param responseMode string = 'json'

@description('Memory per instance, in MB.')
param instanceMemoryMB int = 2048

@description('Most instances each app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('The servers to deploy: [{name, graph}], one per folder under servers/.')
param servers array = loadJsonContent('servers.json')

var runtimeVersions = {
  custom: '1.0'
  python: '3.12'
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var useEasyAuth = toLower(anonymousServerAuth) != 'true'
var preAuthorizedClientIdsArray = empty(preAuthorizedClientIds) ? [] : map(split(preAuthorizedClientIds, ','), id => trim(id))
var appNames = [for s in servers: 'func-${s.name}-${resourceToken}']
// Blob container names allow no '--': take() can end on the hyphen before
// the token (a 26-character server name), so collapse it.
var containerNames = [for (s, i) in servers: replace('app-package-${take(appNames[i], 32)}-${take(uniqueString(appNames[i], resourceToken), 7)}', '--', '-')]

resource rg 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// One user-assigned identity for all apps: storage, Application Insights, and
// (through a federated credential on each app registration) the client
// assertion of the On-Behalf-Of flow.
module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-mcp-${resourceToken}'
    location: location
    tags: tags
  }
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

// Deployment packages: one container per app, no shared keys.
module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    dnsEndpointType: 'Standard'
    minimumTlsVersion: 'TLS1_2'
    publicNetworkAccess: vnetEnabled ? 'Disabled' : 'Enabled'
    networkAcls: vnetEnabled
      ? {
          defaultAction: 'Deny'
          bypass: 'None'
        }
      : {
          defaultAction: 'Allow'
          bypass: 'AzureServices'
        }
    blobServices: {
      containers: [for name in containerNames: { name: name }]
    }
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.name
    managedIdentityPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
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

module storagePrivateEndpoint 'app/storage-private-endpoint.bicep' = if (vnetEnabled) {
  name: 'storagePrivateEndpoint'
  scope: rg
  params: {
    location: location
    tags: tags
    virtualNetworkName: vnetEnabled ? vnet.outputs.name : ''
    subnetName: vnetEnabled ? vnet.outputs.privateEndpointSubnetName : ''
    storageAccountName: storage.outputs.name
  }
}

module serverApps 'app/server.bicep' = [
  for (s, i) in servers: {
    name: 'server-${s.name}'
    scope: rg
    // The host fails to start if the app comes up before the storage
    // private endpoint it deploys from.
    dependsOn: [
      rbac
      storagePrivateEndpoint
    ]
    params: {
      serverName: s.name
      appName: appNames[i]
      planName: 'plan-${s.name}-${resourceToken}'
      location: location
      tags: tags
      callsGraph: s.?graph ?? false
      runtimeName: functionsRuntime
      runtimeVersion: runtimeVersions[functionsRuntime]
      instanceMemoryMB: instanceMemoryMB
      maximumInstanceCount: maximumInstanceCount
      storageAccountName: storage.outputs.name
      deploymentContainerName: containerNames[i]
      applicationInsightsName: monitoring.outputs.name
      identityId: identity.outputs.resourceId
      identityClientId: identity.outputs.clientId
      identityPrincipalId: identity.outputs.principalId
      virtualNetworkSubnetId: vnetEnabled ? vnet.outputs.appSubnetIds[i] : ''
      useEasyAuth: useEasyAuth
      preAuthorizedClientIds: preAuthorizedClientIdsArray
      serviceManagementReference: serviceManagementReference
      tokenExchangeAudience: tokenExchangeAudience
      localhostProtection: localhostProtection
      responseMode: responseMode
    }
  }
]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output AUTH_ENABLED bool = useEasyAuth
output PRE_AUTHORIZED_CLIENT_IDS string = preAuthorizedClientIds
output ANONYMOUS_SERVER_AUTH string = anonymousServerAuth

@description('Per server: azd service name, Function app name, host name, MCP URL, and (with Easy Auth) the app registration.')
output SERVERS array = [
  for (s, i) in servers: {
    name: s.name
    appName: serverApps[i].outputs.appName
    hostname: serverApps[i].outputs.hostname
    mcpUrl: serverApps[i].outputs.mcpUrl
    applicationId: serverApps[i].outputs.applicationId
    identifierUri: serverApps[i].outputs.identifierUri
  }
]
