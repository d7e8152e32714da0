// One MCP server: its Flex Consumption plan and Function app (tagged with the
// azd service name), and unless anonymous, its Entra app registration and
// Easy Auth (App Service Authentication v2) configuration.

@description('azd service name = folder name under servers/.')
param serverName string
param appName string
param planName string
param location string
param tags object

@description('Whether the server calls Microsoft Graph on behalf of the user (adds the User.Read permission).')
param callsGraph bool = false

param runtimeName string
param runtimeVersion string
param instanceMemoryMB int
param maximumInstanceCount int

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

param identityId string
param identityClientId string
param identityPrincipalId string

param virtualNetworkSubnetId string = ''

param useEasyAuth bool
param preAuthorizedClientIds array = []
param serviceManagementReference string = ''
param tokenExchangeAudience string = ''
param localhostProtection string = 'on'
param responseMode string = 'json'

var hostname = '${appName}.azurewebsites.net'
var delegatedPermissions = callsGraph ? ['User.Read'] : []

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
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
    managedIdentityPrincipalId: identityPrincipalId
    tags: tags
  }
}

// Flex Consumption allows one app per plan.
module plan 'br/public:avm/res/web/serverfarm:0.1.1' = {
  name: 'plan-${serverName}'
  params: {
    name: planName
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
  // Lets a Flex app whose runtime is a language stack run a custom handler;
  // harmless with the custom runtime.
  AzureWebJobsFeatureFlags: 'EnableMcpCustomHandlerPreview'
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageAccount.properties.primaryEndpoints.blob
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  MCP_LOCALHOST_PROTECTION: localhostProtection
  MCP_RESPONSE_MODE: responseMode
  // How the server authenticates callers (shared/auth): Easy Auth in front,
  // or explicitly none for an anonymous deployment.
  MCP_AUTH: useEasyAuth ? 'easyauth' : 'none'
}

var authSettings = useEasyAuth
  ? {
      WEBSITE_AUTH_PRM_DEFAULT_WITH_SCOPES: '${entra.outputs.identifierUri}/user_impersonation'
      OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
      WEBSITE_AUTH_AAD_ALLOWED_TENANTS: tenant().tenantId
    }
  : {}

var tokenExchangeSettings = empty(tokenExchangeAudience) ? {} : { TokenExchangeAudience: tokenExchangeAudience }

module app 'br/public:avm/res/web/site:0.15.1' = {
  name: 'app-${serverName}'
  params: {
    kind: 'functionapp,linux'
    name: appName
    location: location
    tags: union(tags, { 'azd-service-name': serverName })
    serverFarmResourceId: plan.outputs.resourceId
    managedIdentities: {
      systemAssigned: false
      userAssignedResourceIds: [identityId]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
    siteConfig: {
      alwaysOn: false
    }
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    appSettingsKeyValuePairs: union(baseSettings, authSettings, tokenExchangeSettings)
  }
}

// Easy Auth answers unauthenticated requests with 401 and the Protected
// Resource Metadata challenge, and checks audience and calling application.
resource easyAuth 'Microsoft.Web/sites/config@2023-12-01' = if (useEasyAuth) {
  name: '${appName}/authsettingsV2'
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
          clientId: entra.outputs.applicationId
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
            entra.outputs.identifierUri
          ]
          defaultAuthorizationPolicy: {
            allowedPrincipals: {}
            allowedApplications: union([entra.outputs.applicationId], preAuthorizedClientIds)
          }
        }
        isAutoProvisioned: false
      }
    }
    login: {
      routes: {
        logoutEndpoint: '/.auth/logout'
      }
      tokenStore: {
        enabled: true
        tokenRefreshExtensionHours: 72
        fileSystem: {}
        azureBlobStorage: {}
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
output applicationId string = useEasyAuth ? entra.outputs.applicationId : ''
output identifierUri string = useEasyAuth ? entra.outputs.identifierUri : ''
