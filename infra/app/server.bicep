// One MCP server: its own managed identity and storage account, its Flex
// Consumption plan and Function app (tagged with the azd service name), and
// what its auth mode needs:
//   - entra: its Entra app registration (with the MCP.Invoke app role) and
//     Easy Auth (App Service Authentication v2), MCP_AUTH=easyauth;
//   - key: no Entra and Easy Auth off; the Functions host requires a
//     function key (authorization level function), MCP_AUTH=key;
//   - anonymous: no Entra and Easy Auth off, level anonymous, MCP_AUTH=none.
// Nothing here is shared with another server except Application Insights,
// so code in one server cannot act as another or read its package.

@description('azd service name = folder name under servers/.')
param serverName string
@description('Lower-case letters and digits unique to this azd environment (main.bicep\'s resourceToken).')
param resourceToken string
param location string
param tags object

@description('Whether the server calls Microsoft Graph on behalf of the user (adds the User.Read permission).')
param callsGraph bool = false

param runtimeName string
param runtimeVersion string
param instanceMemoryMB int
param maximumInstanceCount int
param perInstanceConcurrency int

param applicationInsightsName string

@description('Object id and type of the principal running azd, given blob access to this server\'s storage for debugging. Optional.')
param deployerPrincipalId string = ''
param deployerPrincipalType string = 'User'

@description('Subnet the app integrates with; empty without a virtual network.')
param virtualNetworkSubnetId string = ''
@description('Subnet and private DNS zone for the storage account\'s private endpoint; empty without a virtual network.')
param privateEndpointSubnetId string = ''
param blobDnsZoneId string = ''

@description('How the server authenticates callers (infra/servers.json "auth", MCP_SERVER_AUTH): entra (app registration + Easy Auth), key (Functions host keys) or anonymous.')
@allowed([
  'entra'
  'key'
  'anonymous'
])
param authMode string
param preAuthorizedClientIds array = []
@description('Client ids of app-only callers (APP_CALLER_CLIENT_IDS) Easy Auth and the server accept besides the app itself and the pre-authorized clients (entra only).')
param appCallerClientIds array = []
param serviceManagementReference string = ''
param tokenExchangeAudience string = ''
param localhostProtection string = 'on'
param responseMode string = 'json'
param requireEasyAuthEnv string = 'on'

var appName = 'func-${serverName}-${resourceToken}'
var hostname = '${appName}.azurewebsites.net'
var vnetEnabled = !empty(virtualNetworkSubnetId)
var storageAccountName = 'st${uniqueString(resourceToken, serverName)}'
var blobEndpoint = 'https://${storageAccountName}.blob.${environment().suffixes.storage}'
var deploymentContainerName = 'app-package'
var delegatedPermissions = callsGraph ? ['User.Read'] : []
var useEasyAuth = authMode == 'entra'
// MCP_AUTH (shared/auth) and the Functions host's authorization level for
// the custom handler's route, per auth mode. The level is set as an app
// setting on every app, whatever host.json says, so that MCP_SERVER_AUTH
// changes it without a code change; `go tool mage sync` keeps host.json's
// committed default in step with infra/servers.json.
var mcpAuthModes = { entra: 'easyauth', key: 'key', anonymous: 'none' }
var authorizationLevels = { entra: 'anonymous', key: 'function', anonymous: 'anonymous' }

// This server's identity: storage, Application Insights and (through the
// federated credential on this server's app registration only) the client
// assertion of the On-Behalf-Of flow.
module identity 'br/public:avm/res/managed-identity/user-assigned-identity:0.4.1' = {
  name: 'identity-${serverName}'
  params: {
    name: 'id-${serverName}-${resourceToken}'
    location: location
    tags: tags
  }
}

// This server's storage: its deployment package and the Functions host's
// blobs. No shared keys; only this server's identity (and the deployer) has
// a role on it.
module storage 'br/public:avm/res/storage/storage-account:0.8.3' = {
  name: 'storage-${serverName}'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: 'Standard_LRS'
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
      containers: [
        {
          name: deploymentContainerName
        }
      ]
    }
  }
}

module rbac 'rbac.bicep' = {
  name: 'rbac-${serverName}'
  params: {
    storageAccountName: storage.outputs.name
    appInsightsName: applicationInsightsName
    managedIdentityPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

module storagePrivateEndpoint 'storage-private-endpoint.bicep' = if (vnetEnabled) {
  name: 'storage-pe-${serverName}'
  params: {
    serverName: serverName
    storageAccountName: storage.outputs.name
    subnetId: privateEndpointSubnetId
    blobDnsZoneId: blobDnsZoneId
    location: location
    tags: tags
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

module entra 'entra.bicep' = if (useEasyAuth) {
  name: 'entra-${serverName}'
  params: {
    uniqueName: '${appName}-app'
    displayName: 'MCP server ${serverName} (${appName})'
    serviceManagementReference: serviceManagementReference
    functionAppHostname: hostname
    preAuthorizedClientIds: preAuthorizedClientIds
    callsGraph: callsGraph
    managedIdentityPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

// A conditional module's outputs are read only behind its own condition:
// ARM evaluates reference() in a resource's properties even when that
// resource is not deployed (Azure/bicep#3990), so an unguarded read fails an
// anonymous deployment with DeploymentNotFound.
var applicationId = useEasyAuth ? entra.outputs.applicationId : ''
var identifierUri = useEasyAuth ? entra.outputs.identifierUri : ''
var servicePrincipalId = useEasyAuth ? entra.outputs.servicePrincipalId : ''
var appRole = useEasyAuth ? entra.outputs.appRole : ''
var appRoleId = useEasyAuth ? entra.outputs.appRoleId : ''
// The client applications Easy Auth and the server let call: the app
// itself, the pre-authorized clients (VS Code, ...) and the app-only
// callers.
var allowedApplications = union([applicationId], preAuthorizedClientIds, appCallerClientIds)

// Flex Consumption allows one app per plan.
module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan-${serverName}'
  params: {
    name: 'plan-${serverName}-${resourceToken}'
    location: location
    tags: tags
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
    reserved: true
  }
}

var baseSettings = {
  // Lets a Flex app whose runtime is a language stack run a custom handler
  // (the path every official sample takes); harmless with runtime custom.
  AzureWebJobsFeatureFlags: 'EnableMcpCustomHandlerPreview'
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.outputs.clientId
  AzureWebJobsStorage__blobServiceUri: blobEndpoint
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.outputs.clientId};Authorization=AAD'
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  MCP_LOCALHOST_PROTECTION: localhostProtection
  MCP_RESPONSE_MODE: responseMode
  // How the server authenticates callers (shared/auth): Easy Auth in front
  // (entra), the host's function keys (key), or explicitly none.
  MCP_AUTH: mcpAuthModes[authMode]
  // The documented override of a host.json value by an app setting
  // (AzureFunctionsJobHost__path__to__setting), here
  // customHandler.http.DefaultAuthorizationLevel: function makes the host
  // answer 401 to requests without a function key (x-functions-key header
  // or code query parameter). [UNCERTAIN] The Functions documentation
  // shows the override for other host.json sections; that the host applies
  // it to the customHandler section has not been confirmed on Flex
  // Consumption. Check after deploying a key-mode server: `curl -i
  // https://<host>/mcp -X POST` must answer 401, and 200 with `-H
  // "x-functions-key: $(az functionapp keys list -g <rg> -n <app> --query
  // functionKeys.default -o tsv)"` and an MCP initialize body. If it
  // answers without a key, host.json decides: `go tool mage sync` writes
  // the level from infra/servers.json there, so set "auth" in that file
  // rather than MCP_SERVER_AUTH. shared/auth refuses to start in key mode
  // when it sees the level anonymous in either place.
  AzureFunctionsJobHost__customHandler__http__DefaultAuthorizationLevel: authorizationLevels[authMode]
}

var authSettings = useEasyAuth
  ? {
      WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES: '${identifierUri}/user_impersonation'
      OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identity.outputs.clientId
      WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId
      // shared/auth verifies the bearer token again in process: these are
      // its accepted audiences (not relying on the platform to inject
      // WEBSITE_AUTH_CLIENT_ID on Flex), as in Easy Auth's policy below the
      // applications allowed to call, and the app role an app-only token
      // (no user) must carry.
      MCP_AUTH_AUDIENCES: '${applicationId},${identifierUri}'
      MCP_AUTH_ALLOWED_APPLICATIONS: join(allowedApplications, ',')
      // Delegated tokens need the scope, app-only ones the role: with
      // roles alone, shared/auth would ask users for the role too.
      MCP_AUTH_SCOPES: '${identifierUri}/user_impersonation'
      MCP_AUTH_ROLES: appRole
      MCP_REQUIRE_EASYAUTH_ENV: requireEasyAuthEnv
    }
  : {}

var tokenExchangeSettings = empty(tokenExchangeAudience) ? {} : { TokenExchangeAudience: tokenExchangeAudience }

module app 'br/public:avm/res/web/site:0.15.1' = {
  name: 'app-${serverName}'
  dependsOn: [
    rbac
    // The host fails to start if the app comes up before the storage
    // private endpoint it deploys from.
    storagePrivateEndpoint
  ]
  params: {
    kind: 'functionapp,linux'
    name: appName
    location: location
    tags: union(tags, { 'azd-service-name': serverName })
    serverFarmResourceId: plan.outputs.resourceId
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [identity.outputs.resourceId]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}/${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.outputs.resourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        triggers: {
          http: {
            perInstanceConcurrency: perInstanceConcurrency
          }
        }
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
    // The module's default siteConfig turns alwaysOn on, which Flex
    // Consumption does not accept ("not valid" among its deprecations);
    // the official samples pass it off, as here.
    siteConfig: {
      alwaysOn: false
    }
    virtualNetworkSubnetId: vnetEnabled ? virtualNetworkSubnetId : null
    appSettingsKeyValuePairs: union(baseSettings, authSettings, tokenExchangeSettings)
  }
}

resource site 'Microsoft.Web/sites@2023-12-01' existing = {
  name: appName
}

// Easy Auth off (key, anonymous).
var easyAuthOff = {
  platform: {
    enabled: false
  }
}

// Easy Auth on (entra).
var easyAuthOn = {
  globalValidation: {
    requireAuthentication: true
    unauthenticatedClientAction: 'Return401'
    redirectToProvider: 'azureactivedirectory'
  }
  httpSettings: {
    requireHttps: true
    routes: {
      apiPrefix: '/.auth'
    }
    forwardProxy: {
      convention: 'NoProxy'
    }
  }
  identityProviders: {
    azureActiveDirectory: {
      enabled: true
      registration: {
        openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        clientId: applicationId
        // The managed identity's federated credential stands in for a secret.
        clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
      }
      login: {
        loginParameters: [
          trim('scope=openid profile email ${join(delegatedPermissions, ' ')}')
        ]
      }
      validation: {
        jwtClaimChecks: {}
        allowedAudiences: [
          identifierUri
        ]
        defaultAuthorizationPolicy: {
          allowedPrincipals: {}
          allowedApplications: allowedApplications
        }
      }
      isAutoProvisioned: false
    }
  }
  login: {
    routes: {
      logoutEndpoint: '/.auth/logout'
    }
    // Off: nothing reads the X-MS-TOKEN-* headers the store feeds, and it
    // would keep every caller's tokens for days for no reason.
    tokenStore: {
      enabled: false
    }
    preserveUrlFragmentsForLogins: false
    allowedExternalRedirectUrls: []
    cookieExpiration: {
      convention: 'FixedTime'
      timeToExpiration: '08:00:00'
    }
    nonce: {
      validateNonce: true
      nonceExpirationInterval: '00:05:00'
    }
  }
  platform: {
    enabled: true
    runtimeVersion: '~1'
  }
}

// Easy Auth answers unauthenticated requests with 401 and the Protected
// Resource Metadata challenge, and checks audience and calling application.
// In the other modes it is turned off explicitly rather than left out: ARM
// deploys incrementally, so a server switched from entra to key or
// anonymous would otherwise keep the Easy Auth of its earlier deployment
// and answer 401 to every caller.
resource easyAuth 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: site
  name: 'authsettingsV2'
  dependsOn: [
    app
  ]
  properties: useEasyAuth ? easyAuthOn : easyAuthOff
}

output appName string = app.outputs.name
output hostname string = app.outputs.defaultHostname
output mcpUrl string = 'https://${app.outputs.defaultHostname}/mcp'
output identityClientId string = identity.outputs.clientId
output applicationId string = applicationId
output identifierUri string = identifierUri
output authMode string = authMode
output servicePrincipalId string = servicePrincipalId
output appRole string = appRole
output appRoleId string = appRoleId
