// One MCP server: its own managed identity and storage account, its Flex
// Consumption plan and Function app (tagged with the azd service name), and
// unless anonymous, its Entra app registration and Easy Auth (App Service
// Authentication v2) configuration. Nothing here is shared with another
// server except Application Insights, so code in one server cannot act as
// another or read its package.

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

param useEasyAuth bool
param preAuthorizedClientIds array = []
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
  // How the server authenticates callers (shared/auth): Easy Auth in front,
  // or explicitly none for an anonymous deployment.
  MCP_AUTH: useEasyAuth ? 'easyauth' : 'none'
}

var authSettings = useEasyAuth
  ? {
      WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES: '${identifierUri}/user_impersonation'
      OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identity.outputs.clientId
      WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId
      // shared/auth verifies the bearer token again in process: these are
      // its accepted audiences (not relying on the platform to inject
      // WEBSITE_AUTH_CLIENT_ID on Flex) and, as in Easy Auth's policy
      // below, the applications allowed to call.
      MCP_AUTH_AUDIENCES: '${applicationId},${identifierUri}'
      MCP_AUTH_ALLOWED_APPLICATIONS: join(union([applicationId], preAuthorizedClientIds), ',')
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

// Easy Auth answers unauthenticated requests with 401 and the Protected
// Resource Metadata challenge, and checks audience and calling application.
resource easyAuth 'Microsoft.Web/sites/config@2023-12-01' = if (useEasyAuth) {
  parent: site
  name: 'authsettingsV2'
  dependsOn: [
    app
  ]
  properties: {
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
            allowedApplications: union([applicationId], preAuthorizedClientIds)
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
}

output appName string = app.outputs.name
output hostname string = app.outputs.defaultHostname
output mcpUrl string = 'https://${app.outputs.defaultHostname}/mcp'
output identityClientId string = identity.outputs.clientId
output applicationId string = applicationId
output identifierUri string = identifierUri
